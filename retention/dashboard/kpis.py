"""
The dashboard's figures for a scope and period, each against the previous period: customers by
band, value at risk and check-ins overdue (now against the start of the period, from the nightly
``BookDay`` tally), coverage per account manager, NPS and CSAT, complaints, the promise kept-on-time
rate, customers churned (with their reasons), saved and won back, and the 12-month gross and net
revenue retention. One aggregate query per source, whatever the size of the book.
"""

import datetime
import statistics
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

from customers.models import Customer, CustomerChange
from surveys.models import Response, Survey
from touchpoints.models import Complaint, Promise
from touchpoints.selectors import CLOSED, ON_TIME

from ..health.risk import MONEY, value_at_risk_expression
from ..health.tally import coverage_counts, revenue_retention, with_overdue_on
from ..models import BookDay, HealthSnapshot

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


def _percent(part, whole, digits=0):
    return round(100 * part / whole, digits) if whole else None


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
    """The scope's ``BookDay`` rows of the latest tally on or before ``day``, per owner (one query)."""
    latest = scope.of_books(BookDay.objects.filter(date__lte=day)).order_by("-date").values("date")[:1]
    return list(
        scope.of_books(BookDay.objects.filter(date=Subquery(latest))).order_by()
        .values("date", "owner_id").annotate(
            customers=Sum("customers"), healthy=Sum("healthy"), watch=Sum("watch"),
            at_risk=Sum("at_risk"), unknown=Sum("unknown"), value_at_risk=Sum("value_at_risk"),
            covered=Sum("covered"), due=Sum("due"), overdue=Sum("overdue"),
            revenue_base=Sum("revenue_base"), revenue_kept=Sum("revenue_kept"),
            revenue_now=Sum("revenue_now"),
        )
    )


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


def coverage_by_owner(scope, now_rows, start_rows):
    """Coverage per account manager now and at the start of the period, most overdue first."""
    people = get_user_model().objects.in_bulk({row["owner_id"] for row in now_rows} - {None})
    at_start = {row["owner_id"]: row for row in start_rows}
    by_owner = {}
    for row in now_rows:
        entry = by_owner.setdefault(row["owner_id"], {"customers": 0, "covered": 0, "due": 0, "overdue": 0})
        for key in entry:
            entry[key] += row[key]
    rows = []
    for owner_id, entry in by_owner.items():
        before = at_start.get(owner_id) or {}
        rows.append({
            "owner": people.get(owner_id), "owner_id": owner_id, **entry,
            "coverage": _percent(entry["covered"], entry["customers"]),
            "coverage_before": _percent(before.get("covered"), before.get("customers"))
            if before.get("covered") is not None else None,
        })
    rows.sort(key=lambda r: (r["coverage"] if r["coverage"] is not None else 101, -r["overdue"],
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


def surveys(scope):
    """NPS (promoters − detractors, % of answers) and CSAT (% answering 4 or 5), per period."""
    periods = _periods(scope)
    aggregates = {}
    for name, (start, end) in periods.items():
        when = Q(created_at__gte=start, created_at__lt=end)
        nps = when & Q(kind=Survey.Kind.NPS)
        csat = when & Q(kind=Survey.Kind.CSAT)
        aggregates.update({
            f"nps_{name}": Count("pk", filter=nps),
            f"promoters_{name}": Count("pk", filter=nps & Q(category=Response.Category.PROMOTER)),
            f"detractors_{name}": Count("pk", filter=nps & Q(category=Response.Category.DETRACTOR)),
            f"csat_{name}": Count("pk", filter=csat),
            f"satisfied_{name}": Count("pk", filter=csat & Q(score__gte=4)),
        })
    start = periods["before"][0]
    row = (scope.of_customers(Response.objects.filter(created_at__gte=start))
           .alias(kind=F("invitation__survey__kind")).aggregate(**aggregates))
    result = {}
    for name in periods:
        answers = row[f"nps_{name}"]
        result[name] = {
            "nps": round(100 * (row[f"promoters_{name}"] - row[f"detractors_{name}"]) / answers)
            if answers else None,
            "nps_answers": answers,
            "csat": _percent(row[f"satisfied_{name}"], row[f"csat_{name}"]),
            "csat_answers": row[f"csat_{name}"],
        }
    return result


def complaints(scope, now=None):
    """Open now and at the period's start, targets missed and median hours to resolve, per period."""
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
        missed = Q(resolution_due_at__gte=start, resolution_due_at__lt=min(end, now)) & (
            Q(resolved_at__isnull=True) | Q(resolved_at__gt=F("resolution_due_at")))
        aggregates[f"opened_{name}"] = Count("pk", filter=Q(opened_at__gte=start, opened_at__lt=end))
        aggregates[f"resolved_{name}"] = Count("pk", filter=resolved)
        aggregates[f"missed_{name}"] = Count("pk", filter=missed)
        if connection.vendor == "postgresql":
            aggregates[f"median_{name}"] = Median(took, filter=resolved, output_field=DurationField())
    relevant = (unresolved | Q(resolved_at__gte=periods["before"][0])
                | Q(resolution_due_at__gte=periods["before"][0]))
    row = scope.of_customers(Complaint.objects.filter(relevant)).aggregate(**aggregates)
    for name, (start, end) in periods.items():
        if connection.vendor != "postgresql":
            row[f"median_{name}"] = _median(scope, took, start, end)
        median = row[f"median_{name}"]
        row[f"median_hours_{name}"] = round(median.total_seconds() / 3600, 1) if median is not None else None
    return row


def _median(scope, took, start, end):
    """The median outside PostgreSQL (the embedded SQLite default): the period's few durations."""
    durations = list(scope.of_customers(Complaint.objects.filter(resolved_at__gte=start, resolved_at__lt=end))
                     .annotate(took=took).values_list("took", flat=True))
    return statistics.median(durations) if durations else None


def promises(scope):
    """Kept on time out of those closed or overdue, of the promises due in each period."""
    today = scope.today
    overdue = Q(status=Promise.Status.OPEN, due_on__lt=today)
    aggregates = {}
    windows = {"now": (scope.start + datetime.timedelta(days=1), today),
               "before": (scope.previous_start + datetime.timedelta(days=1), scope.start)}
    for name, (first, last) in windows.items():
        window = Q(due_on__gte=first, due_on__lte=last)
        aggregates[f"on_time_{name}"] = Count("pk", filter=window & Q(status__in=ON_TIME))
        aggregates[f"counted_{name}"] = Count("pk", filter=window & (Q(status__in=CLOSED) | overdue))
    row = scope.of_customers(Promise.objects.filter(due_on__gt=scope.previous_start)).aggregate(**aggregates)
    return {name: {"rate": _percent(row[f"on_time_{name}"], row[f"counted_{name}"]),
                   "counted": row[f"counted_{name}"]} for name in windows}


def churn(scope):
    """Customers churned (with the commonest reasons) and won back in each period."""
    periods = _periods(scope)
    customers = scope.customers().filter(archived_at__isnull=True)
    churned = customers.filter(status=Customer.Status.CHURNED,
                               status_changed_at__gte=periods["before"][0])
    counts = churned.aggregate(**{
        name: Count("pk", filter=Q(status_changed_at__gte=start, status_changed_at__lt=end))
        for name, (start, end) in periods.items()
    })
    start, end = periods["now"]
    reasons = list(
        churned.filter(status_changed_at__gte=start, status_changed_at__lt=end).order_by()
        .values("churn_reason").annotate(n=Count("pk")).order_by("-n", "churn_reason")[:CHURN_REASONS]
    )
    won_back = scope.of_customers(CustomerChange.objects.filter(
        field="status", old_value=Customer.Status.CHURNED, new_value=Customer.Status.ACTIVE,
        changed_at__gte=periods["before"][0],
    )).aggregate(**{
        name: Count("customer", distinct=True, filter=Q(changed_at__gte=s, changed_at__lt=e))
        for name, (s, e) in periods.items()
    })
    return {"churned": counts, "reasons": reasons, "won_back": won_back}


def band_changes(scope):
    """Customers who became at risk, and saves (back to healthy from at risk), in each period."""
    windows = {"now": (scope.start + datetime.timedelta(days=1), scope.today),
               "before": (scope.previous_start + datetime.timedelta(days=1), scope.start)}
    changes = scope.of_customers(
        HealthSnapshot.objects.filter(date__gt=scope.previous_start, date__lte=scope.today)
        .exclude(band=F("previous_band"))
    )
    aggregates = {}
    for name, (first, last) in windows.items():
        when = Q(date__gte=first, date__lte=last)
        aggregates[f"at_risk_{name}"] = Count("customer", distinct=True,
                                              filter=when & Q(band=HealthBand.AT_RISK))
        aggregates[f"saved_{name}"] = Count("customer", distinct=True, filter=when & Q(saved=True))
    return changes.aggregate(**aggregates)


# All of it ---------------------------------------------------------------------------------------


def dashboard_figures(scope):
    """Everything the dashboard's figures need for ``scope``: a fixed number of queries."""
    now_rows = book_rows(scope)
    start_rows = tally_on(scope, scope.start)
    latest_rows = tally_on(scope, scope.today)
    total_now = {key: _total(now_rows, key) or 0 for key in
                 ("customers", "healthy", "watch", "at_risk", "unknown", "covered", "due", "overdue",
                  "value_at_risk")}
    total_start = {key: _total(start_rows, key) for key in
                   ("customers", "healthy", "watch", "at_risk", "unknown", "covered", "overdue",
                    "value_at_risk", "revenue_base", "revenue_kept", "revenue_now")}
    total_latest = {key: _total(latest_rows, key) for key in ("revenue_base", "revenue_kept", "revenue_now")}
    grr, nrr = revenue_retention(total_latest["revenue_base"], total_latest["revenue_kept"],
                                 total_latest["revenue_now"])
    grr_before, nrr_before = revenue_retention(total_start["revenue_base"], total_start["revenue_kept"],
                                               total_start["revenue_now"])
    survey = surveys(scope)
    complaint = complaints(scope)
    promise = promises(scope)
    churned = churn(scope)
    changes = band_changes(scope)
    coverage = _percent(total_now["covered"], total_now["customers"])
    coverage_before = _percent(total_start["covered"], total_start["customers"]) \
        if total_start["covered"] is not None else None
    start_day = start_rows[0]["date"] if start_rows else None
    latest_day = latest_rows[0]["date"] if latest_rows else None
    bands = [Kpi(label, total_now[key], total_start[key], better="up" if key == "healthy" else
                 ("down" if key in ("at_risk", "unknown") else "flat"))
             for key, label in BANDS]
    kpis = {
        "bands": bands,
        "value_at_risk": Kpi("Value at risk", total_now["value_at_risk"], total_start["value_at_risk"],
                             better="down"),
        "coverage": Kpi("Coverage", coverage, coverage_before, "%"),
        "overdue": Kpi("Check-ins overdue", total_now["overdue"], total_start["overdue"], better="down"),
        "nps": Kpi("NPS", survey["now"]["nps"], survey["before"]["nps"],
                   note=f"{survey['now']['nps_answers']} answers"),
        "csat": Kpi("CSAT", survey["now"]["csat"], survey["before"]["csat"], "%",
                    note=f"{survey['now']['csat_answers']} answers"),
        "complaints_open": Kpi("Complaints open", complaint["open"], complaint["open_before"],
                               better="down", note=f"{complaint['breached']} past target"),
        "complaints_missed": Kpi("Resolution targets missed", complaint["missed_now"],
                                 complaint["missed_before"], better="down"),
        "resolve_hours": Kpi("Median time to resolve", complaint["median_hours_now"],
                             complaint["median_hours_before"], " h", better="down",
                             note=f"{complaint['resolved_now']} resolved"),
        "promises": Kpi("Promises kept on time", promise["now"]["rate"], promise["before"]["rate"], "%",
                        note=f"{promise['now']['counted']} due"),
        "churned": Kpi("Churned", churned["churned"]["now"], churned["churned"]["before"], better="down"),
        "saved": Kpi("Saved", changes["saved_now"], changes["saved_before"],
                     note="back to healthy from at risk"),
        "won_back": Kpi("Won back", churned["won_back"]["now"], churned["won_back"]["before"]),
        "became_at_risk": Kpi("Became at risk", changes["at_risk_now"], changes["at_risk_before"],
                              better="down"),
        "grr": Kpi("Gross revenue retention", grr, grr_before, "%", note="12 months"),
        "nrr": Kpi("Net revenue retention", nrr, nrr_before, "%", note="12 months"),
    }
    return {
        "kpis": kpis, "churn_reasons": churned["reasons"],
        "coverage_rows": coverage_by_owner(scope, now_rows, start_rows),
        "history": band_history(scope), "start_day": start_day, "latest_day": latest_day,
    }


def at_risk_added(scope, first, last):
    """Customers who became at risk between ``first`` and ``last`` and still are (for the digest)."""
    became = HealthSnapshot.objects.filter(
        customer=OuterRef("pk"), date__gte=first, date__lte=last, band=HealthBand.AT_RISK,
    ).exclude(previous_band=HealthBand.AT_RISK)
    return scope.customers().in_program().filter(health_band=HealthBand.AT_RISK).filter(Exists(became))
