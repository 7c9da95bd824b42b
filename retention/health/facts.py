"""
What the health score is computed from, read for a batch of customers with one query per source.

``facts_for(customer_ids, now=)`` returns ``{customer id: Facts}``. Each source is one grouped
query over the whole batch, so one customer costs the same few queries as two thousand, and the
nightly scan never reads customer by customer. The windows (how far back each source counts)
are here; what the facts are worth is in ``factors``.
"""

import datetime
from dataclasses import dataclass, field

import orjson
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
)
from django.db.models.functions import Cast
from django.utils import timezone

from customers.models import Contact, Customer, Purchase, in_program_q
from surveys.models import Invitation, Response
from touchpoints.models import Complaint, Promise, Touchpoint

from ..models import HealthOverride, HealthSnapshot

SURVEY_DAYS = 365  # an answer older than this says nothing any more
COMPLAINT_DAYS = 365  # resolved complaints count for this long
PROMISE_DAYS = 180  # broken and late promises count for this long (by their due date)
TREND_DAYS = 90  # the purchase trend: the last 90 days against the 90 before
RHYTHM_DAYS = 730  # the customer's own purchase rhythm is read from this long
INBOUND_DAYS = 90  # inbound touches (the customer reaching out) count for this long
INVITATION_DAYS = 365  # survey invitations answered or ignored count for this long

CUSTOMER_FIELDS = (
    "pk", "timezone", "cadence_days", "cadence_max_days",
    "last_contacted_at", "customer_since", "last_survey_score", "last_survey_kind",
    "last_survey_at", "health_score", "health_band", "team_id", "owner_id",
    "value_last_12_months",
)


@dataclass
class Facts:
    """Everything ``factors.assess`` needs to know about one customer, as of ``now``."""

    customer_id: int
    now: datetime.datetime
    today: datetime.date  # the customer's local date
    in_program: bool
    cadence_days: int
    cadence_max_days: int
    last_contact_on: datetime.date | None
    customer_since: datetime.date | None
    # The latest answer as the customer row keeps it (the surveys app does), and the answers of
    # the last SURVEY_DAYS, newest first: {score, kind, at, comment}.
    last_survey: dict | None = None
    responses: list = field(default_factory=list)
    # Unresolved complaints {id, summary, severity, status, opened_at, first_response_due_at,
    # resolution_due_at}; resolved ones opened in the last COMPLAINT_DAYS.
    open_complaints: list = field(default_factory=list)
    resolved_complaints: int = 0
    # Open promises {id, description, due_on}; broken and late ones due in the last PROMISE_DAYS.
    open_promises: list = field(default_factory=list)
    broken_promises: int = 0
    late_promises: int = 0
    # Purchases, in cents: the last TREND_DAYS and the TREND_DAYS before; over RHYTHM_DAYS, how
    # many and the first and last date.
    purchases_recent: int = 0
    purchases_before: int = 0
    purchase_count: int = 0
    first_purchase_on: datetime.date | None = None
    last_purchase_on: datetime.date | None = None
    inbound_touches: int = 0
    invitations: int = 0
    invitations_answered: int = 0
    invitations_ignored: int = 0
    contacts_with_email: int = 0
    contacts_unsubscribed: int = 0
    last_unsubscribed_on: datetime.date | None = None
    override: dict | None = None  # {score, comment, expires_on, by, at}
    # What was stored before: to tell a change (and write a snapshot) from none.
    stored: dict = field(default_factory=dict)
    last_snapshot: dict | None = None  # {date, score, band}


def facts_for(customer_ids, *, now=None):
    """``{customer id: Facts}`` for the customers ``customer_ids`` (those that exist)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = list(customer_ids)
    if not ids:
        return {}
    snapshots = HealthSnapshot.objects.filter(customer_id=OuterRef("pk")).order_by("-date")
    rows = (
        Customer.objects.filter(pk__in=ids).order_by("pk")
        .values(*CUSTOMER_FIELDS, in_program=ExpressionWrapper(in_program_q(), BooleanField()),
                snapshot_date=Subquery(snapshots.values("date")[:1]),
                snapshot_score=Subquery(snapshots.values("score")[:1]),
                snapshot_band=Subquery(snapshots.values("band")[:1]),
                # The stored reasons as text, decoded below by orjson: decoding them is the
                # largest single cost of reading a customer, and the scan reads every one.
                factors_text=Cast("health_factors", TextField()))
    )
    facts = {}
    for row in rows:
        zone = _zone(row["timezone"])
        last_contacted = row["last_contacted_at"]
        facts[row["pk"]] = Facts(
            customer_id=row["pk"], now=now, today=now.astimezone(zone).date(),
            in_program=bool(row["in_program"]),
            cadence_days=row["cadence_days"], cadence_max_days=row["cadence_max_days"],
            last_contact_on=last_contacted.astimezone(zone).date() if last_contacted else None,
            customer_since=row["customer_since"],
            last_survey=_last_survey(row),
            stored={"score": row["health_score"], "band": row["health_band"],
                    "factors": _decoded(row["factors_text"]), "team_id": row["team_id"],
                    "owner_id": row["owner_id"], "annual_value": row["value_last_12_months"]},
            last_snapshot=None if row["snapshot_date"] is None else {
                "date": row["snapshot_date"], "score": row["snapshot_score"], "band": row["snapshot_band"]},
        )
    # Customers outside the program (prospects, churned, archived) have no score: nothing to read.
    ids = [pk for pk, customer in facts.items() if customer.in_program]
    if not ids:
        return facts
    # Each source is read for the range of the batch's ids (an index range, and a short statement
    # however many ids); the rows of customers in the range but not in the batch are left aside.
    batch, span = {pk: facts[pk] for pk in ids}, (min(ids), max(ids))
    _read_surveys(batch, span, now)
    _read_complaints(batch, span, now)
    _read_promises(batch, span, today)
    _read_purchases(batch, span, today)
    _read_engagement(batch, span, now)
    _read_overrides(batch, span, today)
    return facts


def _each(batch, rows):
    """(facts, row) for each of ``rows`` whose customer is in ``batch``: the range holds others."""
    for row in rows:
        customer = batch.get(row["customer_id"])
        if customer is not None:
            yield customer, row


def _decoded(text):
    return None if text is None else orjson.loads(text)


def _zone(name):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def _last_survey(row):
    score, at = row["last_survey_score"], row["last_survey_at"]
    if score is None or at is None:
        return None
    return {"score": score, "kind": row["last_survey_kind"] or "nps", "at": at, "comment": ""}


def _read_surveys(batch, span, now):
    answers = (
        Response.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1],
                                created_at__gte=now - datetime.timedelta(days=SURVEY_DAYS))
        .order_by("-created_at", "-pk")
        .values("customer_id", "score", "comment", "created_at", "kind")
    )
    for customer, answer in _each(batch, answers):
        customer.responses.append({
            "score": answer["score"], "kind": answer["kind"], "at": answer["created_at"],
            "comment": answer["comment"],
        })


def _read_complaints(batch, span, now):
    unresolved = [Complaint.Status.NEW, Complaint.Status.ACKNOWLEDGED]
    for customer, complaint in _each(batch, (
        Complaint.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1], status__in=unresolved)
        .order_by("opened_at", "pk")
        .values("pk", "customer_id", "summary", "severity", "status", "opened_at",
                "first_response_due_at", "resolution_due_at")
    )):
        customer.open_complaints.append(complaint)
    for customer, row in _each(batch, (
        Complaint.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1])
        .exclude(status__in=unresolved)
        .filter(opened_at__gte=now - datetime.timedelta(days=COMPLAINT_DAYS))
        .order_by().values("customer_id").annotate(n=Count("pk"))
    )):
        customer.resolved_complaints = row["n"]


def _read_promises(batch, span, today):
    for customer, promise in _each(batch, (
        Promise.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1], status=Promise.Status.OPEN)
        .order_by("due_on", "pk").values("pk", "customer_id", "description", "due_on")
    )):
        customer.open_promises.append(promise)
    for customer, row in _each(batch, (
        Promise.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1],
                               due_on__gt=today - datetime.timedelta(days=PROMISE_DAYS),
                               status__in=[Promise.Status.BROKEN, Promise.Status.LATE])
        .order_by().values("customer_id")
        .annotate(broken=Count("pk", filter=Q(status=Promise.Status.BROKEN)),
                  late=Count("pk", filter=Q(status=Promise.Status.LATE)))
    )):
        customer.broken_promises, customer.late_promises = row["broken"], row["late"]


def _read_purchases(batch, span, today):
    recent = today - datetime.timedelta(days=TREND_DAYS)
    before = today - datetime.timedelta(days=2 * TREND_DAYS)
    for customer, row in _each(batch, (
        Purchase.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1],
                                date__gt=today - datetime.timedelta(days=RHYTHM_DAYS), date__lte=today)
        .order_by().values("customer_id")
        .annotate(recent=Sum("amount", filter=Q(date__gt=recent)),
                  before=Sum("amount", filter=Q(date__gt=before, date__lte=recent)),
                  n=Count("pk"), first=Min("date"), last=Max("date"))
    )):
        customer.purchases_recent = _cents(row["recent"])
        customer.purchases_before = _cents(row["before"])
        customer.purchase_count = row["n"]
        customer.first_purchase_on, customer.last_purchase_on = row["first"], row["last"]


def _cents(amount):
    return int(round(amount * 100)) if amount is not None else 0


def _read_engagement(batch, span, now):
    for customer, row in _each(batch, (
        Touchpoint.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1],
                                  direction=Touchpoint.Direction.INBOUND,
                                  happened_at__gte=now - datetime.timedelta(days=INBOUND_DAYS),
                                  happened_at__lte=now)
        .order_by().values("customer_id").annotate(n=Count("pk"))
    )):
        customer.inbound_touches = row["n"]
    for customer, row in _each(batch, (
        Invitation.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1],
                                  created_at__gte=now - datetime.timedelta(days=INVITATION_DAYS))
        .order_by().values("customer_id")
        .annotate(n=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)),
                  ignored=Count("pk", filter=Q(answered_at__isnull=True, expires_at__lte=now)))
    )):
        customer.invitations = row["n"]
        customer.invitations_answered, customer.invitations_ignored = row["answered"], row["ignored"]
    for customer, row in _each(batch, (
        Contact.objects.filter(customer_id__gte=span[0], customer_id__lte=span[1]).exclude(email="")
        .order_by().values("customer_id")
        .annotate(n=Count("pk"), unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
                  last=Max("unsubscribed_at"))
    )):
        customer.contacts_with_email, customer.contacts_unsubscribed = row["n"], row["unsubscribed"]
        if row["last"] is not None:
            customer.last_unsubscribed_on = timezone.localdate(row["last"])


def _read_overrides(batch, span, today):
    for customer, row in _each(batch, (
        HealthOverride.objects.active(today).filter(customer_id__gte=span[0], customer_id__lte=span[1])
        .values("pk", "customer_id", "score", "comment", "expires_on", "created_at",
                "created_by__first_name", "created_by__last_name", "created_by__username")
    )):
        by = " ".join(filter(None, [row["created_by__first_name"], row["created_by__last_name"]]))
        customer.override = {
            "id": row["pk"], "score": row["score"], "comment": row["comment"],
            "expires_on": row["expires_on"], "at": row["created_at"],
            "by": by or row["created_by__username"] or "someone no longer here",
        }
