"""
A customer's history (``CustomerChange``): who changed which field from what to what, written the
same way by the services, the CSV import and the bulk actions.

- ``actor(user)``: the user to record, or None for an anonymous request or a command;
- ``display_value(value)``: how a value reads in the history (dates in ISO, people by username,
  customers and teams by name, nothing as "");
- ``history_entries`` and ``history_created``: the unsaved rows, for the caller to save in bulk.
"""

from django.utils import timezone

from .models import CustomerChange


def actor(user):
    """The user to record as having done something, or None when nobody is logged in."""
    return user if user is not None and user.is_authenticated else None


def display_value(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def history_entries(*, customer_id, version, user, at, changes):
    """One unsaved CustomerChange per field of ``changes`` (field → (old, new)), all of one version."""
    return [
        CustomerChange(customer_id=customer_id, user=actor(user), changed_at=at, field=field,
                       old_value=display_value(old), new_value=display_value(new), version=version)
        for field, (old, new) in changes.items()
    ]


def history_created(*, customer, user, at=None):
    """The unsaved first line of a new customer's history."""
    return CustomerChange(customer=customer, user=actor(user), changed_at=at or timezone.now(),
                          field="created", new_value=customer.name, version=customer.version)
