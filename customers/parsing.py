"""
Reading what people type about customers, for the forms and the CSV import alike: birthdays with or
without a year, lists of tags, ISO dates and time-zone names. Each function raises ValueError (or
answers False) and leaves the wording of the message to the form or the import that asked.
"""

import datetime
import functools
import re
import zoneinfo

BIRTHDAY_RE = re.compile(r"^(?:(?P<year>\d{4})|-)-(?P<month>\d{2})-(?P<day>\d{2})$")
ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TAG_SEPARATORS = re.compile(r"[;,]")
TAG_MAX_LENGTH = 50  # Tag.name's max_length


def parse_birthday(value):
    """``YYYY-MM-DD`` or ``--MM-DD`` → (year or None, month, day); ValueError when not a date."""
    match = BIRTHDAY_RE.match(value.strip())
    if not match:
        raise ValueError("Use YYYY-MM-DD, or --MM-DD when the year is not known.")
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    try:
        datetime.date(year or 2000, month, day)  # 2000 is a leap year: allows 29 February
    except ValueError:
        raise ValueError("That is not a date on the calendar.") from None
    if year is not None and not 1900 <= year <= datetime.date.today().year:
        raise ValueError("The year of birth looks wrong.")
    return year, month, day


def parse_iso_date(value):
    """Exactly ``YYYY-MM-DD`` → a date; ValueError otherwise (``fromisoformat`` alone takes more)."""
    if not ISO_DATE_RE.match(value):
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date")
    return datetime.date.fromisoformat(value)


def split_tags(value):
    """'a; b, c' → ['a', 'b', 'c'], without blanks or repeats, case kept."""
    seen, tags = set(), []
    for name in _tag_names(value):
        if name.lower() not in seen:
            seen.add(name.lower())
            tags.append(name[:TAG_MAX_LENGTH])
    return tags


def overlong_tags(value):
    """The tag names in ``value`` too long to be stored (``split_tags`` would shorten them)."""
    return [name for name in _tag_names(value) if len(name) > TAG_MAX_LENGTH]


def _tag_names(value):
    return [name for name in (part.strip() for part in TAG_SEPARATORS.split(value or "")) if name]


@functools.cache
def _timezone_names():
    # available_timezones() reads the time-zone database from disk on every call.
    return frozenset(zoneinfo.available_timezones())


def is_timezone_name(value):
    """An IANA time-zone name such as Europe/Berlin."""
    return value in _timezone_names()
