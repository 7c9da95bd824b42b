"""Customers for the program tests, each with one primary contact, and the outbox keys they got."""

import datetime

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import OutboxMessage

UTC = datetime.UTC
# The local date most program tests scan for.
DAY = datetime.date(2026, 3, 10)


def customer(
    team, owner, *, tz="UTC", email="dana@example.com", contact_name="Dana Scully", birthday=None, **fields
):
    """A customer since 2020-06-15, with no check-in due for years, unless told otherwise."""
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
    """The occasion keys in the outbox (of one program), sorted."""
    rows = OutboxMessage.objects.all()
    if program:
        rows = rows.filter(program=program)
    return sorted(rows.values_list("occasion_key", flat=True))
