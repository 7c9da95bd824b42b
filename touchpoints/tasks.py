"""Celery tasks: thin, they take ids and dates and call services. Their names are in the beat
schedule (``retention/celery.py``) and must not change."""

import datetime

from celery import shared_task

from . import checkins
from .messaging import scans, sending, sweeper


@shared_task
def checkin_scan(on_date=None):
    """Find customers past their cadence and fan out follow-up creation in batches."""
    batches = 0
    for local_date, customer_ids in checkins.checkin_due_batches(on_date=on_date):
        create_checkin_followups.delay_on_commit(customer_ids, local_date.isoformat())
        batches += 1
    return batches


@shared_task
def create_checkin_followups(customer_ids, on_date):
    return checkins.checkin_followups_create(customer_ids=customer_ids, on_date=on_date)


@shared_task
def send_outbox_messages(message_ids):
    return sending.outbox_send(message_ids)


@shared_task
def sweep_outbox():
    """Every minute: lost work back in line, stale messages expired, the mail server probed."""
    return len(sweeper.outbox_sweep())


@shared_task
def program_scan(on_date=None):
    """Hourly: every program's messages (and card reminders) for each time zone's local date."""
    day = datetime.date.fromisoformat(on_date) if on_date else None
    return scans.programs_scan(on_date=day).as_dict()


@shared_task
def thank_you_scan():
    """Every 10 minutes: thank customers who just became active, within the hour."""
    return scans.thank_you_scan().as_dict()
