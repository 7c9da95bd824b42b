"""
The Outbox pages for what this feature adds: why a message was not (yet) sent, the filters on
status and reason, the daily counts per program, the mail server's banner, messages to the team
(admins only), and a retry that refuses to send a greeting after its day.
"""

import datetime

import pytest
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory, PurchaseFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.scans import programs_scan
from touchpoints.messaging.server import record_failure
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage
from touchpoints.tests.program_customers import DAY, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail", "on_scan_day")]


@pytest.fixture
def day_of_mail(north, alice, south, charlie):
    """A day's mail: a merged follow-up, a deferred check-in and a suppressed anniversary in North, a
    greeting in South."""
    north.automated_checkins = True
    north.save()
    buyer = customer(north, alice, birthday=(3, 10), next_checkin_due=DAY)
    for description in ("a desk", "a chair"):
        PurchaseFactory(customer=buyer, date=DAY - datetime.timedelta(days=7), description=description)
    customer(north, alice, birthday=(3, 10), customer_since=datetime.date(2019, 3, 10),
             email="eve@example.com")
    customer(south, charlie, birthday=(3, 10), email="south@example.com")
    programs_scan(on_date=DAY)
    outbox_sweep()
    return buyer


def shown(client, query=""):
    page = client.get(f"/outbox/?{query}").content.decode()
    return {m.pk for m in OutboxMessage.objects.all() if f"/outbox/{m.pk}/" in page}


def test_the_outbox_filters_by_the_new_statuses_and_reasons(client, maria, day_of_mail):
    client.force_login(maria)
    by = {(m.program, m.status, m.reason): m.pk for m in OutboxMessage.objects.all()}

    assert shown(client, "status=merged") == {by["post_purchase", "merged", "merged"]}
    deferred = {pk for (_, _, reason), pk in by.items() if reason == "deferred"}
    assert len(deferred) == 2 and shown(client, "reason=deferred") == deferred
    assert shown(client, "reason=capped") == {by["anniversary", "suppressed", "capped"]}
    page = client.get("/outbox/?reason=deferred").content.decode()
    assert "Waiting for a free day" in page


def test_the_daily_counts_show_what_became_of_each_programs_messages(client, maria, day_of_mail):
    client.force_login(maria)

    response = client.get("/outbox/")

    rows = {row["program"]: row for row in response.context["daily"] if row["day"] == DAY}
    assert (rows["birthday"]["sent"], rows["birthday"]["suppressed"]) == (3, 0)
    # One of North's contacts had the birthday, a follow-up and a check-in due: the greeting went.
    assert rows["post_purchase"]["merged"] == 1 and rows["post_purchase"]["deferred"] == 1
    assert rows["checkin"]["deferred"] == 1
    assert rows["anniversary"]["suppressed"] == 1
    page = response.content.decode()
    assert "Day by day" in page and "Deferred" in page and "Merged" in page


def test_a_manager_counts_only_the_teams_they_manage(client, day_of_mail, south):
    from customers.tests.factories import TeamFactory, UserFactory

    south_manager = UserFactory(username="sam")
    TeamFactory(name="Elsewhere")
    south.managers.add(south_manager)
    client.force_login(south_manager)

    rows = client.get("/outbox/").context["daily"]

    assert [(row["program"], row["sent"]) for row in rows] == [("birthday", 1)]


def test_the_banner_says_the_mail_server_fails_and_how_many_wait(client, maria, buyer_contact):
    client.force_login(maria)
    assert "Mail is not going out" not in client.get("/outbox/").content.decode()

    record_failure(ConnectionRefusedError(111, "Connection refused"))
    page = client.get("/outbox/").content.decode()

    assert "Mail is not going out" in page and "Connection refused" in page
    assert "1 message waits" in page


def test_a_message_says_why_it_waits_and_what_it_went_with(client, maria, day_of_mail):
    client.force_login(maria)
    merged = OutboxMessage.objects.get(status="merged")
    checkin = OutboxMessage.objects.get(program="checkin")

    page = client.get(f"/outbox/{merged.pk}/").content.decode()
    assert "Merged into another message." in page and f"/outbox/{merged.merged_into_id}/" in page
    page = client.get(f"/outbox/{merged.merged_into_id}/").content.decode()
    assert "Carries also" in page and merged.occasion_key in page
    page = client.get(f"/outbox/{checkin.pk}/").content.decode()
    assert "Waiting for a free day." in page and "first due 10 Mar 2026, 09:00 UTC" in page
    assert "Latest send time" in page and checkin.occasion_ref in page


def test_messages_to_the_team_are_for_admins_only(client, maria, admin_user, north):
    digest, _ = outbox_enqueue(occasion_key="manager_digest:maria:2026-11", program="manager_digest",
                               customer=None, contact=None, to=maria.email, subject="Your week",
                               body_text="Three customers need you.")
    client.force_login(maria)
    assert digest.pk not in shown(client)
    assert client.get(f"/outbox/{digest.pk}/").status_code == 404

    client.force_login(admin_user)
    assert digest.pk in shown(client)
    page = client.get(f"/outbox/{digest.pk}/").content.decode()
    assert "None: a message to the team" in page and maria.email in page


@pytest.fixture
def buyer_contact(north, alice):
    buyer = CustomerFactory(team=north, owner=alice)
    contact = ContactFactory(customer=buyer, email="dana@example.com", is_primary=True)
    outbox_enqueue(occasion_key="checkin:waiting", program="checkin", customer=buyer, contact=contact,
                   to=[contact.email], subject="Hi", body_text="…",
                   send_after=timezone.now() - datetime.timedelta(minutes=30))
    OutboxMessage.objects.update(status="pending", lease_until=None)
    return contact


def test_a_failed_greeting_is_not_retried_after_its_day(client, maria, buyer_contact, time_machine):
    row, _ = outbox_enqueue(occasion_key="birthday:x", program="birthday", customer=buyer_contact.customer,
                            contact=buyer_contact, to=[buyer_contact.email], subject="Happy birthday",
                            body_text="…")
    OutboxMessage.objects.filter(pk=row.pk).update(status="failed", reason="rejected", last_error="550")
    client.force_login(maria)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=2))

    response = client.post(f"/outbox/{row.pk}/retry/", follow=True)

    assert "a greeting is never sent after its day" in response.content.decode()
    assert OutboxMessage.objects.get(pk=row.pk).status == "failed"


def test_a_failed_check_in_retried_after_its_grace_gets_a_new_one(client, maria, buyer_contact, time_machine):
    row = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=row.pk).update(status="failed", reason="rejected", last_error="550")
    client.force_login(maria)
    time_machine.move_to(timezone.now() + datetime.timedelta(days=10), tick=False)

    client.post(f"/outbox/{row.pk}/retry/")

    row.refresh_from_db()
    assert row.status == "pending" and row.reason == ""
    assert row.expires_at == timezone.now() + datetime.timedelta(days=3)
