"""
Storing the health score: for one customer when something happens to it, for everyone at night.

- ``health_recompute(customer_id=)``: read the customer's facts (a batch of one), ``assess``,
  store, snapshot. A handful of small queries: cheap enough to run inline when a touchpoint,
  answer, complaint, promise or purchase is recorded (``receivers``).
- ``health_scan()``: the same for every customer, in batches of ids: each batch's facts are read
  with one grouped query per source (``facts.facts_for``), assessed, and written with one UPDATE
  and one INSERT of the snapshots that changed. At night the workers run it in slices of ids side
  by side (``nightly``); ``run_daily_jobs`` runs it here. Customers out of the program lose their score in
  one UPDATE; expired overrides are ended first. A row recomputed by an event while its batch was
  being read is not overwritten with the older reading.
- ``health_sweep()``: each minute, the customers whose score is marked stale
  (``Customer.health_stale``, set by a survey answer in its own UPDATE: answers come by the
  thousand after a campaign, on the busiest public endpoint), recomputed as the scan does, in
  batches.

Both store through ``_store``, which also announces to the webhooks a band that becomes or stops
being at risk; the tests prove the scan leaves every customer as the one-customer recompute does.
"""

import datetime
import json
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from customers.events import EventType
from customers.models import Customer, in_program_q

from ..batching import cycle_collector_paused
from ..models import HealthOverride, HealthSnapshot
from ..webhooks.events import announce_many
from .factors import HealthBand, assess
from .facts import facts_for
from .weights import current_weights

BATCH_SIZE = 2_000
SAVE_DAYS = 90  # becoming healthy within this long after being at risk counts as a save


@transaction.atomic
def health_recompute(*, customer_id, now=None, weights=None):
    """Recompute and store one customer's health; returns the ``Assessment`` (None if no such customer)."""
    now = now or timezone.now()
    weights = weights or current_weights()
    facts = facts_for([customer_id], now=now).get(customer_id)
    if facts is None:
        return None
    assessment = assess(facts, weights)
    _store([(facts, assessment)], weights=weights, now=now)
    return assessment


@dataclass
class ScanReport:
    scored: int = 0
    bands: dict = field(default_factory=lambda: dict.fromkeys(["healthy", "watch", "at_risk", ""], 0))
    cleared: int = 0
    overrides_ended: int = 0
    snapshots: int = 0
    books: int = 0
    seconds: float = 0.0

    def as_dict(self):
        return {"scored": self.scored, "bands": self.bands, "cleared": self.cleared,
                "overrides_ended": self.overrides_ended, "snapshots": self.snapshots,
                "books": self.books, "seconds": round(self.seconds, 1)}


def health_scan(*, now=None, batch_size=BATCH_SIZE, dry_run=False, customers=None):
    """
    Recompute every customer's health (or those of ``customers``, a queryset), in batches.
    With ``dry_run`` nothing is written: the report says what the scores would be.
    """
    started = time.monotonic()
    now = now or timezone.now()
    report = ScanReport()
    if not dry_run:
        report.overrides_ended = overrides_expire(now=now)
    health_scan_customers(Customer.objects.all() if customers is None else customers, now=now,
                          report=report, batch_size=batch_size, dry_run=dry_run)
    report.seconds = time.monotonic() - started
    return report


def health_scan_customers(customers, *, now, report, batch_size=BATCH_SIZE, dry_run=False):
    """
    The scan's work on ``customers`` (a queryset), adding to ``report``: those out of the program
    lose their score, those in it are scored batch by batch. The nightly slices (``nightly``) each
    run it on their range of ids.
    """
    weights = current_weights()
    if not dry_run:
        report.cleared += _clear_outside_program(customers, now)
    in_program = customers.in_program().order_by()
    bounds = in_program.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, batch_size):
        ids = list(in_program.filter(pk__gte=start, pk__lt=start + batch_size).values_list("pk", flat=True))
        if ids:
            _scan_batch(ids, weights=weights, now=now, report=report, dry_run=dry_run)


def _scan_batch(ids, *, weights, now, report, dry_run=False):
    if not dry_run:
        # Cleared before the facts are read: a survey answer after this marks its customer again.
        Customer.objects.filter(pk__in=ids, health_stale=True).update(health_stale=False)
    read_at = timezone.now()
    with cycle_collector_paused():
        results = [(facts, assess(facts, weights)) for facts in facts_for(ids, now=now).values()]
        for _, assessment in results:
            report.scored += 1
            report.bands[assessment.band] += 1
        if not dry_run:
            with transaction.atomic():
                report.snapshots += _store(results, weights=weights, now=now, unless_after=read_at)


def health_sweep(*, now=None, batch_size=BATCH_SIZE):
    """
    Recompute the customers whose score is marked stale, a batch at a time, until a batch comes
    back short. A batch's marks are taken and cleared under a lock that a second sweep skips, then
    scored; a worker lost in between leaves those scores to the nightly scan.
    """
    started = time.monotonic()
    now = now or timezone.now()
    weights = current_weights()
    report = ScanReport()
    while True:
        with transaction.atomic():
            ids = list(
                Customer.objects.filter(health_stale=True).order_by()
                .select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size]
            )
            Customer.objects.filter(pk__in=ids).update(health_stale=False)
        if ids:
            _scan_batch(ids, weights=weights, now=now, report=report)
        if len(ids) < batch_size:
            break
    report.seconds = time.monotonic() - started
    return report


def _clear_outside_program(customers, now):
    """Prospects, churned and archived customers have no score: those that still have one lose it."""
    outside = customers.exclude(in_program_q())
    ids = list(outside.filter(Q(health_score__isnull=False) | ~Q(health_band=""))
               .values_list("pk", flat=True))
    if not ids:
        return 0
    with transaction.atomic():
        facts = facts_for(ids, now=now)
        weights = current_weights()
        _store([(f, assess(f, weights)) for f in facts.values()], weights=weights, now=now)
    return len(ids)


def overrides_expire(*, now=None):
    """End the overrides whose expiry date has come (the scores go back to the factors')."""
    now = now or timezone.now()
    return HealthOverride.objects.filter(
        ended_at__isnull=True, expires_on__lte=timezone.localdate(now)
    ).update(ended_at=now, ended_reason=HealthOverride.Ended.EXPIRED)


# Storing ----------------------------------------------------------------------------------------


def _store(results, *, weights, now, unless_after=None):
    """
    Write each ``(facts, assessment)`` that changes anything onto its customer (an unchanged one is
    not written: ``health_computed_at`` is when its score or reasons last changed) and snapshot
    those whose score or band moved; with ``unless_after``, leave alone a customer recomputed
    since then. Returns the snapshots written.
    """
    rows = []
    for facts, assessment in results:
        factors = assessment.as_json(weights)  # plain JSON values, as the database returns them
        stored = facts.stored
        if (stored["score"], stored["band"], stored["factors"]) != (
                assessment.score, assessment.band, factors):
            rows.append((facts.customer_id, assessment.score, assessment.band, factors))
    written = _write_customers(rows, now=now, unless_after=unless_after)
    _band_changes_announce(results, written, now=now)
    overtaken = {pk for pk, *_ in rows} - written  # recomputed by an event while this was read
    return _write_snapshots(
        [(facts, a) for facts, a in results if facts.customer_id not in overtaken], now=now
    )


def _write_customers(rows, *, now, unless_after):
    """The new scores, in one statement; returns the ids written."""
    if not rows:
        return set()
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s::bigint, %s::smallint, %s, %s::jsonb)"] * len(rows))
        params = [value for pk, score, band, factors in rows
                  for value in (pk, score, band, json.dumps(factors))]
        guard = ""
        if unless_after is not None:
            guard = "AND (c.health_computed_at IS NULL OR c.health_computed_at <= %s)"
            params.append(unless_after)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Customer._meta.db_table} AS c
                SET health_score = v.score, health_band = v.band, health_factors = v.factors,
                    health_computed_at = %s
                FROM (VALUES {values}) AS v(id, score, band, factors)
                WHERE c.id = v.id {guard}
                RETURNING c.id
                """,
                [now, *params],
            )
            return {pk for (pk,) in cursor.fetchall()}
    ids = {pk for pk, *_ in rows}
    if unless_after is not None:
        ids = set(Customer.objects.filter(pk__in=ids).filter(
            Q(health_computed_at__isnull=True) | Q(health_computed_at__lte=unless_after)
        ).values_list("pk", flat=True))
    Customer.objects.bulk_update(
        [Customer(pk=pk, health_score=score, health_band=band, health_factors=factors,
                  health_computed_at=now) for pk, score, band, factors in rows if pk in ids],
        ["health_score", "health_band", "health_factors", "health_computed_at"],
    )
    return ids


def _band_changes_announce(results, written, *, now):
    """
    To the webhooks, in the storing transaction: ``customer.at_risk`` when a band becomes at risk,
    ``customer.recovered`` when it comes back from at risk to watch or healthy (a customer leaving
    the program, its band cleared, has not recovered).
    """
    changes = {EventType.CUSTOMER_AT_RISK: [], EventType.CUSTOMER_RECOVERED: []}
    for facts, assessment in results:
        before, after = facts.stored["band"], assessment.band
        if facts.customer_id not in written or before == after:
            continue
        if after == HealthBand.AT_RISK:
            event_type = EventType.CUSTOMER_AT_RISK
        elif before == HealthBand.AT_RISK and after in (HealthBand.WATCH, HealthBand.HEALTHY):
            event_type = EventType.CUSTOMER_RECOVERED
        else:
            continue
        health = {"previous_band": before or None, "band": after, "score": assessment.score}
        changes[event_type].append((facts.customer_id, {"health": health}, ""))
    for event_type, items in changes.items():
        if items:
            announce_many(event_type, items, now=now)


def _write_snapshots(results, *, now):
    """
    A snapshot for each customer whose score or band differs from its latest snapshot, dated
    today (one a day: a second change the same day updates it). ``saved`` when a customer becomes
    healthy within ``SAVE_DAYS`` of being at risk.
    """
    today = timezone.localdate(now)
    changed = []
    for facts, assessment in results:
        last = facts.last_snapshot
        if last is None and assessment.score is None:
            continue
        if last is not None and (last["score"], last["band"]) == (assessment.score, assessment.band):
            continue
        changed.append((facts, assessment))
    if not changed:
        return 0
    becoming_healthy = [
        facts.customer_id for facts, a in changed
        if a.band == HealthBand.HEALTHY and (facts.last_snapshot or {}).get("band") != HealthBand.HEALTHY
    ]
    lately_at_risk = set()
    if becoming_healthy:
        lately_at_risk = set(HealthSnapshot.objects.filter(
            customer_id__in=becoming_healthy, band=HealthBand.AT_RISK,
            date__gte=today - datetime.timedelta(days=SAVE_DAYS),
        ).values_list("customer_id", flat=True))
    snapshots = []
    for facts, assessment in changed:
        last = facts.last_snapshot or {}
        snapshots.append(HealthSnapshot(
            customer_id=facts.customer_id, date=today, score=assessment.score, band=assessment.band,
            # A second change the same day keeps the first's (not in update_fields below).
            previous_band=last.get("band", ""),
            saved=facts.customer_id in lately_at_risk,
        ))
    HealthSnapshot.objects.bulk_create(
        snapshots, update_conflicts=True, unique_fields=["customer", "date"],
        update_fields=["score", "band", "saved"],
    )
    return len(snapshots)


def health_daily(*, now=None, dry_run=False):
    """
    The nightly job: every score, then the books' tally for today (``tally``), and old tallies
    pruned. With ``dry_run`` only the scores are worked out, and nothing is written.
    """
    from .tally import book_days_prune, book_days_record

    now = now or timezone.now()
    report = health_scan(now=now, dry_run=dry_run)
    if not dry_run:
        report.books = book_days_record(now=now)
        book_days_prune(today=timezone.localdate(now))
    return report
