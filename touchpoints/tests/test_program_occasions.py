"""
What each program finds on a local date: check-ins due, birthdays (and 29 February), anniversaries,
key dates, purchases a few days old, new customers to thank; and who gets the message when the
program's audience is every contact.
"""

import datetime

import pytest
from django.core import mail

from customers.models import Customer
from customers.services import customer_create, customer_update
from customers.tests.factories import ContactFactory, KeyDateFactory, PurchaseFactory
from touchpoints.messaging.scans import programs_scan, thank_you_scan
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import EmailSignature, OutboxMessage, Program
from touchpoints.tests.program_customers import DAY, customer, keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail", "on_scan_day")]


# Birthdays and anniversaries --------------------------------------------------------------------


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


def test_the_anniversary_counts_the_years_and_skips_the_first_year(north, alice):
    five = customer(north, alice, customer_since=datetime.date(2021, 3, 10), email="five@example.com")
    customer(north, alice, customer_since=datetime.date(2026, 3, 10), email="new@example.com")

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get(program="anniversary")
    assert message.occasion_key == f"anniversary:{five.pk}:2026"
    assert message.subject == "5 years together" and "5 years since" in message.body_text


# Check-ins, key dates, purchases ----------------------------------------------------------------


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


# Thank-you notes -------------------------------------------------------------------------------


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


# The audience ----------------------------------------------------------------------------------


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
