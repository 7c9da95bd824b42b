"""
A manager's override of a customer's score: a score with a comment and an expiry date, shown as
an override with who set it and why. It ends by itself on its expiry date (the score goes back to
the factors' the moment it has expired, and the nightly scan closes the row), or when a manager
removes it or sets another.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.audit import AuditEvent, audit_record
from customers.history import actor

from ..models import HealthOverride
from .recompute import health_recompute

MAX_DAYS = 366


def override_problems(*, score, comment, expires_on, today):
    """{field: message} of what refuses an override, empty when nothing does."""
    problems = {}
    if score is None or not 0 <= score <= 100:
        problems["score"] = "Give a score from 0 to 100."
    if not (comment or "").strip():
        problems["comment"] = "Say why: the comment is shown with the score."
    if expires_on is None or expires_on <= today:
        problems["expires_on"] = "Choose an expiry date after today."
    elif expires_on > today + datetime.timedelta(days=MAX_DAYS):
        problems["expires_on"] = "An override lasts a year at most: choose an earlier date."
    return problems


@transaction.atomic
def override_set(*, customer, user, score, comment, expires_on, now=None):
    """Set ``score`` for ``customer`` until ``expires_on``, replacing any override in force."""
    now = now or timezone.now()
    problems = override_problems(score=score, comment=comment, expires_on=expires_on,
                                 today=timezone.localdate(now))
    if problems:
        raise ValidationError(problems)
    HealthOverride.objects.filter(customer=customer, ended_at__isnull=True).update(
        ended_at=now, ended_by=actor(user), ended_reason=HealthOverride.Ended.REPLACED
    )
    override = HealthOverride.objects.create(
        customer=customer, score=score, comment=comment.strip(), expires_on=expires_on,
        created_by=actor(user), created_at=now,
    )
    health_recompute(customer_id=customer.pk, now=now)
    audit_record(AuditEvent.Action.HEALTH_OVERRIDE,
                 f"Health of {customer.name} set to {score} until {expires_on}: {comment.strip()[:200]}",
                 target=f"customer {customer.pk}", actor=user)
    return override


@transaction.atomic
def override_end(*, customer, user, now=None):
    """Remove the override in force, if any; returns whether one was removed."""
    now = now or timezone.now()
    ended = HealthOverride.objects.filter(customer=customer, ended_at__isnull=True).update(
        ended_at=now, ended_by=actor(user), ended_reason=HealthOverride.Ended.REMOVED
    )
    if ended:
        health_recompute(customer_id=customer.pk, now=now)
        audit_record(AuditEvent.Action.HEALTH_OVERRIDE, f"Health override of {customer.name} removed",
                     target=f"customer {customer.pk}", actor=user)
    return bool(ended)


def override_in_force(customer, today=None):
    today = today or timezone.localdate()
    return (HealthOverride.objects.active(today).filter(customer=customer)
            .select_related("created_by").first())
