"""
The nightly tally of every book (a team's customers of one owner): ``BookDay`` rows that the
dashboard's trends and revenue retention read, so it never aggregates history at request time.

``book_days_record(on=D)`` counts, for day D, each book's customers in the program by band and
their value at risk (the band and score from the snapshots as of D, the annual value from the
purchases of the 365 days to D), the check-in coverage (only for today: it reads the live clock),
the 12-month revenue retention to D, and what happened in the book over the 30, 90 and 365 days to
D and its cohorts (``flows``). Every count is one grouped query; the seeding calls it
for past days to give a new installation a history.

Revenue retention over 12 months, for the customers who bought in the 12 months before the last
12 (their purchases then are the *base*):

- **gross** (GRR) = Σ min(last 12 months, base) / Σ base: what was kept, expansion left out;
- **net** (NRR) = Σ last 12 months / Σ base: with expansion.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.checkin import overdue_on
from customers.models import Customer, Purchase
from customers.services import recent_cutoff

from ..models import BookDay, HealthSnapshot
from .flows import book_flows

MONEY = DecimalField(max_digits=16, decimal_places=2)
CENT = Decimal("0.01")


def coverage_counts(today):
    """Aggregates of customers in the program: within cadence, due, past "overdue after"."""
    return {
        "covered": Count("pk", filter=Q(next_checkin_due__gt=today)),
        "due": Count("pk", filter=Q(next_checkin_due__lte=today, overdue_on__gt=today)),
        "overdue": Count("pk", filter=Q(overdue_on__lte=today)),
    }


def with_overdue_on(customers):
    return customers.alias(overdue_on=overdue_on())


@transaction.atomic
def book_days_record(*, on=None, now=None):
    """Write the ``BookDay`` rows of day ``on`` (today by default), replacing any; returns how many."""
    now = now or timezone.now()
    on = on or timezone.localdate(now)
    books = defaultdict(dict)
    for team, owner, counts in _bands(on):
        books[team, owner].update(counts)
    if on == timezone.localdate(now):
        for row in (with_overdue_on(Customer.objects.in_program()).order_by()
                    .values("team_id", "owner_id").annotate(**coverage_counts(on))):
            books[row["team_id"], row["owner_id"]].update(
                covered=row["covered"], due=row["due"], overdue=row["overdue"])
    for team, owner, revenue in _revenue(on):
        books[team, owner].update(revenue)
    for book, figures in book_flows(on).items():
        books[book]["figures"] = figures
    BookDay.objects.filter(date=on).delete()
    return len(BookDay.objects.bulk_create(
        BookDay(date=on, team_id=team, owner_id=owner, **values) for (team, owner), values in books.items()
    ))


def _bands(on):
    """(team, owner, {customers, healthy, watch, at_risk, unknown, value_at_risk}) as of ``on``."""
    snapshot = HealthSnapshot.objects.filter(customer=OuterRef("pk"), date__lte=on).order_by("-date")
    annual = (Purchase.objects.filter(customer=OuterRef("pk"), date__gt=recent_cutoff(on), date__lte=on)
              .order_by().values("customer").annotate(total=Sum("amount")).values("total"))
    inner = Customer.objects.in_program().order_by().values(
        "team_id", "owner_id", band=Subquery(snapshot.values("band")[:1]),
        score=Subquery(snapshot.values("score")[:1]),
        annual=Coalesce(Subquery(annual, output_field=MONEY), 0, output_field=MONEY),
    )
    rows = _grouped(inner, """
        COUNT(*),
        SUM(CASE WHEN band = 'healthy' THEN 1 ELSE 0 END),
        SUM(CASE WHEN band = 'watch' THEN 1 ELSE 0 END),
        SUM(CASE WHEN band = 'at_risk' THEN 1 ELSE 0 END),
        SUM(CASE WHEN band IS NULL OR band = '' THEN 1 ELSE 0 END),
        SUM(CASE WHEN band = 'at_risk' THEN annual * (100 - score) / 100 ELSE 0 END)
    """)
    for team, owner, n, healthy, watch, at_risk, unknown, var in rows:
        yield team, owner, {"customers": n, "healthy": healthy, "watch": watch, "at_risk": at_risk,
                            "unknown": unknown, "value_at_risk": _money(var)}


def _revenue(on):
    """(team, owner, {revenue_base, revenue_kept, revenue_now}) of the 12 months to ``on``."""
    current_from = recent_cutoff(on)
    base_from = recent_cutoff(current_from)
    inner = (
        Purchase.objects.filter(customer__archived_at__isnull=True, date__gt=base_from, date__lte=on)
        .order_by().values("customer_id", team_id=F("customer__team_id"), owner_id=F("customer__owner_id"))
        .annotate(base=Coalesce(Sum("amount", filter=Q(date__lte=current_from)), 0, output_field=MONEY),
                  now=Coalesce(Sum("amount", filter=Q(date__gt=current_from)), 0, output_field=MONEY))
    )
    rows = _grouped(inner, """
        SUM(base), SUM(CASE WHEN now < base THEN now ELSE base END), SUM(now)
    """, where="base > 0")
    for team, owner, base, kept, now in rows:
        yield team, owner, {"revenue_base": _money(base), "revenue_kept": _money(kept),
                            "revenue_now": _money(now)}


def _grouped(inner, aggregates, where=""):
    """Aggregate the rows of ``inner`` (a values() queryset with team_id and owner_id) per book."""
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT team_id, owner_id, {aggregates} FROM ({sql}) t "
            f"{'WHERE ' + where if where else ''} GROUP BY team_id, owner_id",
            params,
        )
        return cursor.fetchall()


def _money(value):
    return Decimal(str(value or 0)).quantize(CENT)


def revenue_retention(base, kept, now):
    """(gross %, net %) from summed ``BookDay`` revenue; None where nothing was bought before."""
    if not base:
        return None, None
    return round(float(100 * kept / base), 1), round(float(100 * now / base), 1)


def book_days_prune(*, keep_days=800, today=None):
    """Drop tallies older than ``keep_days`` but the first of each month (the long view)."""
    today = today or timezone.localdate()
    return BookDay.objects.filter(date__lt=today - datetime.timedelta(days=keep_days)).exclude(
        date__day=1).delete()[0]
