"""
The sweeper (``outbox_sweep``, every minute from Celery beat): whatever should be on its way and
is not, it puts back on its way, so that a broker outage, a worker killed mid-send or a mail server
down for hours loses nothing and sends nothing late.

1. Rows in ``sending`` whose worker's lease ran out (it was killed) go back to ``pending``.
2. Pending rows past their latest sensible send time are expired, with the reason, never sent late.
3. If the mail server is known to fail, it is probed; when it answers, the backlog drains at once.
4. Pending rows that are due and in nobody's hands (their task was lost with a worker, or in a
   broker outage, or they were due too late to be queued when decided) are queued.
5. Sent rows whose worker died before the timeline entry get it.

A row in a live worker's hands is leased (``lease_until``) and renewed as the worker goes on; a dead
worker's lease runs out within ``OUTBOX_SENDING_LEASE_SECONDS``, so lost work is picked up again
within two sweeps, two minutes.
"""

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import OutboxMessage
from .ledger import SEND_BATCH_SIZE, queue_send
from .sending import timelines_repair
from .server import server_probe

log = logging.getLogger(__name__)

Status, Reason = OutboxMessage.Status, OutboxMessage.Reason


def outbox_sweep(*, now=None, limit=20_000):
    """Do the rounds described above; returns the ids queued."""
    now = now or timezone.now()
    taken_back = OutboxMessage.objects.filter(status=Status.SENDING).filter(
        # (A row claimed before leases existed has none: its claim's age tells.)
        Q(lease_until__lt=now) | Q(lease_until__isnull=True, claimed_at__lt=now - sending_lease())
    ).update(status=Status.PENDING, lease_until=None, cap_day=None, cap_slot=None)
    if taken_back:
        log.warning("took back %d outbox message(s) whose worker stopped while sending them", taken_back)
    _expire(now)
    server_probe(now=now)
    ids = list(
        OutboxMessage.objects.filter(status=Status.PENDING, send_after__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("send_after").values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        if not queue_send(ids[start:start + SEND_BATCH_SIZE], now=now):
            return ids[:start]  # the broker is down: the next sweep tries again
    timelines_repair(now=now)
    return ids


def sending_lease():
    return datetime.timedelta(seconds=settings.OUTBOX_SENDING_LEASE_SECONDS)


def _expire(now):
    """Pending rows past their latest send time: expired, as stale or as lost to an outage."""
    late = OutboxMessage.objects.filter(status=Status.PENDING, expires_at__lte=now)
    outage = late.filter(reason=Reason.RETRYING).update(
        status=Status.EXPIRED, reason=Reason.OUTAGE, lease_until=None,
        reason_note="Not sent: the mail server kept failing until its latest send time.")
    stale = late.update(
        status=Status.EXPIRED, reason=Reason.STALE, lease_until=None,
        reason_note="Not sent: it was still waiting when its latest send time passed (were the "
                    "workers or the scheduler down?).")
    if outage or stale:
        log.warning("expired %d outbox message(s) whose latest send time passed before they could go "
                    "out (%d while the mail server failed)", outage + stale, outage)
    return outage + stale

