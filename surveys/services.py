"""Inviting customers to surveys and recording their answers."""

from django.db import transaction
from django.utils import timezone

from .models import Invitation, Response


class AnswerRefused(Exception):
    """An invitation that can no longer be answered; ``reason`` is 'answered' or 'expired'."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def invitation_create(*, survey, customer, contact=None):
    return Invitation.objects.create(
        survey=survey, customer=customer, contact=contact,
        expires_at=Invitation.default_expiry(survey),
    )


@transaction.atomic
def response_record(*, invitation, score, comment=""):
    """
    Record the one answer an invitation allows.

    The invitation is claimed with a conditional UPDATE, so a double submit or a reused link
    records nothing the second time.
    """
    if invitation.is_expired:
        raise AnswerRefused("expired")
    now = timezone.now()
    claimed = Invitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now)
    if not claimed:
        raise AnswerRefused("answered")
    invitation.answered_at = now
    return Response.objects.create(
        invitation=invitation, customer_id=invitation.customer_id, score=score,
        category=Response.categorize(invitation.survey.kind, score), comment=comment.strip(),
        created_at=now,
    )
