"""
The feed written as iCalendar (RFC 5545), for Google Calendar, Apple Calendar and Outlook.

Dates are all-day events (``DTSTART;VALUE=DATE``, ending the next day); a complaint's deadline is
a moment, in UTC. Each event's ``UID`` is stable from one fetch to the next (the item's key and
the site's host), so a calendar app replaces an event that moved rather than adding a second one.
Each links back to its customer's page (``URL`` and the description), built from ``SITE_URL``.
"""

import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

PRODID = "-//Retention//Calendar feed//EN"
REFRESH = datetime.timedelta(hours=1)


def feed_calendar(user, items, now=None):
    """``items`` (``items.FeedItem``) as the bytes of an iCalendar of ``user``'s."""
    now = now or timezone.now()
    host = urlsplit(settings.SITE_URL).hostname or "retention"
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Retention · {user.get_full_name() or user.get_username()}")
    calendar.add("x-wr-caldesc", "Promises, complaint deadlines, check-ins and customers' dates.")
    # How often to poll: honoured by Apple Calendar and Outlook (Google polls on its own schedule).
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for item in items:
        calendar.add_component(_event(item, host, now))
    return calendar.to_ical()


def _event(item, host, now):
    url = settings.SITE_URL + item.customer.get_absolute_url()
    event = Event()
    event.add("uid", f"{item.key}@{host}")
    event.add("dtstamp", now)
    event.add("summary", item.summary)
    if isinstance(item.start, datetime.datetime):
        event.add("dtstart", item.start.astimezone(datetime.UTC))
    else:
        event.add("dtstart", item.start)
        event.add("dtend", item.start + datetime.timedelta(days=1))
        event.add("transp", "TRANSPARENT")  # a birthday or a due date does not make one busy
    event.add("url", url)
    event.add("description", f"{item.description}{item.customer.name}: {url}")
    return event
