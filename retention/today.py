"""
Today, composed: what one account manager should do today, most urgent first.

It reads from both apps (customers' dates and check-in clocks, touchpoints' promises, complaints,
meetings and outbox), so it lives here, beside the views that show it. Each section shows its most
urgent ``TODAY_FIRST`` rows and how many there are in all, in one query; "See all" pages through
the rest (``today_section``). Every list reads only what ``viewer`` may see: a
manager looking at an account manager's day sees that person's items among the customers of the
teams they manage (whose day they may open: ``customers.access.member_for_user``).
"""

import datetime

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Window
from django.utils import timezone

from customers.dates import day_order, next_occurrence, within_q
from customers.models import Contact, Customer, KeyDate, filter_visible, in_program_q
from surveys.selectors import recoveries
from touchpoints.models import FollowUp, OutboxMessage, Touchpoint
from touchpoints.selectors import (
    complaint_urgency,
    complaints_open,
    meetings_without_notes,
    promise_rates,
    promises_due,
)

TODAY_LIST_SIZE = 50  # the calendar feed's cap on a list (retention/feeds/items.py)
TODAY_FIRST = 6  # the most urgent few of a section that Today shows; "See all" has the rest
SEE_ALL_PAGE = 25  # rows of a page of "See all"
DATES_AHEAD = 7  # today and the six days after it
THANK_YOU_WINDOW = datetime.timedelta(days=7)
# A check-in row: the customer's name and clock (``Customer.checkin_state``), last contact and
# value; all in the index ``customer_checkins`` (customers/migrations/0014), read without the table.
CHECKIN_ROW = ["name", "next_checkin_due", "cadence_days", "cadence_max_days", "last_contacted_at",
               "lifetime_value"]


class Section:
    """
    One list of Today: its ``rows`` (the first few, or one page of "See all") and ``total``, how
    many there are in all. Iterating it gives the rows, so a template loops over it as a list.
    """

    def __init__(self, name, rows, total, start=0):
        self.name, self.rows, self.total, self.start = name, rows, total, start

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __bool__(self):
        return bool(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    @property
    def more(self):
        """How many are not shown."""
        return self.total - len(self.rows)

    @property
    def end(self):
        return self.start + len(self.rows)


class Rows:
    """
    A section's rows in order, read a slice at a time with the count of all in the same query
    (``COUNT(*) OVER ()``), so the first ten and "10 of 37" cost one query; ``shape`` makes each
    row what the page shows (a complaint with its urgency, say).
    """

    def __init__(self, queryset, shape=None):
        self.queryset, self.shape = queryset, shape or (lambda row: row)

    def section(self, name, start, stop):
        rows = list(self.queryset.annotate(section_total=Window(Count("pk")))[start:stop])
        total = rows[0].section_total if rows else (0 if start == 0 else self.queryset.count())
        return Section(name, [self.shape(row) for row in rows], total, start)


class Listed:
    """A section read whole (the dates of one week: a few hundred at most), then sliced."""

    def __init__(self, read):
        self.read = read

    def section(self, name, start, stop):
        rows = self.read()
        return Section(name, rows[start:stop], len(rows), start)


def today_sources(*, viewer, subject, now):
    """Each bounded section of ``subject``'s Today as ``viewer`` may see it, by name, most urgent first."""
    local_today = timezone.localdate(now)
    mine = customers_of(viewer=viewer, subject=subject)
    week = [local_today + datetime.timedelta(days=n) for n in range(DATES_AHEAD)]
    return {
        "complaints": Rows(complaints_open(viewer=viewer, user=subject, limit=None),
                           lambda complaint: (complaint, complaint_urgency(complaint, now))),
        "checkins": Rows(
            mine.filter(next_checkin_due__lte=local_today)
            # What a row shows, no more: the count reads every due row (COUNT(*) OVER ()).
            .only(*CHECKIN_ROW)
            .order_by("next_checkin_due", "-lifetime_value", "pk"),
            lambda customer: (customer, customer.checkin_state(local_today)),
        ),
        "promises": Rows(promises_due(viewer=viewer, owner=subject, today=local_today, limit=None)),
        "meetings": Rows(meetings_without_notes(viewer=viewer, author=subject, now=now, limit=None)),
        "follow_ups": Rows(
            FollowUp.objects.visible_to(viewer).open().filter(assignee=subject)
            # Check-ins due and recoveries have their own lists, with their own actions.
            .exclude(kind__in=[FollowUp.Kind.CHECKIN, FollowUp.Kind.RECOVERY])
            .select_related("customer").order_by("due_on", "pk")
        ),
        "birthdays": Rows(birthdays_query(book_contacts(viewer, subject), week),
                          lambda contact: birthday_row(contact, week)),
        "dates": Listed(lambda: dates_within(mine, book_rows(KeyDate.objects.all(), viewer, subject), week,
                                             size=None)),
        "not_thanked": Rows(not_thanked(mine, now, size=None)),
    }


# The sections "See all" pages through, with their names on its page.
TODAY_SECTIONS = {
    "complaints": "Complaints to answer", "checkins": "Check-ins due", "promises": "Promises due",
    "meetings": "Meeting notes to send", "follow_ups": "Follow-ups",
    "birthdays": "Birthdays in the next 7 days", "dates": "Anniversaries and key dates in the next 7 days",
    "not_thanked": "New customers not yet thanked",
}


def today_lists(*, viewer, subject, now=None, size=TODAY_FIRST):
    """The context of Today for ``subject`` as ``viewer`` may see it: each section's first ``size``."""
    now = now or timezone.now()
    local_today = timezone.localdate(now)
    sections = {name: source.section(name, 0, size)
                for name, source in today_sources(viewer=viewer, subject=subject, now=now).items()}
    own_recoveries, flagged_recoveries = recoveries(viewer=viewer, assignee=subject, limit=TODAY_LIST_SIZE)
    recent = (
        Touchpoint.objects.visible_to(viewer).filter(author=subject)
        .select_related("customer").order_by("-happened_at", "-pk")[:10]
    )
    return {
        "local_today": local_today,
        "now": now,
        # Unhappy customers first: the owner's recovery tasks, and the team's for their manager.
        "recoveries": own_recoveries,
        "recoveries_flagged": flagged_recoveries,
        **sections,
        "recent": recent,
        "promise_rate": promise_rates(viewer=viewer, owners=[subject], today=local_today)[
            subject.pk
        ],
    }


def today_section(*, viewer, subject, name, page, now=None):
    """Page ``page`` (from 1) of the section ``name`` of ``subject``'s Today: "See all"."""
    now = now or timezone.now()
    start = (page - 1) * SEE_ALL_PAGE
    source = today_sources(viewer=viewer, subject=subject, now=now)[name]
    return source.section(name, start, start + SEE_ALL_PAGE)


def customers_of(*, viewer, subject):
    """
    Today's "mine": ``subject``'s customers in the program, among those ``viewer`` sees. Also
    what the calendar feed (``retention/feeds/``) holds of its user.
    """
    return Customer.objects.visible_to(viewer).in_program().filter(owner=subject)


def book_contacts(viewer, owner):
    """
    The contacts of ``owner``'s customers in the program that ``viewer`` sees: found by the book
    each contact carries (``customers/books.py``), so a week's birthdays of a book of 100,000
    customers are read from an index, not looked up one customer at a time. Those of the book's
    customers outside the program (prospects, churned, archived: the fewer) are set aside by their
    ids, read from the index ``customer_book_outside`` (customers/migrations/0017): looking up each
    contact's customer was most of Today's time at a million customers.
    """
    outside = Customer.objects.filter(owner=owner).exclude(in_program_q()).values("pk")
    return filter_visible(Contact.objects.filter(owner=owner), viewer, customer="").exclude(
        customer__in=outside)


def book_rows(queryset, viewer, owner):
    """
    The rows of ``queryset`` (a model that belongs to a customer) of ``owner``'s customers in the
    program that ``viewer`` sees: a join to each row's customer, so PostgreSQL looks up the few
    customers of a week's dates instead of hashing the whole book to test them.
    """
    return filter_visible(queryset, viewer).filter(in_program_q("customer"), customer__owner=owner)


# Dates of the week -----------------------------------------------------------------------------


def birthdays_within(contacts, days, size=TODAY_LIST_SIZE):
    """
    [(contact, date)] of the birthdays of ``contacts`` on ``days``: 29 February counts on
    28 February in other years.
    """
    return [birthday_row(contact, days) for contact in birthdays_query(contacts, days)[:size]]


def birthdays_query(contacts, days):
    """
    The contacts of ``contacts`` with a birthday on ``days``, by date and name; the customers'
    names are read for the rows shown only (not joined to every birthday of the week to count them).
    """
    return (
        contacts.filter(within_q("birthday_month", "birthday_day", days))
        .only("name", "customer_id", "birthday_month", "birthday_day")
        .prefetch_related(Prefetch("customer", Customer.objects.only("name")))
        .alias(day_order=day_order("birthday_month", "birthday_day", days))
        .order_by("day_order", "name", "pk")
    )


def birthday_row(contact, days):
    return contact, next_occurrence(contact.birthday_month, contact.birthday_day, days[0])


def dates_within(customers, key_dates, days, size=TODAY_LIST_SIZE):
    """
    Anniversaries of ``customers`` and ``key_dates`` on ``days``, as ``[{date, what, customer,
    contact, key_date}]`` sorted by date (``key_date``: None for an anniversary). Yearly key dates
    recur on their month and day; one-off ones on their date.
    """
    first, last = days[0], days[-1]
    rows = []
    anniversaries = (
        customers.filter(within_q("customer_since__month", "customer_since__day", days))
        .filter(customer_since__lt=first)
        .only("name", "customer_since", "lifetime_value")  # what a row shows: not whole customers
        .alias(day_order=day_order("customer_since__month", "customer_since__day", days))
        .order_by("day_order", "-lifetime_value", "pk")[:size]
    )
    for customer in anniversaries:
        date = next_occurrence(customer.customer_since.month, customer.customer_since.day, first)
        years = date.year - customer.customer_since.year
        if years >= 1:
            rows.append({"date": date, "customer": customer, "contact": None, "key_date": None,
                         "what": f"{years} year{'s' if years != 1 else ''} as a customer"})
    key_dates = (
        key_dates.filter(Q(recurrence=KeyDate.Recurrence.YEARLY, date__lte=last)
                & within_q("date__month", "date__day", days)
                | Q(recurrence=KeyDate.Recurrence.ONCE, date__gte=first, date__lte=last))
        .select_related("customer", "contact")
        .only("date", "name", "recurrence", "customer_id", "contact_id", "customer__name", "contact__name")
        .order_by("pk")[:size]
    )
    for key_date in key_dates:
        if key_date.recurrence == KeyDate.Recurrence.ONCE:
            date = key_date.date
        else:
            date = next_occurrence(key_date.date.month, key_date.date.day, first)
        rows.append({"date": date, "customer": key_date.customer, "contact": key_date.contact,
                     "key_date": key_date, "what": key_date.name})
    return sorted(rows, key=lambda row: (row["date"], row["customer"].name))


# New customers ---------------------------------------------------------------------------------


def not_thanked(customers, now, size=TODAY_LIST_SIZE):
    """
    Customers who became active in the last 7 days and have not been thanked: no thank-you note
    in the outbox (sent or on its way) and no contact logged since they became customers.
    """
    thank_you = OutboxMessage.objects.filter(customer=OuterRef("pk"), program="thank_you")
    return (
        customers.filter(status=Customer.Status.ACTIVE,
                         status_changed_at__gte=now - THANK_YOU_WINDOW)
        .filter(Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=F("status_changed_at")))
        .filter(~Exists(thank_you))
        .order_by("-status_changed_at", "pk")[:size]
    )
