"""
The dashboard's figures for a scope and period, each against the previous period: customers by
band, value at risk and check-ins overdue (now against the start of the period, from the nightly
``BookDay`` tally), coverage per account manager, NPS and CSAT, complaints, the promise kept-on-time
rate, customers churned (with their reasons), saved and won back, and the 12-month gross and net
revenue retention. One aggregate query per source, whatever the size of the book.
"""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.utils import timezone

from customers.models import Customer
from touchpoints.models import Complaint

from ..health.risk import MONEY, value_at_risk_expression
from ..health.tally import coverage_counts, revenue_retention, with_overdue_on
from ..models import BookDay, HealthSnapshot
from .cohorts import cohort_table, merged_cohorts

HealthBand = Customer.HealthBand
BANDS = [("healthy", "Healthy"), ("watch", "Watch"), ("at_risk", "At risk"), ("unknown", "Unknown")]
CHURN_REASONS = 5


@dataclass
class Kpi:
    """A figure and what it was before; ``better`` says which way is good ("up" or "down")."""

    label: str
    value: object
    previous: object = None
    unit: str = ""
    better: str = "up"
    note: str = ""

    @property
    def change(self):
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)

    @property
    def trend(self):
        """"good", "bad" or "flat" (or None when there is nothing to compare with)."""
        change = self.change
        if change is None:
            return None
        if change == 0:
            return "flat"
        return "good" if (change > 0) == (self.better == "up") else "bad"


class Median(Aggregate):
    """PostgreSQL's median (``percentile_cont(0.5)``); elsewhere see ``_median_hours``."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def _percent(part, whole):
    """A whole percent, or None when there is nothing to divide by."""
    return round(100 * part / whole) if whole else None


# Books: bands, value at risk, coverage -----------------------------------------------------------


def book_rows(scope):
    """Live counts of the scope's customers in the program, per team and owner (one query)."""
    customers = with_overdue_on(scope.customers().in_program()).order_by()
    return list(customers.values("team_id", "owner_id").annotate(
        customers=Count("pk"),
        healthy=Count("pk", filter=Q(health_band=HealthBand.HEALTHY)),
        watch=Count("pk", filter=Q(health_band=HealthBand.WATCH)),
        at_risk=Count("pk", filter=Q(health_band=HealthBand.AT_RISK)),
        unknown=Count("pk", filter=Q(health_band="")),
        value_at_risk=Sum(value_at_risk_expression(), filter=Q(health_band=HealthBand.AT_RISK),
                          output_field=MONEY, default=0),
        **coverage_counts(scope.today),
    ))


def tally_on(scope, day):
    """The scope's ``BookDay`` rows of its latest tally on or before ``day`` (one query)."""
    latest = scope.of_books(BookDay.objects.filter(date__lte=day)).order_by("-date").values("date")[:1]
    return list(scope.of_books(BookDay.objects.filter(date=Subquery(latest))).order_by().values(
        "date", "team_id", "owner_id", "customers", "healthy", "watch", "at_risk", "unknown",
        "value_at_risk", "covered", "due", "overdue", "revenue_base", "revenue_kept", "revenue_now",
        "figures",
    ))


def flows(rows, days):
    """The period figures of ``rows`` (``BookDay`` values) for ``days``, added up over the books."""
    total, reasons = defaultdict(int), defaultdict(int)
    for row in rows:
        for key, value in ((row.get("figures") or {}).get(str(days)) or {}).items():
            if key == "reasons":
                for reason, n in value.items():
                    reasons[reason] += n
            else:
                total[key] += value
    total["reasons"] = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:CHURN_REASONS]
    return total if rows else None


def band_history(scope):
    """[{date, healthy, watch, at_risk, unknown, value_at_risk}] of the tallies in the period."""
    return list(
        scope.of_books(BookDay.objects.filter(date__gte=scope.start, date__lte=scope.today))
        .order_by("date").values("date").annotate(
            healthy=Sum("healthy"), watch=Sum("watch"), at_risk=Sum("at_risk"),
            unknown=Sum("unknown"), value_at_risk=Sum("value_at_risk"),
        )
    )


def _total(rows, key):
    values = [row[key] for row in rows if row.get(key) is not None]
    return sum(values) if values else None


def _by_owner(rows):
    """{owner id: {customers, covered, due, overdue}} summed over the owner's books; the coverage
    counts None where a row does not know them (a tally of a day the scan did not run)."""
    owners = {}
    for row in rows:
        entry = owners.setdefault(row["owner_id"], {"customers": 0, "covered": 0, "due": 0, "overdue": 0})
        entry["customers"] += row["customers"]
        for key in ("covered", "due", "overdue"):
            entry[key] = None if entry[key] is None or row[key] is None else entry[key] + row[key]
    return owners


def coverage_by_owner(scope, now_rows, start_rows):
    """Coverage per account manager now and at the start of the period, least covered first."""
    people = get_user_model().objects.in_bulk({row["owner_id"] for row in now_rows} - {None})
    at_start = _by_owner(start_rows)
    rows = []
    for owner_id, entry in _by_owner(now_rows).items():
        before = at_start.get(owner_id) or {}
        known = entry["covered"] is not None
        rows.append({
            "owner": people.get(owner_id), "owner_id": owner_id, **entry,
            "coverage": _percent(entry["covered"], entry["customers"]) if known else None,
            "coverage_before": _percent(before["covered"], before["customers"])
            if before.get("covered") is not None else None,
        })
    rows.sort(key=lambda r: (r["coverage"] if r["coverage"] is not None else 101, -(r["overdue"] or 0),
                             r["owner"].get_full_name() if r["owner"] else ""))
    return rows


# Flows of the period ------------------------------------------------------------------------------


def _periods(scope):
    """Q filters of the period and the one before, on a date or datetime field."""
    zone = timezone.get_current_timezone()

    def moment(day):
        return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)

    tomorrow = scope.today + datetime.timedelta(days=1)
    return {
        "now": (moment(scope.start + datetime.timedelta(days=1)), moment(tomorrow)),
        "before": (moment(scope.previous_start + datetime.timedelta(days=1)),
                   moment(scope.start + datetime.timedelta(days=1))),
    }


def complaints(scope, now=None):
    """
    Complaints open now (and past target) and at the period's start, and the median hours to
    resolve in the period and the one before: live, from the few complaints open or resolved lately.
    """
    now = now or timezone.now()
    periods = _periods(scope)
    unresolved = Q(status__in=[Complaint.Status.NEW, Complaint.Status.ACKNOWLEDGED])
    # Past its current deadline, as touchpoints.selectors.complaint_records counts it.
    breached = unresolved & (Q(status=Complaint.Status.NEW, first_response_due_at__lt=now)
                             | Q(resolution_due_at__lt=now))
    period_start = periods["now"][0]
    aggregates = {
        "open": Count("pk", filter=unresolved),
        "breached": Count("pk", filter=breached),
        "open_before": Count("pk", filter=Q(opened_at__lt=period_start)
                             & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=period_start))),
    }
    took = ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField())
    for name, (start, end) in periods.items():
        resolved = Q(resolved_at__gte=start, resolved_at__lt=end)
        aggregates[f"resolved_{name}"] = Count("pk", filter=resolved)
        if connection.vendor == "postgresql":
            aggregates[f"median_{name}"] = Median(took, filter=resolved, output_field=DurationField())
    relevant = unresolved | Q(resolved_at__gte=periods["before"][0])
    row = scope.of_customers(Complaint.objects.filter(relevant), path="").aggregate(**aggregates)
    for name, (start, end) in periods.items():
        if connection.vendor != "postgresql":
            row[f"median_{name}"] = _median(scope, took, start, end)
        median = row[f"median_{name}"]
        row[f"median_hours_{name}"] = round(median.total_seconds() / 3600, 1) if median is not None else None
    return row


def _median(scope, took, start, end):
    """The median outside PostgreSQL (the embedded SQLite default): the period's few durations."""
    resolved = Complaint.objects.filter(resolved_at__gte=start, resolved_at__lt=end)
    durations = list(scope.of_customers(resolved, path="").annotate(took=took).values_list("took", flat=True))
    return statistics.median(durations) if durations else None


# All of it ---------------------------------------------------------------------------------------


def _nps(figures):
    if not figures or not figures.get("nps"):
        return None
    return round(100 * (figures["promoters"] - figures["detractors"]) / figures["nps"])


def _get(figures, key, default=None):
    return figures.get(key, 0) if figures is not None else default


def _hours_or_days(now, before):
    """(now, before, unit): in hours, or in days when either is two days or more."""
    if max(value or 0 for value in (now, before)) < 48:
        return now, before, " h"
    return tuple(None if v is None else round(v / 24, 1) for v in (now, before)) + (" days",)


def dashboard_figures(scope):
    """Everything the dashboard's figures need for ``scope``: a fixed number of small queries."""
    latest_rows = tally_on(scope, scope.today)
    start_rows = tally_on(scope, scope.start)
    keys = ("customers", "healthy", "watch", "at_risk", "unknown", "covered", "due", "overdue",
            "value_at_risk", "revenue_base", "revenue_kept", "revenue_now")
    now = {key: _total(latest_rows, key) for key in keys}
    before = {key: _total(start_rows, key) for key in keys}
    grr, nrr = revenue_retention(now["revenue_base"], now["revenue_kept"], now["revenue_now"])
    grr_before, nrr_before = revenue_retention(before["revenue_base"], before["revenue_kept"],
                                               before["revenue_now"])
    period, previous = flows(latest_rows, scope.days), flows(start_rows, scope.days)
    complaint = complaints(scope)
    coverage = _percent(now["covered"], now["customers"]) if now["covered"] is not None else None
    coverage_before = _percent(before["covered"], before["customers"]) \
        if before["covered"] is not None else None
    bands = [Kpi(label, now[key], before[key], better="up" if key == "healthy" else
                 ("down" if key in ("at_risk", "unknown") else "flat"))
             for key, label in BANDS]
    kpis = {
        "bands": bands,
        "value_at_risk": Kpi("Value at risk", now["value_at_risk"], before["value_at_risk"], better="down"),
        "coverage": Kpi("Coverage", coverage, coverage_before, "%"),
        "overdue": Kpi("Check-ins overdue", now["overdue"], before["overdue"], better="down"),
        "nps": Kpi("NPS", _nps(period), _nps(previous), note=f"{_get(period, 'nps', 0)} answers"),
        "csat": Kpi("CSAT", _percent(_get(period, "satisfied"), _get(period, "csat")),
                    _percent(_get(previous, "satisfied"), _get(previous, "csat")), "%",
                    note=f"{_get(period, 'csat', 0)} answers"),
        "complaints_open": Kpi("Complaints open", complaint["open"], complaint["open_before"],
                               better="down", note=f"{complaint['breached']} past target"),
        "complaints_missed": Kpi("Resolution targets missed", _get(period, "missed"),
                                 _get(previous, "missed"), better="down"),
        "resolve_hours": Kpi("Median time to resolve", *_hours_or_days(
                                 complaint["median_hours_now"], complaint["median_hours_before"]),
                             better="down",
                             note=f"{complaint['resolved_now']} resolved"),
        "promises": Kpi("Promises kept on time", _percent(_get(period, "on_time"), _get(period, "promises")),
                        _percent(_get(previous, "on_time"), _get(previous, "promises")), "%",
                        note=f"{_get(period, 'promises', 0)} due"),
        "churned": Kpi("Churned", _get(period, "churned"), _get(previous, "churned"), better="down"),
        "saved": Kpi("Saved", _get(period, "saved"), _get(previous, "saved"),
                     note="back to healthy from at risk"),
        "won_back": Kpi("Won back", _get(period, "won_back"), _get(previous, "won_back")),
        "became_at_risk": Kpi("Became at risk", _get(period, "became_at_risk"),
                              _get(previous, "became_at_risk"), better="down"),
        "grr": Kpi("Gross revenue retention", grr, grr_before, "%", note="12 months"),
        "nrr": Kpi("Net revenue retention", nrr, nrr_before, "%", note="12 months"),
    }
    return {
        "kpis": kpis, "churn_reasons": (period or {}).get("reasons") or [],
        "coverage_rows": coverage_by_owner(scope, latest_rows, start_rows),
        "history": band_history(scope),
        "start_day": start_rows[0]["date"] if start_rows else None,
        "latest_day": latest_rows[0]["date"] if latest_rows else None,
        "cohorts": cohort_table(merged_cohorts(latest_rows),
                                latest_rows[0]["date"] if latest_rows else scope.today),
    }


def at_risk_added(scope, first, last):
    """Customers who became at risk between ``first`` and ``last`` and still are (for the digest)."""
    became = HealthSnapshot.objects.filter(
        customer=OuterRef("pk"), date__gte=first, date__lte=last, band=HealthBand.AT_RISK,
    ).exclude(previous_band=HealthBand.AT_RISK)
    return scope.customers().in_program().filter(health_band=HealthBand.AT_RISK).filter(Exists(became))
