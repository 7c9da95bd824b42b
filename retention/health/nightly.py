"""
Every customer's health recomputed on all the workers at once: the nightly scan, and the
recompute after an admin changes the weights.

One process scores a few thousand customers a second, nearly all of it Python (each batch's facts
assessed and compared with what is stored), so a million customers kept one core busy for four
minutes while the others idled. The batches are independent ranges of ids, so the scan is cut
into slices:

- ``health_scan_start`` ends the expired overrides, cuts the customers' ids into slices of
  ``SLICE_IDS``, records a ``HealthScan`` and, once that commits, hands each slice to the workers
  (``retention.tasks.health_slice_task``); each worker takes one slice at a time;
- ``health_slice`` scores one slice as ``recompute.health_scan`` scores everyone (those out of the
  program cleared, the rest in batches), as of the scan's start, and adds its counts to the
  ``HealthScan``; the slice that completes it records the books' tally for the dashboard
  (``tally.book_days_record``, which needs every score) in the same transaction.

A slice lost with its worker leaves its scan unfinished (``finished_at`` empty, fewer slices done
than cut) and that day without a tally; the next scan scores everyone again. ``run_daily_jobs``
scores everyone in its own process (``recompute.health_daily``).
"""

import datetime
from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from customers.models import Customer

from ..batching import id_slices
from ..models import HealthScan
from .recompute import ScanReport, health_scan_customers, overrides_expire

SLICE_IDS = 10_000  # a few seconds of one worker: a million customers make 100 slices to share out
KEEP_DAYS = 90  # how long the record of a scan is kept


def health_scan_start(*, now=None, slice_ids=SLICE_IDS):
    """Cut the recompute into slices and queue them for the workers; returns the ``HealthScan``."""
    from ..tasks import health_slice_task

    now = now or timezone.now()
    with transaction.atomic():
        ended = overrides_expire(now=now)
        slices = id_slices(Customer.objects.all(), slice_ids)
        scan = HealthScan.objects.create(started_at=now, slices=len(slices), overrides_ended=ended)
        for low, high in slices:
            transaction.on_commit(partial(health_slice_task.delay, scan.pk, low, high))
        if not slices:
            _finish(scan)
    return scan


def health_slice(scan_id, low, high):
    """Score the customers of ids ``low`` ≤ id < ``high`` for scan ``scan_id``; returns the report."""
    scan = HealthScan.objects.filter(pk=scan_id).first()
    if scan is None:  # pruned: a slice that waited longer than a scan is kept
        return None
    report = ScanReport()
    health_scan_customers(Customer.objects.filter(pk__gte=low, pk__lt=high), now=scan.started_at,
                          report=report)
    with transaction.atomic():
        HealthScan.objects.filter(pk=scan_id).update(
            slices_done=F("slices_done") + 1, scored=F("scored") + report.scored,
            snapshots=F("snapshots") + report.snapshots, cleared=F("cleared") + report.cleared,
        )
        # The row is locked until this commits, so exactly one slice sees the last one done.
        if HealthScan.objects.filter(pk=scan_id, slices_done=F("slices"), finished_at__isnull=True).exists():
            _finish(scan)
    return report


def _finish(scan):
    from .tally import book_days_prune, book_days_record

    book_days_record(now=scan.started_at)
    book_days_prune(today=timezone.localdate(scan.started_at))
    HealthScan.objects.filter(pk=scan.pk).update(finished_at=timezone.now())
    HealthScan.objects.filter(started_at__lt=scan.started_at - datetime.timedelta(days=KEEP_DAYS)).delete()
