"""
The customer's timeline entry of each message sent: a touchpoint, written after the row says
``sent`` (never in the window between the server's acceptance and that UPDATE), in bulk for a
batch, and once: the rows are locked and only those not yet linked get one, so the sender and the
sweeper (``timelines_repair``, for a worker that died in between) never write two. Messages to the
team (no customer) have no timeline.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from ..models import OutboxMessage, Touchpoint

Status = OutboxMessage.Status


def timelines_record(messages):
    """Put the sent ``messages`` on their customers' timelines; returns how many were written."""
    ids = [m.pk for m in messages if m.customer_id is not None]
    if not ids:
        return 0
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, status=Status.SENT, touchpoint__isnull=True).order_by("pk")
            .only("pk", "customer_id", "contact_id", "sender_id", "automated", "subject", "body_text",
                  "sent_at", "program", "related_touchpoint_id")
        )
        if not rows:
            return 0
        touchpoints = Touchpoint.objects.bulk_create([
            Touchpoint(
                customer_id=row.customer_id, author_id=row.sender_id,
                kind=Touchpoint.Kind.SYSTEM if row.automated else Touchpoint.Kind.EMAIL,
                direction=Touchpoint.Direction.OUTBOUND, happened_at=row.sent_at,
                summary=row.subject[:200], notes=row.body_text,
            ) for row in rows
        ])
        Touchpoint.contacts.through.objects.bulk_create([
            Touchpoint.contacts.through(touchpoint_id=touchpoint.pk, contact_id=row.contact_id)
            for row, touchpoint in zip(rows, touchpoints, strict=True) if row.contact_id
        ])
        for row, touchpoint in zip(rows, touchpoints, strict=True):
            row.touchpoint = touchpoint
        OutboxMessage.objects.bulk_update(rows, ["touchpoint"])
        for row in rows:
            if row.related_touchpoint_id and row.program == "meeting_notes":
                Touchpoint.objects.filter(pk=row.related_touchpoint_id).update(notes_sent_at=row.sent_at)
    return len(rows)


def timeline_record(message):
    """One message's entry (see ``timelines_record``): True if it was written now."""
    return bool(timelines_record([message]))


def timelines_repair(*, now=None, limit=500):
    """Sent messages whose worker died before the timeline entry: write it (the sweeper calls it)."""
    now = now or timezone.now()
    missing = list(
        OutboxMessage.objects.filter(status=Status.SENT, touchpoint__isnull=True, customer__isnull=False,
                                     sent_at__lt=now - datetime.timedelta(seconds=30))
        .order_by("sent_at").only("pk", "customer_id")[:limit]
    )
    return timelines_record(missing)
