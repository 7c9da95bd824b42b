"""
"Today" for the customers the retention program keeps in touch with, in their own time zones.

Every daily scan — the check-in follow-ups, the programs' greetings and reminders — runs for the
local date in each customer's time zone, not for the server's date: at 11:00 UTC it is already
tomorrow in Auckland and still today in Honolulu. This is the one place that works those dates out.
"""

import zoneinfo
from collections import defaultdict

from django.utils import timezone

from .models import Customer


def zones_in_use():
    """The time zones at least one customer in the program is in."""
    return list(Customer.objects.in_program().order_by().values_list("timezone", flat=True).distinct())


def local_dates(*, on_date=None, now=None):
    """
    {time zone: its local date} for every time zone a customer in the program is in: the date
    at ``now`` (the current time by default) there, or ``on_date`` for every zone when given.
    """
    now = now or timezone.now()
    return {tz: on_date or now.astimezone(zoneinfo.ZoneInfo(tz)).date() for tz in zones_in_use()}


def zone_groups(dates):
    """
    {local date: [time zones]} from ``local_dates``: the zones that share a local date are scanned
    in one query. At any moment the world spans at most three dates, so one to three queries.
    """
    groups = defaultdict(list)
    for tz, day in dates.items():
        groups[day].append(tz)
    return dict(groups)
