"""Celery tasks of what spans the apps: thin, they take ids and call services. Their names are in
the beat schedule (``retention/celery.py``) and must not change."""

from celery import shared_task

from .digest import manager_digests_send
from .health.recompute import health_daily, health_recompute, health_sweep


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
def health_scan_task():
    """Nightly (and after the weights change): every customer's health, then the books' tally."""
    return health_daily().as_dict()


@shared_task
def manager_digests_task():
    """Hourly: the weekly digest of each manager whose Monday morning has come."""
    return manager_digests_send()
