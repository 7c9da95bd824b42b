"""
``complaint.breached``: nothing in a complaint's life happens at the moment its resolution target
passes, so a scan finds those moments (``scan_complaint_breaches``, every five minutes from beat).

One set-based query: the unresolved complaints whose target passed within ``LOOKBACK`` and whose
breach was not announced yet (the event's occasion key, ``complaint.breached:<id>``, unique).
A breach older than that is not announced late: the scheduler was down, or nobody subscribed
then. Nothing at all is read while no endpoint subscribes to the type.
"""

import datetime

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from customers.events import EventType
from touchpoints.models import Complaint

from .events import announce_many, subscriptions
from .models import Event

LOOKBACK = datetime.timedelta(days=1)
BATCH_SIZE = 500
KEY_PREFIX = f"{EventType.COMPLAINT_BREACHED}:"


def complaint_breaches_announce(*, now=None):
    """Announce, once, each complaint that passed its resolution target unresolved; returns how many."""
    if not subscriptions().get(EventType.COMPLAINT_BREACHED):
        return 0
    now = now or timezone.now()
    announced = Event.objects.filter(
        occasion_key=Concat(Value(KEY_PREFIX), Cast(OuterRef("pk"), CharField())))
    complaints = list(
        Complaint.objects.unresolved()
        .filter(resolution_due_at__lte=now, resolution_due_at__gt=now - LOOKBACK)
        .exclude(Exists(announced))
        .only("customer_id", "severity", "summary", "status", "opened_at", "resolution_due_at")
        .order_by("resolution_due_at", "pk")
    )
    for start in range(0, len(complaints), BATCH_SIZE):
        with transaction.atomic():
            announce_many(EventType.COMPLAINT_BREACHED, [
                (complaint.customer_id, complaint.event_data(), f"{KEY_PREFIX}{complaint.pk}")
                for complaint in complaints[start:start + BATCH_SIZE]
            ], now=now)
    return len(complaints)
