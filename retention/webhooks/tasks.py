"""Celery tasks of the webhooks: thin, they take ids. Their names are in the beat schedule
(``retention/celery.py``) and must not change."""

from celery import shared_task

from . import breaches, delivery


@shared_task
def deliver_webhook(delivery_id):
    """One attempt of one delivery, if it is still pending and due (``delivery.deliver``)."""
    return delivery.deliver(delivery_id)


@shared_task
def sweep_webhooks():
    """Every minute: attempts lost with a worker back in line, due deliveries queued."""
    return delivery.sweep()


@shared_task
def scan_complaint_breaches():
    """Every five minutes: complaints that just passed their resolution target, announced once."""
    return breaches.complaint_breaches_announce()
