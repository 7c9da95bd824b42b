"""
The automated programs' scans: who gets what, on which local date, at which hour, once.

Messages are written to the outbox by the scan and sent by ``outbox_sweep``/``outbox_send`` with
Django's locmem backend (the SMTP edge); the worker and SMTP tests are in test_outbox_delivery.py.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from customers.models import Contact, Customer
from customers.services import customer_create, customer_update
from customers.tests.factories import ContactFactory, CustomerFactory, KeyDateFactory, PurchaseFactory
from touchpoints.messaging.ledger import outbox_sweep
from touchpoints.messaging.scans import programs_scan, thank_you_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.models import EmailSignature, FollowUp, OutboxMessage, Program

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def locmem(mail_locmem, settings):
    settings.SITE_URL = "https://retention.example.com"
    settings.DEFAULT_FROM_EMAIL = "Retention <retention@example.com>"


def customer(
    team, owner, *, tz="UTC", email="dana@example.com", contact_name="Dana Scully", birthday=None, **fields
):
    fields.setdefault("customer_since", datetime.date(2020, 6, 15))
    fields.setdefault("next_checkin_due", datetime.date(2030, 1, 1))
    buyer = CustomerFactory(team=team, owner=owner, timezone=tz, **fields)
    month, day = birthday or (None, None)
    ContactFactory(
        customer=buyer,
        name=contact_name,
        email=email,
        is_primary=True,
        birthday_month=month,
        birthday_day=day,
    )
    return buyer


def keys(program=None):
    rows = OutboxMessage.objects.all()
    if program:
        rows = rows.filter(program=program)
    return sorted(rows.values_list("occasion_key", flat=True))


# Time zones and dates ----------------------------------------------------------------------------


def test_each_customer_is_greeted_on_its_own_local_date_at_nine(north, alice, time_machine):
    # 2026-03-10 11:00 UTC is already 00:00 on the 11th in Auckland (UTC+13) and 01:00 on the
    # 10th in Honolulu (UTC-10): the same UTC day, two different local dates.
    time_machine.move_to(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=UTC), tick=False)
    auckland = customer(north, alice, tz="Pacific/Auckland", birthday=(3, 11), email="kiri@example.nz")
    honolulu = customer(north, alice, tz="Pacific/Honolulu", birthday=(3, 10), email="leilani@example.com")
    not_yet = customer(north, alice, tz="Pacific/Honolulu", birthday=(3, 11), email="later@example.com")

    programs_scan()

    by_customer = {m.customer_id: m for m in OutboxMessage.objects.filter(program="birthday")}
    assert set(by_customer) == {auckland.pk, honolulu.pk}
    # 09:00 local, in UTC.
    assert by_customer[auckland.pk].send_after == datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert by_customer[honolulu.pk].send_after == datetime.datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    assert by_customer[auckland.pk].occasion_key.endswith(":2026")
    assert not_yet.pk not in by_customer

    assert outbox_sweep() == [] and not mail.outbox  # nobody is greeted before nine, local time

    time_machine.move_to(datetime.datetime(2026, 3, 10, 19, 0, tzinfo=UTC), tick=False)
    outbox_sweep()
    assert [m.to for m in mail.outbox] == [["leilani@example.com"]]

    time_machine.move_to(datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC), tick=False)
    outbox_sweep()
    assert [m.to for m in mail.outbox] == [["leilani@example.com"], ["kiri@example.nz"]]
    sent = OutboxMessage.objects.get(customer=auckland)
    assert sent.status == "sent" and sent.sent_at == datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


def test_the_send_hour_is_the_programs(north, alice):
    Program.objects.filter(key="birthday").update(send_hour=14)
    customer(north, alice, tz="Europe/Berlin", birthday=(3, 10))

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get()
    assert message.send_after == datetime.datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 14:00 CET


@pytest.mark.parametrize(
    ("on_date", "greeted"),
    [
        (datetime.date(2027, 2, 28), True),  # not a leap year: the 28th stands in for the 29th
        (datetime.date(2027, 3, 1), False),
        (datetime.date(2028, 2, 28), False),  # a leap year: wait for the day itself
        (datetime.date(2028, 2, 29), True),
    ],
)
def test_a_leap_day_birthday_is_greeted_on_the_28th_in_other_years(north, alice, on_date, greeted):
    customer(north, alice, birthday=(2, 29))

    programs_scan(on_date=on_date)

    assert bool(keys("birthday")) == greeted


def test_a_leap_day_customer_celebrates_its_anniversary_on_the_28th(north, alice):
    customer(north, alice, customer_since=datetime.date(2024, 2, 29))

    programs_scan(on_date=datetime.date(2025, 2, 28))

    message = OutboxMessage.objects.get(program="anniversary")
    assert message.subject == "1 year together"


# Who gets nothing ------------------------------------------------------------------------------


def test_archived_churned_and_prospect_customers_get_nothing(north, alice):
    archived = customer(north, alice, birthday=(3, 10), email="a@example.com")
    archived.archived_at = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    archived.save()
    customer(north, alice, birthday=(3, 10), email="c@example.com", status=Customer.Status.CHURNED)
    customer(north, alice, birthday=(3, 10), email="p@example.com", status=Customer.Status.PROSPECT)
    kept = customer(north, alice, birthday=(3, 10), email="k@example.com", status=Customer.Status.INACTIVE)

    programs_scan(on_date=DAY)

    assert list(OutboxMessage.objects.values_list("customer", flat=True)) == [kept.pk]


def test_a_contact_without_email_gets_nothing(north, alice):
    customer(north, alice, birthday=(3, 10), email="")

    programs_scan(on_date=DAY)

    assert not OutboxMessage.objects.exists()


def test_an_unsubscribed_contact_is_recorded_as_suppressed_and_never_sent(north, alice):
    buyer = customer(north, alice, birthday=(3, 10))
    buyer.contacts.update(unsubscribed_at=datetime.datetime(2026, 1, 1, tzinfo=UTC))

    report = programs_scan(on_date=DAY)

    assert report.counts["birthday"] == {
        "queued": 0,
        "already decided": 0,
        "suppressed": 1,
        "lost to a concurrent scan": 0,
    }
    message = OutboxMessage.objects.get()
    assert message.status == "suppressed"  # recorded as such when decided
    assert outbox_sweep() == [] and not mail.outbox


def test_a_program_switched_off_sends_nothing(north, alice):
    Program.objects.filter(key="birthday").update(enabled=False)
    customer(north, alice, birthday=(3, 10))

    programs_scan(on_date=DAY)

    assert not OutboxMessage.objects.exists()


# Once per occasion -----------------------------------------------------------------------------


def test_the_scan_run_twice_greets_once(north, alice):
    customer(north, alice, birthday=(3, 10))

    first = programs_scan(on_date=DAY)
    second = programs_scan(on_date=DAY)
    outbox_sweep()
    outbox_sweep()

    assert first.counts["birthday"]["queued"] == 1 and second.counts["birthday"]["queued"] == 0
    assert second.counts["birthday"]["already decided"] == 1
    assert keys() == [f"birthday:{OutboxMessage.objects.get().contact_id}:2026"]
    assert len(mail.outbox) == 1


# Each program -------------------------------------------------------------------------------------


def test_the_checkin_email_needs_the_team_and_the_customer_to_allow_it(north, south, alice, charlie):
    north.automated_checkins = True
    north.save()
    due = customer(north, alice, next_checkin_due=datetime.date(2026, 3, 1))
    customer(
        north,
        alice,
        next_checkin_due=datetime.date(2026, 3, 1),
        allow_automated_checkins=False,
        email="no@example.com",
    )
    customer(south, charlie, next_checkin_due=datetime.date(2026, 3, 1), email="south@example.com")
    customer(north, alice, next_checkin_due=datetime.date(2026, 3, 11), email="later@example.com")

    programs_scan(on_date=DAY)

    assert keys() == [f"checkin:{due.pk}:2026-03-01"]
    message = OutboxMessage.objects.get()
    assert message.subject == "How are things going, Dana?" and message.sender == alice


def test_the_anniversary_counts_the_years_and_skips_the_first_year(north, alice):
    five = customer(north, alice, customer_since=datetime.date(2021, 3, 10), email="five@example.com")
    customer(north, alice, customer_since=datetime.date(2026, 3, 10), email="new@example.com")

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get(program="anniversary")
    assert message.occasion_key == f"anniversary:{five.pk}:2026"
    assert message.subject == "5 years together" and "5 years since" in message.body_text


def test_key_dates_go_to_their_contact_or_the_primary_one(north, alice):
    buyer = customer(north, alice)
    partner = ContactFactory(customer=buyer, name="Walter Skinner", email="walter@example.com")
    yearly = KeyDateFactory(
        customer=buyer, contact=partner, name="Founding day", date=datetime.date(2001, 3, 10)
    )
    once = KeyDateFactory(customer=buyer, name="Opening of the new plant", recurrence="once", date=DAY)
    KeyDateFactory(
        customer=buyer, name="Last year's fair", recurrence="once", date=datetime.date(2025, 3, 10)
    )

    programs_scan(on_date=DAY)

    messages = {m.occasion_key: m for m in OutboxMessage.objects.filter(program="key_date")}
    assert set(messages) == {f"key_date:{yearly.pk}:2026", f"key_date:{once.pk}:2026"}
    assert messages[f"key_date:{yearly.pk}:2026"].to == "walter@example.com"
    assert messages[f"key_date:{once.pk}:2026"].to == "dana@example.com"
    assert messages[f"key_date:{once.pk}:2026"].subject == "Opening of the new plant"


def test_the_post_purchase_follow_up_waits_the_programs_days(north, alice):
    Program.objects.filter(key="post_purchase").update(days=3)
    buyer = customer(north, alice)
    purchase = PurchaseFactory(customer=buyer, date=datetime.date(2026, 3, 7), description="a blue widget")
    PurchaseFactory(customer=buyer, date=datetime.date(2026, 3, 9), description="too recent")

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get(program="post_purchase")
    assert message.occasion_key == f"post_purchase:{purchase.pk}"
    assert "a blue widget" in message.body_text


def test_card_reminders_for_customers_worth_a_card_come_a_week_ahead(north, alice, settings):
    settings.CARD_WORTHY_VALUE = 10_000
    vip = customer(north, alice, birthday=(3, 17), email="vip@example.com")
    vip.tags.create(name="VIP")
    rich = customer(
        north,
        alice,
        customer_since=datetime.date(2016, 3, 17),
        email="rich@example.com",
        lifetime_value=Decimal("25000"),
    )
    customer(north, alice, birthday=(3, 17), email="ordinary@example.com", lifetime_value=Decimal("50"))

    programs_scan(on_date=DAY)
    programs_scan(on_date=DAY)

    cards = FollowUp.objects.filter(kind=FollowUp.Kind.CARD).order_by("occasion_key")
    assert [(c.customer, c.assignee, c.due_on) for c in cards] == [(vip, alice, DAY), (rich, alice, DAY)]
    assert cards[0].occasion_key == f"card:contact{vip.contacts.get().pk}:2026-03-17"
    assert cards[1].occasion_key == f"card:customer{rich.pk}:2026-03-17"
    assert "10 years" in cards[1].title
    assert not OutboxMessage.objects.exists()  # a reminder for the owner, not an email


def test_a_new_customer_is_thanked_at_once_by_its_owner(north, alice):
    EmailSignature.objects.create(user=alice, text="Alice Archer, Key accounts")
    prospect = customer_create(
        user=alice, team=north, name="Initech", status=Customer.Status.PROSPECT, customer_since=None
    )
    ContactFactory(customer=prospect, name="Peter Gibbons", email="peter@initech.example", is_primary=True)
    thank_you_scan()
    assert not OutboxMessage.objects.exists()  # a prospect is not a customer yet

    customer_update(customer=prospect, user=alice, data={"status": "active"}, version=prospect.version)
    thank_you_scan()
    thank_you_scan()
    outbox_sweep()

    message = OutboxMessage.objects.get()
    assert message.program == "thank_you" and message.status == "sent"
    assert message.touchpoint.customer == prospect  # on the timeline
    email = mail.outbox[0]
    assert email.from_email == "Alice Archer <retention@example.com>"
    assert email.reply_to == [alice.email] and email.to == ["peter@initech.example"]
    assert "Alice Archer, Key accounts" in email.body and email.subject == "Thank you, Peter"


def test_an_old_customer_made_active_again_is_not_thanked_as_new(north, alice):
    old = customer(north, alice, status=Customer.Status.INACTIVE, customer_since=datetime.date(2019, 1, 1))
    customer_update(customer=old, user=alice, data={"status": "active"}, version=old.version)

    thank_you_scan()

    assert not OutboxMessage.objects.exists()


# Wording ---------------------------------------------------------------------------------------


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


# The command -------------------------------------------------------------------------------------


def test_run_daily_jobs_dry_run_lists_and_writes_nothing(north, alice, capsys):
    buyer = customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat(), dry_run=True)

    out = capsys.readouterr().out
    assert f"would send  birthday:{buyer.contacts.get().pk}:2026  to dana@example.com" in out
    assert "2026-03-10 09:00 UTC" in out and "birthday: 1 would be queued; nothing was changed." in out
    assert not OutboxMessage.objects.exists() and not FollowUp.objects.exists()


def test_run_daily_jobs_writes_the_messages(north, alice, capsys):
    customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat())

    assert "birthday: 1 queued." in capsys.readouterr().out
    assert keys("birthday")


# Consent on the real messages of every program ---------------------------------------------------


def test_every_programs_message_carries_one_click_unsubscribe(north, alice, time_machine):
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
        contact = OutboxMessage.objects.get(occasion_key=message["X-Retention-Occasion"]).contact
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


# The schedule ------------------------------------------------------------------------------------


def test_the_scans_are_scheduled_hourly_and_the_thank_you_every_ten_minutes():
    from retention.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    hourly = schedule["touchpoints.tasks.program_scan"]
    ten_minutes = schedule["touchpoints.tasks.thank_you_scan"]
    assert hourly.hour == set(range(24)) and len(hourly.minute) == 1
    assert ten_minutes.hour == set(range(24)) and ten_minutes.minute == set(range(0, 60, 10))


def test_the_scan_tasks_run_the_scans(north, alice):
    from touchpoints.tasks import program_scan, thank_you_scan

    customer(north, alice, birthday=(3, 10))

    result = program_scan.delay(DAY.isoformat()).get()

    assert result["birthday"]["queued"] == 1 and keys("birthday")
    assert thank_you_scan.delay().get() == {"thank_you": {"queued": 0}}


def test_with_every_contact_as_audience_each_contact_with_email_is_greeted_once(north, alice):
    Program.objects.filter(key__in=["anniversary", "key_date"]).update(audience="all")
    buyer = customer(north, alice, customer_since=datetime.date(2021, 3, 10))
    second = ContactFactory(customer=buyer, name="Fox Mulder", email="fox@example.com")
    ContactFactory(customer=buyer, name="No Email", email="")
    own = KeyDateFactory(customer=buyer, contact=second, name="Fox's day", date=datetime.date(2001, 3, 10))

    programs_scan(on_date=DAY)
    programs_scan(on_date=DAY)

    primary = buyer.contacts.get(is_primary=True)
    assert sorted(OutboxMessage.objects.filter(program="anniversary").values_list("occasion_key", "to")) == [
        (f"anniversary:{buyer.pk}:2026:contact{primary.pk}", "dana@example.com"),
        (f"anniversary:{buyer.pk}:2026:contact{second.pk}", "fox@example.com"),
    ]
    assert keys("key_date") == [f"key_date:{own.pk}:2026"]  # a contact's own date stays theirs


def test_an_admin_sets_who_gets_a_program(client, admin_user):
    client.force_login(admin_user)
    program = Program.objects.get(key="anniversary")
    page = client.get(f"/programs/{program.key}/").content.decode()
    assert "Every contact with an email address" in page
    assert client.get("/programs/birthday/").context["form"].fields.get("audience") is None
