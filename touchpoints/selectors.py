"""
Reading for pages: the customer's timeline and its promise and complaint panels, and what Today and
the records need from this app.

The timeline
------------
One chronological stream per customer, merged from several *sources* (``TIMELINE_SOURCES``):
touchpoints (messages the outbox sent are touchpoints too, made when they go out), promises and
complaints. Another app adds its own by passing ``sources=[*TIMELINE_SOURCES, its_source]`` from
the page that composes the timeline (``retention.views.customer_detail``): surveys cannot be
imported here, since apps depend one way (surveys → touchpoints → customers).

Pagination is a keyset ("before" cursor), not page numbers: the entries are ordered by
``(time, source rank, pk)`` descending, a page ends at its last entry, and the next page asks each
source for its ``size + 1`` newest rows strictly after that entry in this order. The sources are
merged in Python and cut to ``size``. So a page costs one query per source (plus a fixed number of
prefetches) and reads at most ``size + 1`` rows from each, however long the customer's history and
however deep the reader pages; an OFFSET would read every row before the page. The price is that
a page has no number: the timeline offers "Older" and "Newest", which is how a history is read.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Complaint, OutboxMessage, Promise, Touchpoint

TIMELINE_PAGE_SIZE = 25
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class TimelineSource:
    """
    One kind of thing on the timeline.

    ``rows(customer)`` is the customer's rows; ``time_field`` orders them; ``filters`` maps the
    timeline's filter keys this source answers to ``(label, condition)`` (``None``: all its rows);
    ``enrich(rows)`` may add to one page's rows with a bounded number of queries.
    """

    key: str
    rank: int
    template: str
    time_field: str
    rows: Callable[..., QuerySet]
    filters: dict = field(default_factory=dict)
    enrich: Callable[[list], None] | None = None

    def page(self, customer, condition, cursor, size):
        rows = self.rows(customer)
        if condition is not None:
            rows = rows.filter(condition)
        if cursor is not None:
            rows = rows.filter(self._after(cursor))
        rows = list(rows.order_by(f"-{self.time_field}", "-pk")[: size + 1])
        return [TimelineEntry(self, getattr(row, self.time_field), row) for row in rows]

    def _after(self, cursor):
        """
        Rows after the cursor in the order (time, rank, pk) descending. Written as a range on the
        time (``<=`` or ``<``) plus a filter, so the database walks the (customer, time) index
        from the cursor on instead of from the newest row.
        """
        at, rank, pk = cursor
        if self.rank < rank:
            return Q(**{f"{self.time_field}__lte": at})
        if self.rank == rank:
            return Q(**{f"{self.time_field}__lte": at}) & ~Q(**{self.time_field: at, "pk__gte": pk})
        return Q(**{f"{self.time_field}__lt": at})


@dataclass(frozen=True)
class TimelineEntry:
    source: TimelineSource
    at: datetime.datetime
    obj: object

    @property
    def template(self):
        return self.source.template

    @property
    def kind(self):
        return self.source.key

    @property
    def order(self):
        return (self.at, self.source.rank, self.obj.pk)

    @property
    def cursor(self):
        return f"{(self.at - EPOCH) // MICROSECOND}_{self.source.rank}_{self.obj.pk}"


@dataclass
class TimelinePage:
    entries: list
    has_next: bool
    next_cursor: str
    before: str
    kind: str

    @property
    def has_previous(self):
        return bool(self.before)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def __bool__(self):
        return bool(self.entries)


def parse_cursor(value):
    """``"<microseconds since epoch>_<rank>_<pk>"`` → (datetime, rank, pk); None if malformed."""
    try:
        micros, rank, pk = (int(part) for part in (value or "").split("_"))
        return EPOCH + datetime.timedelta(microseconds=micros), rank, pk
    except (TypeError, ValueError, OverflowError):
        return None


def _touchpoint_rows(customer):
    return (
        customer.touchpoints.select_related("author", "outbox_message")
        .prefetch_related("contacts")
    )


def _meeting_notes_state(entries):
    """Which meetings on the page have notes on their way (one query, only if there are any)."""
    meetings = {e.obj.pk: e.obj for e in entries if e.obj.kind == Touchpoint.Kind.MEETING}
    for meeting in meetings.values():
        meeting.notes_message = None
    if not meetings:
        return
    messages = OutboxMessage.objects.filter(
        program="meeting_notes", related_touchpoint__in=list(meetings)
    ).only("pk", "status", "created_at", "sent_at", "related_touchpoint_id", "to")
    for message in messages:
        meetings[message.related_touchpoint_id].notes_message = message


TOUCHPOINT_FILTERS = {
    "call": ("Calls", Q(kind=Touchpoint.Kind.CALL)),
    "meeting": ("Meetings", Q(kind=Touchpoint.Kind.MEETING)),
    "email": ("Emails", Q(kind=Touchpoint.Kind.EMAIL)),
    "visit": ("Visits", Q(kind=Touchpoint.Kind.VISIT)),
    "note": ("Notes", Q(kind=Touchpoint.Kind.NOTE)),
    "card": ("Cards and gifts", Q(kind=Touchpoint.Kind.CARD)),
    # Whatever the outbox sent: automated messages and emails sent from here (meeting notes).
    "messages": ("Messages sent", Q(outbox_message__isnull=False) | Q(kind=Touchpoint.Kind.SYSTEM)),
}

TOUCHPOINTS = TimelineSource(
    key="touchpoint", rank=0, template="touchpoints/timeline/_touchpoint.html",
    time_field="happened_at", rows=_touchpoint_rows, filters=TOUCHPOINT_FILTERS,
    enrich=_meeting_notes_state,
)
PROMISES = TimelineSource(
    key="promise", rank=1, template="touchpoints/timeline/_promise.html", time_field="created_at",
    rows=lambda customer: customer.promises.select_related("contact", "owner"),
    filters={"promises": ("Promises", None)},
)
COMPLAINTS = TimelineSource(
    key="complaint", rank=2, template="touchpoints/timeline/_complaint.html",
    time_field="opened_at",
    rows=lambda customer: customer.complaints.select_related("contact", "handled_by"),
    filters={"complaints": ("Complaints", None)},
)

# The extension point: the sources of the timeline, in the order their filters are offered.
TIMELINE_SOURCES = [TOUCHPOINTS, PROMISES, COMPLAINTS]


def timeline_filters(sources=None):
    """``[(key, label)]`` of the timeline's filters; the empty key shows everything."""
    return [(key, label) for source in (sources or TIMELINE_SOURCES)
            for key, (label, _) in source.filters.items()]


def timeline_page(*, customer, kind="", before="", sources=None, size=TIMELINE_PAGE_SIZE):
    """One page of the customer's timeline, newest first, optionally of one kind."""
    sources = sources or TIMELINE_SOURCES
    cursor = parse_cursor(before)
    chosen = [(s, None) for s in sources]
    if kind:
        chosen = [(s, s.filters[kind][1]) for s in sources if kind in s.filters]
        if not chosen:  # an unknown filter shows everything rather than nothing
            kind, chosen = "", [(s, None) for s in sources]
    entries = []
    for source, condition in chosen:
        entries += source.page(customer, condition, cursor, size)
    entries.sort(key=lambda e: e.order, reverse=True)
    page, has_next = entries[:size], len(entries) > size
    for source, _ in chosen:
        if source.enrich is not None:
            source.enrich([e for e in page if e.source is source])
    return TimelinePage(
        entries=page, has_next=has_next, next_cursor=page[-1].cursor if has_next else "",
        before=before if cursor else "", kind=kind,
    )


# The customer page's panels -----------------------------------------------------------------

PANEL_PROMISES = 50
PANEL_COMPLAINTS = 20


def promise_panel(customer):
    """What the promise panel shows: the customer's open promises, soonest due first."""
    return {
        "open_promises": customer.promises.open().select_related("contact")
        .order_by("due_on", "pk")[:PANEL_PROMISES],
        "local_today": customer.local_today(),
    }


def complaint_panel(customer, now=None):
    """What the complaint panel shows: the customer's complaints not closed, newest first, with urgency."""
    now = now or timezone.now()
    complaints = list(
        customer.complaints.exclude(status=Complaint.Status.CLOSED)
        .select_related("contact", "handled_by").order_by("-opened_at", "-pk")[:PANEL_COMPLAINTS]
    )
    return {"open_complaints": [(c, complaint_urgency(c, now)) for c in complaints]}


# Today ---------------------------------------------------------------------------------------

# Meetings older than this without notes are history, not a task: they leave Today.
MEETING_NOTES_LOOKBACK = datetime.timedelta(days=14)
MEETING_NOTES_GRACE = datetime.timedelta(hours=24)
NEAR_BREACH_SHARE = 0.25
NEAR_BREACH_MINIMUM = datetime.timedelta(hours=4)


def promises_due(*, viewer, owner, today, days=7, limit=50):
    """Open promises of ``owner`` that are overdue or due within ``days`` (oldest due first)."""
    return (
        Promise.objects.visible_to(viewer).open()
        .filter(owner=owner, due_on__lte=today + datetime.timedelta(days=days))
        .select_related("customer", "contact").order_by("due_on", "pk")[:limit]
    )


def complaints_open(*, viewer, user, limit=50):
    """
    Complaints not yet resolved that ``user`` handles (or, unassigned, owns the customer of),
    among those ``viewer`` sees, by their next deadline: the first response while new, then the
    resolution.
    """
    return (
        Complaint.objects.visible_to(viewer).unresolved()
        .filter(Q(handled_by=user) | Q(handled_by__isnull=True, customer__owner=user))
        .annotate(deadline=Case(When(status=Complaint.Status.NEW, then=F("first_response_due_at")),
                                default=F("resolution_due_at")))
        .select_related("customer", "contact").order_by("deadline", "pk")[:limit]
    )


def complaint_urgency(complaint, now):
    """
    'breached' past its current deadline; 'near' within 25 % of its window or 4 hours of it
    (whichever is longer, so a short critical window warns from the start); else 'ok'.
    """
    if complaint.status == Complaint.Status.NEW:
        deadline = complaint.first_response_due_at
    elif complaint.status == Complaint.Status.ACKNOWLEDGED:
        deadline = complaint.resolution_due_at
    else:
        return "ok"
    remaining = deadline - now
    if remaining < datetime.timedelta(0):
        return "breached"
    window = deadline - complaint.opened_at
    if remaining <= max(window * NEAR_BREACH_SHARE, NEAR_BREACH_MINIMUM):
        return "near"
    return "ok"


def meetings_without_notes(*, viewer, author, now, limit=50):
    """Meetings ``author`` held over 24 hours ago whose notes are neither sent nor on their way."""
    on_their_way = OutboxMessage.objects.filter(
        program="meeting_notes",
        status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING],
    ).values("related_touchpoint")
    return (
        Touchpoint.objects.visible_to(viewer).filter(
            author=author, kind=Touchpoint.Kind.MEETING,
            notes_sent_at__isnull=True, notes_not_needed=False,
            happened_at__lte=now - MEETING_NOTES_GRACE,
            happened_at__gte=now - MEETING_NOTES_LOOKBACK,
        )
        .exclude(pk__in=on_their_way)
        .select_related("customer").order_by("happened_at", "pk")[:limit]
    )


# Kept-on-time rate ---------------------------------------------------------------------------

PROMISE_RATE_DAYS = 90
ON_TIME = [Promise.Status.KEPT, Promise.Status.EXCEEDED]
CLOSED = [Promise.Status.KEPT, Promise.Status.LATE, Promise.Status.BROKEN, Promise.Status.EXCEEDED]


@dataclass(frozen=True)
class PromiseRate:
    on_time: int
    counted: int
    overdue: int

    @property
    def percent(self):
        return round(100 * self.on_time / self.counted) if self.counted else None


def promise_rates(*, viewer, owners, today, days=PROMISE_RATE_DAYS):
    """
    {owner id: PromiseRate} over the promises due in the last ``days`` days (today included) of
    the customers ``viewer`` sees: kept on time (kept or exceeded) out of those closed plus those
    still open past their date.

    Two aggregate queries for any number of owners: the window's promises, read from the
    ``promise_owner_rate`` index alone, and the few still open from before it (one query with
    an OR of the two read every promise of the window from the table: 60 ms for a manager's
    teams at a million customers). Owners without promises get a zero rate.
    """
    owners = _ids(owners)
    start = today - datetime.timedelta(days=days)
    promises = Promise.objects.visible_to(viewer).filter(owner__in=owners).order_by()
    overdue = Q(status=Promise.Status.OPEN, due_on__lt=today)
    window = (
        promises.filter(due_on__gte=start, due_on__lte=today).values("owner")
        # Counted on due_on (never null), not the id: every column read is in the index.
        .annotate(on_time=Count("due_on", filter=Q(status__in=ON_TIME)),
                  counted=Count("due_on", filter=Q(status__in=CLOSED) | overdue),
                  overdue=Count("due_on", filter=overdue))
    )
    late = dict(promises.filter(status=Promise.Status.OPEN, due_on__lt=start).values("owner")
                .annotate(n=Count("*")).values_list("owner", "n"))
    rates = {row["owner"]: PromiseRate(row["on_time"], row["counted"],
                                       row["overdue"] + late.get(row["owner"], 0)) for row in window}
    return {owner: rates.get(owner, PromiseRate(0, 0, late.get(owner, 0))) for owner in owners}


def complaint_records(*, viewer, handlers, now, days=PROMISE_RATE_DAYS):
    """
    {handler id: {"open", "breached", "resolved", "resolved_on_time"}}: complaints (of the
    customers ``viewer`` sees) open now and resolved in the last ``days`` days, by who handles
    them (the owner while nobody does). One aggregate query.
    """
    handlers = _ids(handlers)
    since = now - datetime.timedelta(days=days)
    unresolved = Q(status__in=[Complaint.Status.NEW, Complaint.Status.ACKNOWLEDGED])
    breached = unresolved & (
        Q(status=Complaint.Status.NEW, first_response_due_at__lt=now)
        | Q(resolution_due_at__lt=now)
    )
    resolved = Q(resolved_at__gte=since)
    rows = (
        Complaint.objects.visible_to(viewer)
        # Who handles it, else the customer's account manager (the complaint's copy: no join).
        .annotate(person=Coalesce("handled_by", "owner"))
        .filter(person__in=handlers)
        .filter(unresolved | resolved)
        .values("person")
        .annotate(
            open=Count("pk", filter=unresolved), breached=Count("pk", filter=breached),
            resolved=Count("pk", filter=resolved),
            resolved_on_time=Count("pk", filter=resolved & Q(resolved_at__lte=F("resolution_due_at"))),
        )
        .order_by()
    )
    empty = {"open": 0, "breached": 0, "resolved": 0, "resolved_on_time": 0}
    records = {row.pop("person"): row for row in rows}
    return {person: records.get(person, empty) for person in handlers}


def _ids(users):
    return [getattr(u, "pk", u) for u in users]
