"""The check-in clock has one rule (``customers.checkin``): the set-based paths agree with the model."""

import datetime

import pytest
from django.utils import timezone

from customers.checkin import default_cadence_max, next_checkin_due_recompute, overdue_on
from customers.models import Customer
from customers.services import customer_create
from customers.tests.factories import CustomerFactory, TeamFactory

# Late evening UTC: already tomorrow in Tokyo, still today in New York.
NOW = datetime.datetime(2026, 3, 10, 22, 30, tzinfo=datetime.UTC)


@pytest.fixture
def varied_customers(db):
    team = TeamFactory(name="Clock")
    shapes = [
        {"timezone": "Asia/Tokyo", "last_contacted_at": NOW - datetime.timedelta(days=3)},
        {"timezone": "America/New_York", "last_contacted_at": NOW - datetime.timedelta(days=3)},
        {"timezone": "UTC", "last_contacted_at": None, "customer_since": datetime.date(2025, 1, 31)},
        {"timezone": "Pacific/Auckland", "last_contacted_at": None, "customer_since": None},
        {"timezone": "Europe/Berlin", "last_contacted_at": NOW - datetime.timedelta(days=90),
         "cadence_days": 14, "cadence_max_days": 21},
    ]
    customers = []
    for shape in shapes:
        customer = CustomerFactory(team=team, **shape)
        Customer.objects.filter(pk=customer.pk).update(
            created_at=NOW - datetime.timedelta(days=10), next_checkin_due=None
        )
        customers.append(customer)
    return customers


def test_the_set_based_recompute_gives_what_the_model_computes_for_each_customer(varied_customers):
    next_checkin_due_recompute(customers=Customer.objects.filter(pk__in=[c.pk for c in varied_customers]))

    for customer in Customer.objects.filter(pk__in=[c.pk for c in varied_customers]):
        assert customer.next_checkin_due == customer.compute_next_checkin_due(), customer.timezone


def test_the_set_based_recompute_leaves_other_customers_alone(varied_customers):
    first, *others = varied_customers
    next_checkin_due_recompute(customers=Customer.objects.filter(pk=first.pk))

    assert Customer.objects.get(pk=first.pk).next_checkin_due is not None
    assert not Customer.objects.filter(pk__in=[c.pk for c in others], next_checkin_due__isnull=False).exists()


@pytest.mark.parametrize("days_after_due, state", [(-1, "ok"), (0, "due"), (6, "due"), (7, "overdue")])
def test_the_overdue_filter_agrees_with_the_customer_s_own_state(db, days_after_due, state):
    customer = CustomerFactory(cadence_days=14, cadence_max_days=21,
                               next_checkin_due=datetime.date(2026, 3, 1))
    today = customer.next_checkin_due + datetime.timedelta(days=days_after_due)

    in_filter = Customer.objects.alias(overdue_on=overdue_on()).filter(
        pk=customer.pk, overdue_on__lte=today
    ).exists()

    assert customer.checkin_state(today) == state
    assert in_filter == (state == "overdue")


def test_a_new_customer_s_clock_starts_when_they_became_a_customer(db, alice):
    team = TeamFactory(name="North", members=[alice])
    customer = customer_create(user=alice, team=team, name="Acme", cadence_days=30,
                               customer_since=timezone.localdate() - datetime.timedelta(days=40))

    assert customer.next_checkin_due == customer.customer_since + datetime.timedelta(days=30)


def test_overdue_after_defaults_to_one_and_a_half_cadences():
    assert default_cadence_max(30) == 45  # the model's own default for the default cadence
    assert default_cadence_max(14) == 21
    assert default_cadence_max(1) == 1
