"""
Health for seeded books: the customers' latest-answer fields (from the answers the survey
seeding wrote), the scores from the real scan, a history of
snapshots leading to them, and the books' tallies of past days, so the customer page's chart,
the 30-day trends and the dashboard's comparisons have something to show on the first day.

The scores themselves are never made up: the scan computes them from the seeded rows, its slices
of ids scored side by side as the workers score them at night. The history before today is: a
walk back from each customer's score, a few changes over the months, written as the snapshots the
scan would have written. The past tallies are then counted from those snapshots and the purchases
by the real ``book_days_record``. Each step's parts run in processes side by side (``processes``).
"""

import datetime
import random
import time

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from surveys.models import Response

from ..batching import id_slices
from ..health.factors import band_of
from ..health.recompute import SAVE_DAYS, ScanReport, health_scan_customers, overrides_expire
from ..health.tally import book_days_record
from ..health.weights import current_weights
from ..models import HealthSnapshot
from .processes import side_by_side
from .vacuum import analyze
from .writers import row_writer, write_side_by_side

HISTORY_DAYS = 400  # a year of tallies, and the periods before them
BATCH = 5_000  # customers whose history one process walks back at a time
SLICE_IDS = 10_000  # customers one process scores at a time, as a worker's slice at night


def health_seed(*, customers, seed, say=lambda line: None):
    """
    Latest-answer fields, scores, history and past tallies for ``customers`` (a Customer queryset
    of freshly seeded rows, whose survey answers are seeded already).
    """
    last_survey_fields_fill(customers=customers)
    step = time.monotonic()
    scored = health_scores(customers=customers)
    say(f"  health scores: {scored:,} customers scored ({time.monotonic() - step:.1f} s)")
    step = time.monotonic()
    written = history_seed(customers=customers, seed=seed)
    analyze([HealthSnapshot])
    say(f"  health history: {written:,} snapshots ({time.monotonic() - step:.1f} s)")
    step = time.monotonic()
    days = tally_days(timezone.localdate())
    tally_past_days(days)
    book_days_record()
    say(f"  book tallies of {len(days) + 1} days ({time.monotonic() - step:.1f} s)")


def health_scores(*, customers):
    """
    The scan's scores of ``customers``: ``health_scan`` with its slices of ids scored side by side
    in processes, as the workers score them at night. Returns how many customers were scored.
    """
    now = timezone.now()
    overrides_expire(now=now)

    def score(ids):
        report = ScanReport()
        health_scan_customers(customers.filter(pk__gte=ids[0], pk__lt=ids[1]), now=now, report=report)
        return report.scored

    return sum(side_by_side(score, id_slices(customers, SLICE_IDS)))


def tally_days(today):
    """Past days to count: weekly for 13 weeks, monthly for a year, and the periods' starts."""
    days = {today - datetime.timedelta(days=7 * k) for k in range(1, 14)}
    days |= {today - datetime.timedelta(days=30 * k) for k in range(4, 13)}
    days |= {today - datetime.timedelta(days=n) for n in (30, 60, 90, 180, 365)}
    return sorted(days)


def tally_past_days(days):
    """
    ``book_days_record`` for each of ``days``: the days are independent, so they are counted side
    by side (each is a few grouped queries that keep one database core busy).
    """
    for _ in side_by_side(lambda day: book_days_record(on=day), days):
        pass


def last_survey_fields_fill(*, customers):
    """The latest answer on each customer that has one and no latest answer recorded yet."""
    latest = Response.objects.filter(customer=OuterRef("pk")).order_by("-created_at", "-pk")
    return customers.filter(last_survey_at__isnull=True, survey_responses__isnull=False).distinct().update(
        last_survey_score=Subquery(latest.values("score")[:1]),
        last_survey_kind=Subquery(latest.values("kind")[:1]),
        last_survey_at=Subquery(latest.values("created_at")[:1]),
    )


def history_seed(*, customers, seed, days=HISTORY_DAYS):
    """
    Snapshots before today for each scored customer: a walk back from today's score with a few
    changes in the last ``days`` and a first row ``days`` ago, each row's previous band and saves
    as the scan records them. Slices of customers are walked side by side in processes.
    """
    weights = current_weights()
    today = timezone.localdate()
    scored = customers.filter(health_score__isnull=False).order_by("pk")
    # Today's rows, as the scan wrote them, become the walks' last changes.
    HealthSnapshot.objects.filter(customer__in=customers).delete()

    def walks(ids):
        rows = []
        for pk, score, band in scored.filter(pk__gte=ids[0], pk__lt=ids[1]).values_list(
                "pk", "health_score", "health_band"):
            rows.extend(_walk(random.Random(seed * 104_729 + pk), pk, score, band, today, days, weights))
        return {HealthSnapshot: rows}

    writer = row_writer()
    write_side_by_side(walks, id_slices(scored, BATCH), writer)
    return writer.counts.get(HealthSnapshot, 0)


def _walk(rng, pk, score, band, today, days, weights):
    """Rows from ``days`` ago to the last change, the latest holding today's ``score`` and ``band``."""
    changes = rng.sample(range(1, days), rng.choice([0, 1, 2, 2, 3, 4, 5, 6]))
    dates = [today - datetime.timedelta(days=ago) for ago in sorted([days, *changes], reverse=True)]
    scores = [(score, band)]
    for _ in dates[1:]:  # back in time from today's score, one change a date
        score = max(0, min(100, score + rng.choice([-1, 1]) * rng.randint(4, 22)))
        scores.append((score, band_of(score, weights)))
    scores.reverse()
    rows, previous, at_risk_on = [], "", []
    for day, (value, band_then) in zip(dates, scores, strict=True):
        if band_then == "at_risk":
            at_risk_on.append(day)
        saved = band_then == "healthy" and previous != "healthy" and any(
            day - datetime.timedelta(days=SAVE_DAYS) <= seen <= day for seen in at_risk_on)
        rows.append({"customer_id": pk, "date": day, "score": value, "band": band_then,
                     "previous_band": previous, "saved": saved})
        previous = band_then
    return rows
