"""
What a manager does in place on the dashboard, besides reassigning (``customers.services
.customers_reassign``): give the owner of a customer at risk a task, due soon, on their Today.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.history import actor
from touchpoints.models import FollowUp

TASK_DAYS = 2  # a task for a customer at risk is due this soon by default


def task_default_due(customer):
    return customer.local_today() + datetime.timedelta(days=TASK_DAYS)


def owner_task_create(*, customer, user, title, due_on, notes=""):
    """A task for ``customer``'s owner, shown on their Today until done."""
    if customer.owner_id is None:
        raise ValidationError("This customer has no owner to give a task to: reassign it first.")
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Say what the owner should do."})
    if due_on is None or due_on < customer.local_today():
        raise ValidationError({"due_on": "Choose a due date from today on."})
    by = actor(user)
    follow_up = FollowUp(
        customer=customer, assignee_id=customer.owner_id, kind=FollowUp.Kind.TASK, title=title,
        due_on=due_on, created_at=timezone.now(),
        notes=(notes or f"Asked by {by.get_full_name() or by.get_username()} from the at-risk dashboard.")
        if by else notes,
    )
    follow_up.full_clean()
    follow_up.save()
    return follow_up
