"""
How values read on every page, one filter each, built into every template (settings.TEMPLATES):

- ``{{ day|relative }}`` and ``{{ due_on|relative:"due" }}``: a date in the words people think in
  ("today", "3 days ago", "overdue 12 days", "in 3 days"), the date itself when it is far off
  (but "overdue 400 days": lateness is counted however long);
  the exact date is the ``<time>`` element's title.
- ``{{ moment|zoned }}``: a date-time in the current time zone, with the zone named.
- ``{{ amount|money }}`` / ``{{ amount|money:2 }}``: an amount with the installation's currency.
- ``{{ contact|birthday }}``: a contact's birthday as a date reads, without the year when unknown.
- ``{{ timedelta|elapsed }}``: how long something took, to the second ("1 min 40 s", "2 h 5 min").

Plain dates and date-times use Django's named formats (``|date``, ``|date:"DATETIME_FORMAT"``),
set in retention/formats/en/formats.py.
"""

import datetime

from django import template
from django.conf import settings
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()

# Beyond this many days words stop helping ("in 143 days"): the date reads better.
WORDS_WITHIN_DAYS = 60


def _days(count):
    return f"{count} day{'' if count == 1 else 's'}"


def relative_words(day, today, mode=""):
    """``day`` against ``today`` in words; ``mode="due"`` reads a deadline ("overdue 2 days")."""
    delta = (day - today).days
    due = mode == "due"
    if due and delta < 0:  # however long ago: how late it is is what matters
        return f"overdue {_days(-delta)}"
    if abs(delta) > WORDS_WITHIN_DAYS:
        return f"due {date_filter(day)}" if due else date_filter(day)
    if delta == 0:
        return "due today" if due else "today"
    if delta == 1:
        return "due tomorrow" if due else "tomorrow"
    if delta > 0:
        return f"due in {_days(delta)}" if due else f"in {_days(delta)}"
    return "yesterday" if delta == -1 else f"{_days(-delta)} ago"


@register.filter
def relative(value, mode=""):
    if value in (None, ""):
        return "—"
    day = timezone.localdate(value) if isinstance(value, datetime.datetime) else value
    return format_html('<time datetime="{}" title="{}">{}</time>', day.isoformat(),
                       date_filter(day), relative_words(day, timezone.localdate(), mode))


@register.filter
def zoned(value):
    if value in (None, ""):
        return ""
    local = timezone.localtime(value)
    return f"{date_filter(local, 'DATETIME_FORMAT')} {date_filter(local, 'T')}"


@register.filter
def money(amount, places=0):
    """Grouped, with the currency after a no-break space so the two never part on a narrow screen."""
    if amount in (None, ""):
        return "—"
    number = number_format(amount, decimal_pos=int(places), force_grouping=True)
    return f"{number}\u00a0{settings.CURRENCY}"


@register.filter
def birthday(contact):
    if contact.birthday_month is None:
        return ""
    # A leap year stands in for an unknown one, so 29 February stays a date.
    day = datetime.date(contact.birthday_year or 2000, contact.birthday_month, contact.birthday_day)
    return date_filter(day) if contact.birthday_year else date_filter(day, "MONTH_DAY_FORMAT")


@register.filter
def elapsed(delta):
    """A ``timedelta`` as people say how long something took: "12 s", "1 min 40 s", "2 h 5 min"."""
    if delta is None:
        return ""
    seconds = max(0, round(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{seconds} s"
