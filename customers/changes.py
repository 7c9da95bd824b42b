"""
The rules of changing a customer, in one place for every path that creates or edits one: the
services behind the forms (``customer_create``, ``customer_update``) and the CSV import, which
writes in batches but decides here what each row changes.

- The status lifecycle: ``STATUS_TRANSITIONS``, ``status_change_error`` and
  ``status_change_problems`` (a churn needs a reason; a win-back clears it, the history keeps it).
- ``customer_build``: what a new customer gets besides its fields ("overdue after" from its cadence
  when nobody chose it, the date of its status, its first check-in date).
- ``customer_changes_apply``: a set of new field values applied to a customer, with what follows
  from them (the lifecycle, the check-in clock, "overdue after" raised with the cadence, the date of
  a status change, the version), returning what changed for the history and the columns to save.
- ``tags_change``: whether a customer's tags changed; names compare regardless of case.
- ``domain_of``: the website's domain the customer keeps beside it (by which an import finds it).

Nothing here writes to the database.
"""

from django.core.exceptions import ValidationError

from .checkin import default_cadence_max
from .models import Customer
from .parsing import website_domain

Status = Customer.Status

# The status lifecycle: prospect → active → inactive → churned, and churned → active (won back).
STATUS_TRANSITIONS = {
    Status.PROSPECT: (Status.ACTIVE, Status.CHURNED),
    Status.ACTIVE: (Status.INACTIVE, Status.CHURNED),
    Status.INACTIVE: (Status.ACTIVE, Status.CHURNED),
    Status.CHURNED: (Status.ACTIVE,),
}

# Fields whose change moves the check-in clock.
CLOCK_FIELDS = {"cadence_days", "cadence_max_days", "customer_since", "timezone"}

CHURN_NEEDS_A_REASON = "Say why the customer churned."


def status_change_error(old, new):
    """Why ``old`` → ``new`` is not allowed, or None when it is."""
    if old == new or new in STATUS_TRANSITIONS.get(old, ()):
        return None
    allowed = " or ".join(Status(s).label.lower() for s in STATUS_TRANSITIONS.get(old, ()))
    return (
        f"A customer cannot go from {Status(old).label.lower()} to {Status(new).label.lower()}; "
        f"from {Status(old).label.lower()} it can become {allowed}."
    )


def status_change_problems(*, old, new, churn_reason):
    """
    What refuses a customer going from status ``old`` to ``new`` with ``churn_reason`` as its
    reason afterwards: ``{"status": …}`` or ``{"churn_reason": …}``, empty when nothing does.
    """
    error = status_change_error(old, new)
    if error:
        return {"status": error}
    if new == Status.CHURNED and not churn_reason.strip():
        return {"churn_reason": CHURN_NEEDS_A_REASON}
    return {}


def customer_build(*, now=None, **fields):
    """A new, unsaved customer with ``fields`` and what every new customer gets besides them."""
    customer = Customer(**fields)
    customer.website_domain = domain_of(customer.website)
    if "cadence_max_days" not in fields:
        customer.cadence_max_days = default_cadence_max(customer.cadence_days)
    if now is not None:
        customer.status_changed_at = now
    customer.next_checkin_due = customer.compute_next_checkin_due()
    return customer


def customer_changes_apply(*, customer, data, now, tags_before=()):
    """
    Apply ``data`` (field → new value; ``tags``, when present, a list of names compared with
    ``tags_before``) to ``customer`` in memory, with what follows from it. Raises ValidationError
    when the status lifecycle refuses it; saves nothing.

    Returns ``(changes, update_fields)``: field → (old, new) for the history (``tags`` as the names
    the history shows), and the columns to save, the version bump included. Both are empty when
    nothing changed.
    """
    changes = {}
    for field, value in data.items():
        if field != "tags" and getattr(customer, field) != value:
            changes[field] = (getattr(customer, field), value)
            setattr(customer, field, value)

    if "status" in changes or "churn_reason" in changes:
        old_status = changes.get("status", (customer.status,))[0]
        problems = status_change_problems(old=old_status, new=customer.status,
                                          churn_reason=customer.churn_reason)
        if problems:
            raise ValidationError(problems)
        if "status" in changes and old_status == Status.CHURNED and customer.churn_reason:
            # Won back: the reason goes, and the history keeps it.
            changes["churn_reason"] = (changes.get("churn_reason", (customer.churn_reason,))[0], "")
            customer.churn_reason = ""

    if "cadence_max_days" not in data and customer.cadence_max_days < customer.cadence_days:
        # Nobody chose "overdue after", and the new cadence passed it.
        maximum = default_cadence_max(customer.cadence_days)
        changes["cadence_max_days"] = (customer.cadence_max_days, maximum)
        customer.cadence_max_days = maximum

    if "tags" in data:
        tags = tags_change(tags_before, data["tags"])
        if tags is not None:
            changes["tags"] = tags

    if not changes:
        return {}, []
    update_fields = [field for field in changes if field != "tags"]
    if "website" in changes:
        customer.website_domain = domain_of(customer.website)
        update_fields.append("website_domain")
    if "status" in changes:
        customer.status_changed_at = now
        update_fields.append("status_changed_at")
    if CLOCK_FIELDS & changes.keys():
        customer.next_checkin_due = customer.compute_next_checkin_due()
        update_fields.append("next_checkin_due")
    customer.version += 1
    customer.updated_at = now
    return changes, [*update_fields, "version", "updated_at"]


def domain_of(website):
    """The domain of ``website`` (``https://www.acme.example/x`` → ``acme.example``), or ""."""
    try:
        return website_domain(website) if website else ""
    except ValueError:
        return ""


def tags_change(before, after):
    """(old, new) as the history shows them when the names differ other than in case, else None."""
    if sorted(name.lower() for name in before) == sorted(name.lower() for name in after):
        return None
    return "; ".join(sorted(before)), "; ".join(sorted(after))
