"""
What every form takes from people, whatever the form: one of the shared helpers the apps may import
from ``retention`` (it imports no app).

A date typed into a form lies between 1800 and 2199. Outside that, the app's own arithmetic breaks
(a check-in due 30 days after 31 December 9999 is past the last date Python knows; 1 January of
year 1 at midnight in Berlin is in year 0 in UTC) and no customer's date means it. Text fields
already refuse NUL characters, which PostgreSQL cannot store (Django's ``CharField``).
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError

EARLIEST = datetime.date(1800, 1, 1)
LATEST = datetime.date(2199, 12, 31)


def date_in_range(value):
    day = value.date() if isinstance(value, datetime.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(f"Enter a date between {EARLIEST.year} and {LATEST.year}.", code="out_of_range")


class TypedDates:
    """A form mixin: each of the form's date and date-time fields takes only ``date_in_range``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, (forms.DateField, forms.DateTimeField)):
                field.validators.append(date_in_range)
