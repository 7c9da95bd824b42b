"""Customers for the program tests, each with one primary contact, and the outbox keys they got."""

import datetime
import zoneinfo

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


# Zones a few hours apart, for ``midday_zone``.
ZONES = ["Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
         "America/Chicago", "America/New_York", "America/Sao_Paulo", "Atlantic/South_Georgia",
         "Atlantic/Azores", "UTC", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
         "Asia/Karachi", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
         "Pacific/Noumea", "Pacific/Auckland", "Pacific/Tongatapu", "Pacific/Kiritimati"]


def midday_zone(now=None):
    """
    ``(zone, local date)`` where it is now about 14:00: for tests with real workers, which cannot
    move the clock, a day whose 09:00 greetings are due and still hours from the day's end.
    """
    now = now or datetime.datetime.now(UTC)
    zone = min(ZONES, key=lambda name: abs(now.astimezone(zoneinfo.ZoneInfo(name)).hour - 14))
    return zone, now.astimezone(zoneinfo.ZoneInfo(zone)).date()
