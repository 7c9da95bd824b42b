"""
One automated message per person per day: several post-purchase follow-ups become one message,
a lower-priority message waits for the next free day (or, a greeting, is suppressed) with its
reason in the Outbox, whichever is processed first; the limit is per address and per installation;
meeting notes and messages to the team are not capped.
"""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.tests.factories import PurchaseFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.reading import outbox_daily_counts
from touchpoints.messaging.scans import programs_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage
from touchpoints.tests.program_customers import DAY, UTC, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail", "on_scan_day")]

NINE = datetime.datetime.combine(DAY, datetime.time(9), tzinfo=UTC)


def sent_to(address):
    return [email for email in mail.outbox if email.to == [address]]


def test_three_purchases_a_week_ago_make_one_follow_up_that_names_all_three(north, alice):
    buyer = customer(north, alice)
    week_ago = DAY - datetime.timedelta(days=7)
    for description in ("a standing desk", "two office chairs", "a desk lamp"):
        PurchaseFactory(customer=buyer, date=week_ago, description=description)

    report = programs_scan(on_date=DAY)
    outbox_sweep()

    [email] = sent_to("dana@example.com")
    assert "a standing desk, two office chairs and a desk lamp" in email.body
    rows = OutboxMessage.objects.filter(program="post_purchase").order_by("pk")
    assert [r.status for r in rows] == ["sent", "merged", "merged"]
    primary = rows[0]
    assert {r.merged_into_id for r in rows[1:]} == {primary.pk}
    assert all(r.reason == "merged" for r in rows[1:])
    assert report.counts["post_purchase"]["queued"] == 1 and report.counts["post_purchase"]["merged"] == 2
    # A second scan of the day decides nothing again.
    assert programs_scan(on_date=DAY).counts["post_purchase"]["already decided"] == 3
    [today] = outbox_daily_counts(OutboxMessage.objects.all(), start=DAY, end=DAY)
    assert (today["program"], today["sent"], today["merged"]) == ("post_purchase", 1, 2)


def test_a_birthday_and_a_check_in_on_one_day_send_the_birthday_and_defer_the_check_in(
        north, alice, time_machine):
    north.automated_checkins = True
    north.save()
    customer(north, alice, birthday=(3, 10), next_checkin_due=DAY)

    programs_scan(on_date=DAY)
    checkin = OutboxMessage.objects.get(program="checkin")
    # The check-in is processed first: it leaves the day to the greeting all the same.
    assert outbox_send([checkin.pk])["deferred"] == 1
    outbox_sweep()

    [email] = sent_to("dana@example.com")
    assert email.subject.startswith("Happy birthday")
    checkin.refresh_from_db()
    assert checkin.status == "pending" and checkin.reason == "deferred"
    assert checkin.deferred_from == NINE and checkin.send_after == NINE + datetime.timedelta(days=1)
    assert "birthday greeting" in checkin.reason_note and "Wed 11 Mar 2026 09:00" in checkin.reason_note
    [today] = outbox_daily_counts(OutboxMessage.objects.filter(program="checkin"), start=DAY, end=DAY)
    assert today["deferred"] == 1

    time_machine.move_to(NINE + datetime.timedelta(days=1, minutes=1))  # the next day, when it is free
    outbox_sweep()
    assert [e.subject for e in sent_to("dana@example.com")][1].startswith("How are things going")
    checkin.refresh_from_db()
    assert checkin.status == "sent" and checkin.reason == ""


def test_a_limit_of_two_lets_both_through(north, alice, settings):
    settings.OUTBOX_DAILY_CAP = 2
    north.automated_checkins = True
    north.save()
    customer(north, alice, birthday=(3, 10), next_checkin_due=DAY)

    programs_scan(on_date=DAY)
    outbox_sweep()

    assert len(sent_to("dana@example.com")) == 2
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(OutboxMessage.objects.values_list("cap_slot", flat=True)) == [1, 2]


def test_a_greeting_that_loses_the_day_is_suppressed_with_its_reason(north, alice):
    # Customer since 10 March and born on 10 March: the birthday goes first, and an anniversary
    # greeting cannot wait for another day.
    customer(north, alice, birthday=(3, 10), customer_since=datetime.date(2019, 3, 10))

    programs_scan(on_date=DAY)
    outbox_sweep()

    [email] = sent_to("dana@example.com")
    assert email.subject.startswith("Happy birthday")
    anniversary = OutboxMessage.objects.get(program="anniversary")
    assert anniversary.status == "suppressed" and anniversary.reason == "capped"
    assert "could not wait for another day" in anniversary.reason_note


def test_a_message_that_cannot_wait_past_its_grace_is_suppressed(north, alice, settings, time_machine):
    settings.OUTBOX_GRACE_DAYS = {"checkin": 0.5}
    north.automated_checkins = True
    north.save()
    customer(north, alice, birthday=(3, 10), next_checkin_due=DAY)

    programs_scan(on_date=DAY)
    outbox_sweep()

    checkin = OutboxMessage.objects.get(program="checkin")
    assert checkin.status == "suppressed" and checkin.reason == "capped"


def test_the_limit_is_per_address_whoever_the_contact(north, alice):
    # The same person is a contact of two customers: one inbox, one message that day.
    customer(north, alice, birthday=(3, 10), email="Dana@Example.com")
    customer(north, alice, birthday=(3, 10), email="dana@example.com")

    programs_scan(on_date=DAY)
    outbox_sweep()

    assert len([e for e in mail.outbox if e.to[0].lower() == "dana@example.com"]) == 1
    assert sorted(OutboxMessage.objects.values_list("status", flat=True)) == ["sent", "suppressed"]


def test_the_day_is_the_recipients(north, alice, time_machine):
    """A message sent late in the evening in Auckland and one the next morning there: two days."""
    buyer = customer(north, alice, tz="Pacific/Auckland")
    contact = buyer.contacts.get()
    # 22:00 on 10 March in Auckland is 09:00 UTC; 07:00 on the 11th there is 18:00 UTC on the 10th.
    evening = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    morning = datetime.datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    for key, when in (("checkin:a", evening), ("checkin:b", morning)):
        outbox_enqueue(occasion_key=key, program="checkin", customer=buyer, contact=contact,
                       to=[contact.email], subject=key, body_text="Hi", send_after=when)
    time_machine.move_to(evening)
    outbox_sweep()
    time_machine.move_to(morning)
    outbox_sweep()

    assert [e.subject for e in mail.outbox] == ["checkin:a", "checkin:b"]
    assert sorted(OutboxMessage.objects.values_list("cap_day", flat=True)) == [
        datetime.date(2026, 3, 10), datetime.date(2026, 3, 11)]


def test_meeting_notes_and_team_messages_are_not_capped(north, alice, maria):
    buyer = customer(north, alice, birthday=(3, 10))
    contact = buyer.contacts.get()
    programs_scan(on_date=DAY)
    outbox_enqueue(occasion_key="meeting_notes:1", program="meeting_notes", customer=buyer, contact=contact,
                   to=[contact.email], subject="Notes from our meeting", body_text="…", sender=alice,
                   automated=False)
    digest, _ = outbox_enqueue(occasion_key="manager_digest:maria:2026-10", program="manager_digest",
                               customer=None, contact=None, to=maria.email, subject="Your week",
                               body_text="Three customers need you.")
    outbox_enqueue(occasion_key="manager_digest:maria:2026-11", program="manager_digest", customer=None,
                   contact=None, to=maria.email, subject="Your next week", body_text="…")
    outbox_sweep()

    assert len(sent_to("dana@example.com")) == 2  # the greeting and the notes
    assert len(sent_to(maria.email)) == 2
    digest.refresh_from_db()
    assert digest.status == "sent" and digest.touchpoint is None and digest.cap_day is None
    team_email = [e for e in mail.outbox if e.subject == "Your week"][0]
    assert "List-Unsubscribe" not in team_email.extra_headers  # switched off in the profile instead
    assert team_email.extra_headers["Auto-Submitted"] == "auto-generated"


def test_two_messages_cannot_take_the_same_slot_of_an_address_and_day(north, alice):
    buyer = customer(north, alice)
    contact = buyer.contacts.get()
    rows = [outbox_enqueue(occasion_key=f"checkin:{n}", program="checkin", customer=buyer, contact=contact,
                           to=[contact.email], subject="Hi", body_text="Hi",
                           send_after=timezone.now() + datetime.timedelta(days=3))[0] for n in (1, 2)]
    OutboxMessage.objects.filter(pk=rows[0].pk).update(cap_day=DAY, cap_slot=1)

    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.filter(pk=rows[1].pk).update(cap_day=DAY, cap_slot=1)
    OutboxMessage.objects.filter(pk=rows[1].pk).update(cap_day=DAY, cap_slot=2)  # another slot is fine
