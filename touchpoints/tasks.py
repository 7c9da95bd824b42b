"""Celery tasks: thin, they take ids and dates and call services."""

from celery import shared_task

from . import services


@shared_task
def checkin_scan(on_date=None):
    """Find customers past their cadence and fan out follow-up creation in batches."""
    batches = 0
    for local_date, customer_ids in services.checkin_due_batches(on_date=on_date):
        create_checkin_followups.delay_on_commit(customer_ids, local_date.isoformat())
        batches += 1
    return batches


@shared_task
def create_checkin_followups(customer_ids, on_date):
    return services.checkin_followups_create(customer_ids=customer_ids, on_date=on_date)


@shared_task
def send_outbox_messages(message_ids):
    from .outbox import outbox_send

    return outbox_send(message_ids)


@shared_task
def sweep_outbox():
    from .outbox import outbox_sweep

    return len(outbox_sweep())
