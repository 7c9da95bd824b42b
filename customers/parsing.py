"""
Reading what people type about customers, for the forms and the CSV import alike: birthdays with or
without a year, lists of tags, dates in the shapes spreadsheets and other CRMs write them, time-zone
names, people's names in parts, and web sites. Each function raises ValueError (or answers False or
None) and leaves the wording of the message to the form or the import that asked.

Dates are read in one of three *orders*: ``iso`` takes only ISO 8601 (``2024-02-05``, or a timestamp
such as ``2024-02-05T13:51:00.000Z``, whose date is kept as written); ``dmy`` and ``mdy`` take ISO
too, and besides it numbers with ``/``, ``-`` or ``.`` (``5/2/24 1:51``, ``05.02.2024``) read
day-first or month-first, and month names (``5 Feb 2024``, ``February 5, 2024``). A date written
with dots is always day-first, as everywhere dots are used. ``date_order_hint`` tells from one value
which order it must be in, when it can tell (``15/4/2024`` is day-first).
"""

import datetime
import functools
import re
import urllib.parse
import zoneinfo

BIRTHDAY_RE = re.compile(r"^(?:(?P<year>\d{4})|-)-(?P<month>\d{2})-(?P<day>\d{2})$")
ISO_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TAG_SEPARATORS = re.compile(r":::|[;,]")  # ::: is how Google Contacts separates its labels
TAG_MAX_LENGTH = 50  # Tag.name's max_length

DATE_ORDERS = ("iso", "dmy", "mdy")
DATE_ORDER_LABELS = {
    "iso": "ISO only (YYYY-MM-DD)",
    "dmy": "Day before month (31/12/2024, 31.12.2024)",
    "mdy": "Month before day (12/31/2024)",
}
DATE_HELP = {
    "iso": "use YYYY-MM-DD",
    "dmy": "use a date such as 31/12/2024, 31.12.2024 or 2024-12-31",
    "mdy": "use a date such as 12/31/2024 or 2024-12-31",
}

_TIME = (r"(?:[T ,]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2}(?:[.,]\d+)?)?"
         r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?")
_ZONE = r"\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?"
ISO_TIMESTAMP_RE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})" + _TIME + _ZONE + "$"
)
NUMERIC_DATE_RE = re.compile(
    r"^(?P<a>\d{1,4})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{2}|\d{4})\.?" + _TIME + _ZONE + "$"
)
NUMERIC_DAY_MONTH_RE = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})\.?$")
NAMED_DAY_FIRST_RE = re.compile(
    r"^(?P<day>\d{1,2})\.?\s+(?P<month>[^\W\d_]+)\.?,?(?:\s+(?P<year>\d{4}))?" + _TIME + "$"
)
NAMED_MONTH_FIRST_RE = re.compile(
    r"^(?P<month>[^\W\d_]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?" + _TIME + "$"
)
# What Outlook writes for a date nobody entered.
NO_DATE_RE = re.compile(r"^0{1,4}([./-])0{1,2}\1(?:0{2}|0{4})$")

MONTH_NAMES = {}
for _number, _names in enumerate([
    "january jan januar janv janvier enero ene", "february feb februar feb févr février febrero",
    "march mar märz maerz mrz mars marzo", "april apr avr avril abril abr",
    "may mai mayo", "june jun juni juin junio", "july jul juli juil juillet julio",
    "august aug août agosto ago", "september sep sept septembre septiembre",
    "october oct okt oktober octobre octubre", "november nov novembre noviembre",
    "december dec dez dezember déc décembre diciembre dic",
], start=1):
    for _name in _names.split():
        MONTH_NAMES[_name] = _number


def parse_birthday(value, order="iso"):
    """
    A birthday → (year or None, month, day); ValueError when not a date. ``YYYY-MM-DD`` or
    ``--MM-DD``; with the order ``dmy`` or ``mdy`` also any date ``parse_date`` reads, and a day and
    month without the year (``14.03.``, ``3/14``, ``14 March``).
    """
    value = value.strip()
    match = BIRTHDAY_RE.match(value)
    if match:
        year = int(match["year"]) if match["year"] else None
        month, day = int(match["month"]), int(match["day"])
    elif order == "iso":
        match = ISO_TIMESTAMP_RE.match(value)
        if not match:
            raise ValueError("Use YYYY-MM-DD, or --MM-DD when the year is not known.")
        year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    else:
        year, month, day = _birthday_parts(value, order)
    try:
        datetime.date(year or 2000, month, day)  # 2000 is a leap year: allows 29 February
    except ValueError:
        raise ValueError("That is not a date on the calendar.") from None
    if year is not None and not 1900 <= year <= datetime.date.today().year:
        raise ValueError("The year of birth looks wrong.")
    return year, month, day


def _birthday_parts(value, order):
    match = NUMERIC_DAY_MONTH_RE.match(value)
    if match:
        a, b = int(match["a"]), int(match["b"])
        day_first = match["sep"] == "." or order == "dmy"
        month, day = (b, a) if day_first else (a, b)
        return None, month, day
    for pattern in (NAMED_DAY_FIRST_RE, NAMED_MONTH_FIRST_RE):
        match = pattern.match(value)
        if match and match["month"].lower() in MONTH_NAMES and not match["hour"]:
            year = int(match["year"]) if match["year"] else None
            return year, MONTH_NAMES[match["month"].lower()], int(match["day"])
    date = parse_date(value, order)  # raises with the reason
    return date.year, date.month, date.day


def parse_iso_date(value):
    """Exactly ``YYYY-MM-DD`` → a date; ValueError otherwise (``fromisoformat`` alone takes more)."""
    if not ISO_DATE_RE.match(value):
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date")
    return datetime.date.fromisoformat(value)


def parse_date(value, order="iso", *, today=None):
    """
    A date in the shapes of ``order`` (see the module's docstring) → a date; a timestamp keeps the
    date it names. ValueError when the value is not one. Two-digit years are the latest year with
    those digits that is not in the future.
    """
    value = value.strip()
    match = ISO_TIMESTAMP_RE.match(value)
    if match:
        _check_time(match)
        return _date(int(match["year"]), int(match["month"]), int(match["day"]))
    if order not in ("dmy", "mdy"):
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date")
    match = NUMERIC_DATE_RE.match(value)
    if match:
        _check_time(match)
        a, b, c = match["a"], int(match["b"]), match["c"]
        if len(a) == 4:  # 2024/02/05
            return _date(int(a), b, int(c))
        if len(a) == 3:
            raise ValueError(f"{value!r} is not a date")
        day_first = match["sep"] == "." or order == "dmy"
        day, month = (int(a), b) if day_first else (b, int(a))
        return _date(_full_year(c, today), month, day)
    for pattern in (NAMED_DAY_FIRST_RE, NAMED_MONTH_FIRST_RE):
        match = pattern.match(value)
        if match and match["year"] and match["month"].lower() in MONTH_NAMES:
            _check_time(match)
            return _date(int(match["year"]), MONTH_NAMES[match["month"].lower()], int(match["day"]))
    raise ValueError(f"{value!r} is not a date")


def is_no_date(value):
    """``0.0.00``, ``0/0/0000`` and the like: how some programs write a date nobody entered."""
    return bool(NO_DATE_RE.match(value.strip()))


def date_order_hint(value):
    """``dmy`` or ``mdy`` when ``value`` can only be read in that order (``15/4/24``), else None."""
    match = NUMERIC_DATE_RE.match(value.strip()) or NUMERIC_DAY_MONTH_RE.match(value.strip())
    if not match or match["sep"] == "." or len(match["a"]) > 2:
        return None
    a, b = int(match["a"]), int(match["b"])
    if 12 < a <= 31 and 1 <= b <= 12:
        return "dmy"
    if 12 < b <= 31 and 1 <= a <= 12:
        return "mdy"
    return None


def _full_year(digits, today=None):
    year = int(digits)
    if len(digits) == 4:
        return year
    this_year = (today or datetime.date.today()).year
    year += this_year - this_year % 100
    return year - 100 if year > this_year else year


def _check_time(match):
    hour, minute = match["hour"], match["minute"]
    if hour is None:
        return
    limit = 12 if match["ampm"] else 23
    if int(hour) > limit or int(minute) > 59:
        raise ValueError(f"{hour}:{minute} is not a time of day")


def _date(year, month, day):
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(f"{year:04d}-{month:02d}-{day:02d} is not a date on the calendar") from None


def split_tags(value):
    """'a; b, c' (or 'a ::: b') → ['a', 'b', 'c'], without blanks or repeats, case kept."""
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
    # Quotes around a name are the quoting of another tool (Mailchimp writes "VIP","Newsletter").
    parts = (part.strip().strip('"').strip() for part in TAG_SEPARATORS.split(value or ""))
    return [name for name in parts if name]


@functools.cache
def _timezone_names():
    # available_timezones() reads the time-zone database from disk on every call.
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _timezone_names_by_lower():
    return {name.lower(): name for name in _timezone_names()}


def is_timezone_name(value):
    """An IANA time-zone name such as Europe/Berlin."""
    return value in _timezone_names()


def timezone_name(value):
    """The IANA name ``value`` spells in any case (``europe/berlin`` → Europe/Berlin), or None."""
    return _timezone_names_by_lower().get(value.strip().lower())


def full_name(*parts):
    """A person's name from its parts (first, last, …), each trimmed, the empty ones left out."""
    return " ".join(part.strip() for part in parts if part and part.strip())


HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$")


def website_domain(value):
    """
    The domain of a web address, as duplicates are matched by: ``https://www.Acme.example/about``
    → ``acme.example``. ValueError when ``value`` names no host.
    """
    text = value.strip()
    if not text:
        raise ValueError("empty")
    if "://" not in text:
        text = "//" + text
    try:
        host = urllib.parse.urlsplit(text).hostname or ""
    except ValueError:
        host = ""
    try:
        host = host.encode("idna").decode("ascii").lower() if host else ""
    except UnicodeError:
        host = ""
    host = host.removeprefix("www.")
    if not HOST_RE.match(host):
        raise ValueError(f"{value!r} is not a web address")
    return host
