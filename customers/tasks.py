"""Celery tasks: thin, they take ids and dates and call services."""

import datetime

from celery import shared_task

from . import services


@shared_task
def recompute_customer_values(on_date=None):
    """Daily: purchases older than 365 days leave each customer's "last 12 months" value."""
    today = datetime.date.fromisoformat(on_date) if on_date else None
    return services.customer_values_recompute_all(today=today)
