"""
Yearly dates — birthdays, customer anniversaries, key dates — matched by month and day.

One rule lives here: a 29 February is celebrated on 28 February in the years that have none.
"""

import calendar
import datetime

from django.db.models import Case, IntegerField, Q, Value, When


def month_days_on(day):
    """The (month, day) pairs celebrated on ``day``."""
    pairs = [(day.month, day.day)]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        pairs.append((2, 29))
    return pairs


def on_day_q(month_field, day_field, day):
    """Rows whose month and day (in ``month_field``/``day_field``) are celebrated on ``day``."""
    return within_q(month_field, day_field, [day])


def within_q(month_field, day_field, days):
    """Rows celebrated on any of ``days``."""
    condition = Q(pk__in=[])
    for day in days:
        for month, dom in month_days_on(day):
            condition |= Q(**{month_field: month, day_field: dom})
    return condition


def day_order(month_field, day_field, days):
    """Which of ``days`` a row is celebrated on (0 for the first), to sort by nearness: a list
    cut short then keeps the nearest dates, across the turn of the year too."""
    whens = [
        When(Q(**{month_field: month, day_field: dom}), then=Value(index))
        for index, day in enumerate(days) for month, dom in month_days_on(day)
    ]
    return Case(*whens, default=Value(len(days)), output_field=IntegerField())


def next_occurrence(month, day, today):
    """The first date on or after ``today`` on which this month and day is celebrated."""
    for year in (today.year, today.year + 1):
        actual = 28 if (month, day) == (2, 29) and not calendar.isleap(year) else day
        date = datetime.date(year, month, actual)
        if date >= today:
            return date
    return None
