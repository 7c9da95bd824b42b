"""
What the services and the daily scan derive from a customer's rows, brought about for rows
written in bulk (where no service ran): by calling the set-based forms of those same services,
never by restating their rules.
"""

from customers.services import customer_values_recompute_all
from touchpoints.services import (
    checkin_due_batches,
    checkin_followups_create,
    customers_contact_recompute,
)


def denormalise(*, customers, today=None):
    """
    Last contact, next check-in due, lifetime value and value over the last 12 months of
    ``customers`` (a Customer queryset, e.g. a range of fresh ids), from their touchpoints and
    purchases: ``customer_contact_recompute`` and ``customer_value_recompute`` for many at once.
    """
    customers_contact_recompute(customers=customers)
    customer_values_recompute_all(customers=customers, today=today)


def checkins_open():
    """The scheduler's check-in scan, run here and now: opens a follow-up for every customer due."""
    opened = 0
    for local_date, customer_ids in checkin_due_batches():
        opened += checkin_followups_create(customer_ids=customer_ids, on_date=local_date)
    return opened
