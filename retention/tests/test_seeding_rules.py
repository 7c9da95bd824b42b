"""
Seeding writes rows in bulk, past the services, and then derives what the services would have
stored. These tests pin that the two agree, so the seeding cannot drift from a rule's home again.
"""

from io import StringIO

import pytest
from django.core.management import call_command

from customers.checkin import default_cadence_max
from customers.models import Customer
from customers.services import customer_create, purchase_add
from touchpoints.services import touchpoint_log

pytestmark = pytest.mark.django_db

COMPARED = ["last_contacted_at", "next_checkin_due", "lifetime_value", "value_last_12_months",
            "cadence_max_days"]


def twin_through_the_services(customer):
    """The same customer, built as a user would: created, touchpoints logged, purchases added."""
    twin = customer_create(
        user=customer.owner, team=customer.team, name=f"{customer.name} (twin)", owner=customer.owner,
        status=customer.status, customer_since=customer.customer_since, timezone=customer.timezone,
        cadence_days=customer.cadence_days, cadence_max_days=default_cadence_max(customer.cadence_days),
    )
    for touchpoint in customer.touchpoints.order_by("happened_at", "pk"):
        touchpoint_log(customer=twin, user=customer.owner, kind=touchpoint.kind,
                       summary=touchpoint.summary, happened_at=touchpoint.happened_at)
    for purchase in customer.purchases.order_by("pk"):
        purchase_add(customer=twin, user=customer.owner, date=purchase.date, amount=purchase.amount,
                     description=purchase.description)
    twin.refresh_from_db()
    return twin


def test_bench_customers_have_the_fields_their_twins_get_through_the_services():
    call_command("seed_bench", customers=12, stdout=StringIO())
    # All but the key account (thousands of touchpoints).
    bench = list(Customer.objects.filter(external_id__startswith="BENCH-")
                 .exclude(external_id="BENCH-0000001").select_related("owner", "team"))
    # The edges are there: purchases older than a year, time zones a day apart, no purchase at all.
    assert any(c.value_last_12_months < c.lifetime_value for c in bench)
    assert {"Asia/Tokyo", "Europe/London"} <= {c.timezone for c in bench}
    assert any(c.lifetime_value == 0 for c in bench)

    for customer in bench:
        twin = twin_through_the_services(customer)

        assert {field: getattr(twin, field) for field in COMPARED} == {
            field: getattr(customer, field) for field in COMPARED
        }, customer.external_id
