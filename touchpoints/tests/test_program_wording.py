"""
What a program's message says and carries: the default wording, escaping in the HTML part, the
one-click unsubscribe on every program's message, and the Programs page's preview being the very
message a scan writes.
"""

import datetime
import importlib

import pytest
from django.core import mail
from django.test import Client

from customers.models import Contact, Customer
from customers.tests.factories import KeyDateFactory, PurchaseFactory
from touchpoints.messaging import defaults
from touchpoints.messaging.composing import build_email
from touchpoints.messaging.scans import programs_scan, thank_you_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.messaging.wording import program_preview
from touchpoints.models import EmailSignature, OutboxMessage, Program
from touchpoints.tests.program_customers import DAY, UTC, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail", "on_scan_day")]


def as_fields(program):
    return {field: getattr(program, field) for field in ("enabled", "send_hour", "days", "subject", "body")}


def test_the_data_migration_installs_the_default_wording():
    # Running code reads defaults.py; the migration keeps its frozen copy. They must not drift.
    frozen = importlib.import_module("touchpoints.migrations.0003_default_programs_and_targets")
    installed = {
        key: {"enabled": enabled, "send_hour": hour, "days": days, "subject": subject, "body": body}
        for key, enabled, hour, days, subject, body in frozen.PROGRAMS
    }

    assert installed == defaults.PROGRAMS
    programs = Program.objects.filter(key__in=list(defaults.PROGRAMS))  # the surveys app adds its own
    assert {program.key: as_fields(program) for program in programs} == defaults.PROGRAMS


def test_html_part_escapes_what_customers_typed(north, alice):
    customer(
        north,
        alice,
        name="<script>alert(1)</script> & Co",
        contact_name="<b>Dana</b> Scully",
        customer_since=datetime.date(2020, 3, 10),
    )

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get(program="anniversary")
    assert "<script>" not in message.body_html and "<b>" not in message.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co became our customer" in message.body_html
    assert "Hello &lt;b&gt;Dana&lt;/b&gt;," in message.body_html
    # The plain-text part is text: nothing to escape, nothing escaped.
    assert "<script>alert(1)</script> & Co became our customer" in message.body_text


@pytest.mark.parametrize("owned", [True, False])
def test_the_preview_is_the_message_the_scan_writes(north, alice, owned):
    # The preview and the outbox build From, the footer and the HTML part in one place each.
    EmailSignature.objects.create(user=alice, text="Alice Archer\nKey accounts")
    buyer = customer(north, alice if owned else None, birthday=(3, 10), name="Acme & Sons")
    program = Program.objects.get(key="birthday")

    programs_scan(on_date=DAY)
    preview = program_preview(subject=program.subject, body=program.body, customer=buyer)

    message = OutboxMessage.objects.get()
    email = build_email(message)
    assert (preview["subject"], preview["text"], preview["html"]) == (
        message.subject, message.body_text, message.body_html)
    assert preview["from"] == email.from_email == (
        "Alice Archer <retention@example.com>" if owned else "Retention <retention@example.com>")
    assert [preview["to"]] == email.to == ["dana@example.com"]
    reply_to = [preview["reply_to"]] if preview["reply_to"] else []
    assert reply_to == email.reply_to == ([alice.email] if owned else [])
    assert ("Key accounts" in message.body_text) == owned


def test_every_programs_message_carries_one_click_unsubscribe(north, alice, time_machine, settings):
    settings.OUTBOX_DAILY_CAP = 10  # every program's message to the same contact, the same day
    time_machine.move_to(datetime.datetime(2026, 3, 10, 12, 0, tzinfo=UTC), tick=False)
    north.automated_checkins = True
    north.save()
    buyer = customer(
        north,
        alice,
        birthday=(3, 10),
        customer_since=datetime.date(2020, 3, 10),
        next_checkin_due=datetime.date(2026, 3, 1),
    )
    KeyDateFactory(customer=buyer, name="Founding day", date=datetime.date(2000, 3, 10))
    PurchaseFactory(customer=buyer, date=datetime.date(2026, 3, 3))
    newcomer = customer(north, alice, customer_since=None, email="new@example.com")
    Customer.objects.filter(pk=newcomer.pk).update(
        status_changed_at=datetime.datetime(2026, 3, 10, 11, 30, tzinfo=UTC)
    )

    programs_scan()
    thank_you_scan()
    outbox_send(list(OutboxMessage.objects.values_list("pk", flat=True)))

    programs = {"checkin", "thank_you", "birthday", "anniversary", "key_date", "post_purchase"}
    assert set(OutboxMessage.objects.values_list("program", flat=True)) == programs
    assert len(mail.outbox) == 6
    for email in mail.outbox:
        message = email.message()  # as it goes on the wire
        contact = OutboxMessage.objects.get(occasion_ref=message["X-Retention-Occasion"]).contact
        url = f"https://retention.example.com/u/{contact.unsubscribe_token}/"
        assert message["List-Unsubscribe"] == f"<{url}>", message["X-Retention-Occasion"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = email.body, email.alternatives[0][0]
        assert url in text and f'href="{url}"' in html

    # The one click a mail client makes: a POST with no cookie and no CSRF token.
    url = mail.outbox[0].message()["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("https://retention.example.com")
    assert Client(enforce_csrf_checks=True).get(path).status_code == 200
    contact = Contact.objects.get(unsubscribe_token=path.split("/")[2])
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None  # the GET only asks
    assert Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None
