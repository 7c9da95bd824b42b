"""Rules of the touchpoints app that other code (migrations, seeding) must not restate differently."""

import datetime
import importlib

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from touchpoints.models import ComplaintTarget, Touchpoint
from touchpoints.services import (
    DEFAULT_TARGET_HOURS,
    complaint_target_hours,
    customer_contact_recompute,
    customers_contact_recompute,
)
from touchpoints.tests.factories import TouchpointFactory


def test_the_data_migration_starts_with_the_default_complaint_targets():
    frozen = importlib.import_module("touchpoints.migrations.0003_default_programs_and_targets")

    assert {severity: (respond, resolve) for severity, respond, resolve in frozen.TARGETS} == (
        DEFAULT_TARGET_HOURS
    )


@pytest.mark.django_db
def test_complaint_targets_come_from_the_table_and_fall_back_to_the_defaults():
    ComplaintTarget.objects.update_or_create(
        severity="low", defaults={"first_response_hours": 5, "resolution_hours": 50}
    )
    ComplaintTarget.objects.filter(severity="high").delete()

    assert complaint_target_hours("low") == (5, 50)
    assert complaint_target_hours("high") == DEFAULT_TARGET_HOURS["high"]


@pytest.mark.django_db
def test_last_contact_is_the_same_one_customer_at_a_time_and_set_based():
    now = timezone.now()
    customers = []
    for kinds in (["call", "note"], ["note"], [], ["meeting", "email", "call"]):
        customer = CustomerFactory(timezone="Asia/Tokyo", last_contacted_at=None)
        for n, kind in enumerate(kinds):
            TouchpointFactory(customer=customer, kind=kind,
                              happened_at=now - datetime.timedelta(days=5 * (n + 1)))
        customers.append(customer)
    assert Touchpoint.objects.exists()

    one_at_a_time = {}
    for customer in customers:
        customer_contact_recompute(customer=customer)
        one_at_a_time[customer.pk] = (customer.last_contacted_at, customer.next_checkin_due)
    Customer.objects.filter(pk__in=one_at_a_time).update(last_contacted_at=None, next_checkin_due=None)
    customers_contact_recompute(customers=Customer.objects.filter(pk__in=one_at_a_time))

    set_based = {
        c.pk: (c.last_contacted_at, c.next_checkin_due)
        for c in Customer.objects.filter(pk__in=one_at_a_time)
    }
    assert set_based == one_at_a_time
    assert sum(1 for at, _ in set_based.values() if at is not None) == 2
