"""
What happened in each book over the 30, 90 and 365 days to a day, and its cohorts: counted at night
into ``BookDay.figures`` so the dashboard adds up a few dozen rows instead of scanning a year of
answers, promises, snapshots and status changes at every request.

Per book (a team's customers of one owner, as they are now) and period length, in
``figures[str(days)]``: NPS answers, promoters and detractors; CSAT answers and satisfied ones (4
or 5); promises due and kept on time (of those closed or overdue, as ``promise_rates`` counts);
complaint resolution targets that fell due unmet and complaints resolved; customers churned (and
why), won back, become at risk and saved. In ``figures["cohorts"]``: the customers who joined in
each of the 12 months to the day, and in which month after joining those lost were lost.

Every count is one grouped query per source for all periods at once (a FILTER per period).
"""

import datetime
from collections import defaultdict

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone

from customers.models import Customer, CustomerChange
from surveys.models import Response, Survey
from touchpoints.models import Complaint, Promise
from touchpoints.selectors import CLOSED, ON_TIME

from ..models import HealthSnapshot

PERIOD_DAYS = (30, 90, 365)
COHORT_MONTHS = 12
REASONS_KEPT = 10


def _moment(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


def _windows(on):
    """{days: (first day, last day)} of each period ending with ``on``."""
    return {days: (on - datetime.timedelta(days=days - 1), on) for days in PERIOD_DAYS}


def _counted(rows, windows, path="customer__"):
    """{(team, owner): {days: {key: n}}} from grouped ``rows`` with one count per period."""
    books = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        book = (row[f"{path}team_id"], row[f"{path}owner_id"])
        for days in windows:
            for name, value in row.items():
                if name.endswith(f"_{days}"):
                    books[book][days][name.removesuffix(f"_{days}")] = value
    return books


def book_flows(on):
    """{(team, owner): figures} for day ``on`` (see the module's docstring)."""
    windows = _windows(on)
    since = _moment(min(first for first, _ in windows.values()))
    until = _moment(on + datetime.timedelta(days=1))
    books = defaultdict(lambda: {str(days): {} for days in PERIOD_DAYS})

    def merge(counted):
        for book, periods in counted.items():
            for days, values in periods.items():
                books[book][str(days)].update(values)

    keys = ("customer__team_id", "customer__owner_id")
    answers = {}
    for days, (first, _) in windows.items():
        when = Q(created_at__gte=_moment(first))
        nps, csat = when & Q(kind=Survey.Kind.NPS), when & Q(kind=Survey.Kind.CSAT)
        answers.update({
            f"nps_{days}": Count("pk", filter=nps),
            f"promoters_{days}": Count("pk", filter=nps & Q(category=Response.Category.PROMOTER)),
            f"detractors_{days}": Count("pk", filter=nps & Q(category=Response.Category.DETRACTOR)),
            f"csat_{days}": Count("pk", filter=csat),
            f"satisfied_{days}": Count("pk", filter=csat & Q(score__gte=4)),
        })
    merge(_counted(
        Response.objects.filter(created_at__gte=since, created_at__lt=until,
                                customer__archived_at__isnull=True)
        .order_by().values(*keys).annotate(**answers),
        windows))

    overdue = Q(status=Promise.Status.OPEN, due_on__lt=on)
    promised = {}
    for days, (first, last) in windows.items():
        window = Q(due_on__gte=first, due_on__lte=last)
        promised[f"on_time_{days}"] = Count("pk", filter=window & Q(status__in=ON_TIME))
        promised[f"promises_{days}"] = Count("pk", filter=window & (Q(status__in=CLOSED) | overdue))
    merge(_counted(
        Promise.objects.filter(due_on__gte=min(f for f, _ in windows.values()), due_on__lte=on)
        .order_by().values(*keys).annotate(**promised), windows))

    complained = {}
    for days, (first, _) in windows.items():
        start = _moment(first)
        complained[f"missed_{days}"] = Count("pk", filter=Q(resolution_due_at__gte=start) & (
            Q(resolved_at__isnull=True) | Q(resolved_at__gt=F("resolution_due_at"))))
        complained[f"resolved_{days}"] = Count("pk", filter=Q(resolved_at__gte=start, resolved_at__lt=until))
    merge(_counted(
        Complaint.objects.filter(Q(resolution_due_at__gte=since, resolution_due_at__lt=until)
                                 | Q(resolved_at__gte=since, resolved_at__lt=until))
        .order_by().values(*keys).annotate(**complained), windows))

    churned = Customer.objects.filter(archived_at__isnull=True, status=Customer.Status.CHURNED,
                                      status_changed_at__gte=since, status_changed_at__lt=until)
    merge(_counted(churned.order_by().values("team_id", "owner_id").annotate(**{
        f"churned_{days}": Count("pk", filter=Q(status_changed_at__gte=_moment(first)))
        for days, (first, _) in windows.items()
    }), windows, path=""))
    for row in (churned.order_by().values("team_id", "owner_id", "churn_reason").annotate(**{
        f"n_{days}": Count("pk", filter=Q(status_changed_at__gte=_moment(first)))
        for days, (first, _) in windows.items()
    })):
        for days in PERIOD_DAYS:
            if row[f"n_{days}"]:
                reasons = books[row["team_id"], row["owner_id"]][str(days)].setdefault("reasons", {})
                reasons[row["churn_reason"]] = row[f"n_{days}"]

    merge(_counted(
        CustomerChange.objects.filter(field="status", old_value=Customer.Status.CHURNED,
                                      new_value=Customer.Status.ACTIVE, changed_at__gte=since,
                                      changed_at__lt=until, customer__archived_at__isnull=True)
        .order_by().values(*keys).annotate(**{
            f"won_back_{days}": Count("customer", distinct=True, filter=Q(changed_at__gte=_moment(first)))
            for days, (first, _) in windows.items()
        }), windows))

    merge(_counted(
        HealthSnapshot.objects.filter(date__gte=min(f for f, _ in windows.values()), date__lte=on)
        .exclude(band=F("previous_band")).order_by().values(*keys).annotate(**{
            name: Count("customer", distinct=True, filter=Q(date__gte=first) & condition)
            for days, (first, _) in windows.items()
            for name, condition in ((f"became_at_risk_{days}", Q(band=Customer.HealthBand.AT_RISK)),
                                    (f"saved_{days}", Q(saved=True)))
        }), windows))

    for (team, owner), cohorts in book_cohorts(on).items():
        books[team, owner]["cohorts"] = cohorts
    for figures in books.values():
        for days in PERIOD_DAYS:
            reasons = figures[str(days)].get("reasons")
            if reasons:
                kept = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:REASONS_KEPT]
                figures[str(days)]["reasons"] = dict(kept)
    return books


def month_index(day):
    return day.year * 12 + day.month - 1


def month_of(index):
    return datetime.date(index // 12, index % 12 + 1, 1)


def book_cohorts(on, months=COHORT_MONTHS):
    """
    {(team, owner): {"YYYY-MM": {"size": n, "lost": {"k": n}}}}: the customers (not prospects, not
    archived) who became customers in each of the ``months`` months to ``on``, and of those
    churned by ``on``, how many months after their joining month they churned (a churned customer
    counts as lost from the month of its churn; one won back counts as kept).
    """
    first = month_of(month_index(on) - months + 1)
    since = ExtractYear("customer_since") * 12 + ExtractMonth("customer_since") - 1
    churned_in = ExtractYear("status_changed_at") * 12 + ExtractMonth("status_changed_at") - 1
    lost = Case(When(Q(status=Customer.Status.CHURNED,
                       status_changed_at__lt=_moment(on + datetime.timedelta(days=1))),
                     then=churned_in - since), default=Value(None), output_field=IntegerField())
    cells = (
        Customer.objects.filter(archived_at__isnull=True, customer_since__gte=first, customer_since__lte=on)
        .exclude(status=Customer.Status.PROSPECT).order_by()
        .values("team_id", "owner_id", cohort=since, lost=lost).annotate(n=Count("pk"))
    )
    books = defaultdict(dict)
    for cell in cells:
        cohort = books[cell["team_id"], cell["owner_id"]].setdefault(
            month_of(cell["cohort"]).strftime("%Y-%m"), {"size": 0, "lost": {}})
        cohort["size"] += cell["n"]
        if cell["lost"] is not None:
            key = str(max(cell["lost"], 0))
            cohort["lost"][key] = cohort["lost"].get(key, 0) + cell["n"]
    return books
