"""
What a user's calendar feed holds: their own Today, over a year.

Whose items: exactly Today's for that user looking at their own day (``retention.today``), with
the same selectors, so the feed and the page cannot drift apart. That is, among the customers the
user sees (``Customer.objects.visible_to``, the one visibility rule), what is *theirs*:

- promises they made that are still open, due up to the end of the window (``promises_due``);
- complaints not yet resolved that they handle, or that nobody handles on a customer they own
  (``complaints_open``), at their resolution deadline;
- the next check-in of each customer they own in the program (``customers_of``);
- birthdays of those customers' contacts, those customers' anniversaries and key dates
  (``birthdays_within``, ``dates_within``: a 29 February falls on 28 February in other years).

A manager's feed is therefore their own items too, not their teams': a calendar holding every
account manager's check-ins would bury the manager's own. (They open an account manager's Today
for that.) A customer of another team, even one the user owns, is in no feed of theirs, as it is
on no page of theirs.

The window is a year, ``DAYS_BEFORE`` days back and the rest ahead, so that each yearly date falls
in it exactly once. What is overdue — a promise or check-in whose date has passed — is shown on
today, saying since when, as Today lists it at the top; it moves with each day until done. Each
list is one query, capped at ``FEED_LIST_SIZE`` rows (nearest first).
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from customers.models import KeyDate
from retention.today import birthdays_within, book_contacts, book_rows, customers_of, dates_within
from touchpoints.selectors import complaints_open, promises_due

DAYS_BEFORE = 30
WINDOW_DAYS = 365
FEED_LIST_SIZE = 500


@dataclass(frozen=True)
class FeedItem:
    """One event of the feed. ``key`` is stable across fetches, so an update replaces the event."""

    key: str
    summary: str
    start: datetime.date | datetime.datetime  # a date: an all-day event
    customer: object
    description: str = ""


def feed_items(user, now=None):
    """The items of ``user``'s feed, by date (see the module's docstring for which)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [today + datetime.timedelta(days=n) for n in range(-DAYS_BEFORE, WINDOW_DAYS - DAYS_BEFORE)]
    last = days[-1]
    mine = customers_of(viewer=user, subject=user)
    items = []

    for promise in promises_due(viewer=user, owner=user, today=today, days=(last - today).days,
                                limit=FEED_LIST_SIZE):
        items.append(FeedItem(
            key=f"promise-{promise.pk}", start=max(promise.due_on, today), customer=promise.customer,
            summary=f"Promise: {promise.description} · {promise.customer.name}",
            description=_overdue(promise.due_on, today, "Due")
            + (f"Promised to {promise.contact.name}.\n" if promise.contact else ""),
        ))
    for complaint in complaints_open(viewer=user, user=user, limit=FEED_LIST_SIZE):
        items.append(FeedItem(
            key=f"complaint-{complaint.pk}", start=complaint.resolution_due_at, customer=complaint.customer,
            summary=f"Resolve complaint: {complaint.summary} · {complaint.customer.name}",
            description=_complaint_state(complaint),
        ))
    checkins = mine.filter(next_checkin_due__lte=last).order_by("next_checkin_due", "pk")[:FEED_LIST_SIZE]
    for customer in checkins:
        items.append(FeedItem(
            key=f"checkin-{customer.pk}", start=max(customer.next_checkin_due, today), customer=customer,
            summary=f"Check in: {customer.name}",
            description=_overdue(customer.next_checkin_due, today, "Due"),
        ))
    contacts = book_contacts(user, user)
    for contact, date in birthdays_within(contacts, days, FEED_LIST_SIZE):
        items.append(FeedItem(
            key=f"birthday-{contact.pk}-{date.year}", start=date, customer=contact.customer,
            summary=f"Birthday: {contact.name} · {contact.customer.name}",
        ))
    key_dates = book_rows(KeyDate.objects.all(), user, user)
    for row in dates_within(mine, key_dates, days, FEED_LIST_SIZE):
        customer, contact = row["customer"], row["contact"]
        key = f"anniversary-{customer.pk}" if row["key_date"] is None else f"date-{row['key_date'].pk}"
        items.append(FeedItem(
            key=f"{key}-{row['date']:%Y}", start=row["date"], customer=customer,
            summary=f"{row['what']}: " + (f"{contact.name} · " if contact else "") + customer.name,
        ))
    return sorted(items, key=lambda item: (_as_date(item.start), item.key))


def _complaint_state(complaint):
    state = f"{complaint.get_severity_display()} severity, {complaint.get_status_display().lower()}."
    if complaint.status == complaint.Status.NEW:
        state += f" First answer due {timezone.localtime(complaint.first_response_due_at):%Y-%m-%d %H:%M}."
    return state + "\n"


def _overdue(due_on, today, label):
    if due_on < today:
        return f"Overdue: {label.lower()} {due_on:%Y-%m-%d}.\n"
    return ""


def _as_date(start):
    return timezone.localtime(start).date() if isinstance(start, datetime.datetime) else start
