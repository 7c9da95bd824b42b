"""
What the services and the daily scan derive from a customer's rows, brought about for rows
written in bulk (where no service ran): by calling the set-based forms of those same services,
never by restating their rules.
"""

from customers.services import customer_values_recompute_all
from touchpoints.services import customers_contact_recompute


def denormalise(*, customers, today=None):
    """
    Last contact, next check-in due, lifetime value and value over the last 12 months of
    ``customers`` (a Customer queryset, e.g. a range of fresh ids), from their touchpoints and
    purchases: ``customer_contact_recompute`` and ``customer_value_recompute`` for many at once.
    """
    customers_contact_recompute(customers=customers)
    customer_values_recompute_all(customers=customers, today=today)
