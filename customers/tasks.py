"""Celery tasks: thin, they take ids and dates and call services."""

import datetime
import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from . import services
from .models import CustomerImport


@shared_task
def recompute_customer_values(on_date=None):
    """Daily: purchases older than 365 days leave each customer's "last 12 months" value."""
    today = datetime.date.fromisoformat(on_date) if on_date else None
    return services.customer_values_recompute_all(today=today)


@shared_task
def check_customer_import(import_id, user_id, queued_at):
    """
    The check (the preview) of an uploaded file too large for a web request; ``queued_at`` says
    which mapping it checks (a file mapped again since is checked by a later task).
    """
    from .csv_io.uploads import customer_import_check

    customer_import, user = _import_and_user(
        import_id, user_id, status=CustomerImport.Status.CHECKING,
        queued_at=datetime.datetime.fromisoformat(queued_at),
    )
    if customer_import is None or user is None:
        return None
    try:
        report = customer_import_check(customer_import=customer_import, user=user)
    except Exception:
        # Record the failure on the row (the page stops waiting) and let the user map it again.
        logging.getLogger(__name__).exception("checking customer import %s failed", import_id)
        CustomerImport.objects.filter(pk=import_id, status=CustomerImport.Status.CHECKING).update(
            status=CustomerImport.Status.UPLOADED, queued_at=None,
            problems="row 1: file: the check stopped with an error; check the file again",
        )
        raise
    return None if report is None else report.rows


@shared_task
def run_customer_import(import_id, user_id):
    """A confirmed import too large for a web request: all or nothing, once (the import claims)."""
    from .csv_io.uploads import customer_import_confirm

    customer_import, user = _import_and_user(import_id, user_id)
    if customer_import is None or user is None:
        return None
    try:
        report = customer_import_confirm(customer_import=customer_import, user=user)
    except Exception:
        # Nothing was imported (the transaction rolled back): let the user confirm again.
        logging.getLogger(__name__).exception("customer import %s failed", import_id)
        CustomerImport.objects.filter(pk=import_id, status=CustomerImport.Status.CHECKED).update(
            queued_at=None
        )
        raise
    return None if report is None else report.rows


def _import_and_user(import_id, user_id, **conditions):
    """The import (if it still meets ``conditions``) and its user; None for what is gone."""
    customer_import = CustomerImport.objects.filter(pk=import_id, **conditions).first()
    return customer_import, get_user_model().objects.filter(pk=user_id).first()


@shared_task
def clean_customer_imports():
    from .csv_io.uploads import customer_imports_clean

    return customer_imports_clean()
