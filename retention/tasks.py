"""Celery tasks of what spans the apps: thin, they take ids and call services. Their names are in
the beat schedule (``retention/celery.py``) and must not change."""

from celery import shared_task

from .digest import manager_digests_send
from .health.nightly import SLICE_IDS, health_scan_start, health_slice
from .health.recompute import health_recompute, health_sweep


@shared_task
def health_recompute_task(customer_id):
    """One customer's health, when recomputing it inline failed."""
    assessment = health_recompute(customer_id=customer_id)
    return None if assessment is None else assessment.score


@shared_task
def health_sweep_task():
    """Each minute: the scores marked stale (by survey answers) since the last sweep."""
    return health_sweep().as_dict()


@shared_task
def health_scan_task(slice_ids=SLICE_IDS):
    """Nightly (and after the weights change): every customer's health, in slices for the workers."""
    scan = health_scan_start(slice_ids=slice_ids)
    return {"scan": scan.pk, "slices": scan.slices}


@shared_task
def health_slice_task(scan_id, low, high):
    """One slice of a scan: the customers of ids low ≤ id < high; the last one done tallies the books."""
    report = health_slice(scan_id, low, high)
    return None if report is None else report.as_dict()


@shared_task
def manager_digests_task():
    """Hourly: the weekly digest of each manager whose Monday morning has come."""
    return manager_digests_send()
