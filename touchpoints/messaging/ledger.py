"""
The outbox ledger: deciding to send (a row with a unique occasion key), handing rows to a worker
once the decision commits, sweeping up what was left pending, retrying a failed message, and
reading the ledger for the Outbox page.

Sending itself (claim, SMTP, backoff) is in ``sending.py``; scans write their rows in bulk through
``scans.materialize`` and hand them over with ``enqueue_on_commit`` as ``outbox_enqueue`` does.
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import OutboxMessage
from .unsubscribe import with_unsubscribe_footer

log = logging.getLogger(__name__)

# The longest a message waits in the broker (a countdown), and so the cap of the retry backoff:
# kept well below the broker's visibility timeout (one hour), so a task waiting in the queue is
# never delivered twice by Redis. Anything due later is queued by the sweeper when it falls due.
BACKOFF_CAP_SECONDS = 15 * 60
# A row in ``sending`` this long has lost its worker (killed mid-send): the sweeper takes it back.
STUCK_AFTER = datetime.timedelta(minutes=10)
# A row the sweeper queued is left to its task this long before it is queued again.
QUEUED_LEASE = datetime.timedelta(minutes=10)
SEND_BATCH_SIZE = 100
# A short retry when publishing, so a broker outage costs the deciding request a second, not ten.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.5}


def outbox_enqueue(*, occasion_key, program, customer, to, subject, body_text, contact=None,
                   body_html="", sender=None, reply_to="", automated=True, send_after=None,
                   related_touchpoint=None):
    """
    Decide to send one message; returns ``(message, created)``.

    Call it inside the transaction that makes the decision. Automated messages get the
    unsubscribe footer (stored as sent) and are suppressed for unsubscribed contacts.
    """
    if automated and contact is not None:
        body_text = with_unsubscribe_footer(body_text, contact)
    status = OutboxMessage.Status.PENDING
    if automated and contact is not None and contact.unsubscribed_at is not None:
        status = OutboxMessage.Status.SUPPRESSED
    if isinstance(to, (list, tuple)):
        to = "\n".join(to)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                occasion_key=occasion_key, program=program, customer=customer, contact=contact,
                to=to, subject=subject, body_text=body_text, body_html=body_html, sender=sender,
                reply_to=reply_to, automated=automated, status=status,
                send_after=send_after or timezone.now(), related_touchpoint=related_touchpoint,
            )
    except IntegrityError:
        return OutboxMessage.objects.get(occasion_key=occasion_key), False
    if status == OutboxMessage.Status.PENDING:
        enqueue_on_commit([message.pk], message.send_after)
    return message, True


def enqueue_on_commit(message_ids, send_after=None):
    """Queue sending once the deciding transaction commits; later if the messages are not due yet."""
    if not message_ids:
        return
    delay = 0
    if send_after is not None:
        delay = max(0, (send_after - timezone.now()).total_seconds())
    ids = list(message_ids)
    if delay > BACKOFF_CAP_SECONDS:
        return  # far in the future: the sweeper queues it when it falls due
    transaction.on_commit(lambda: queue_send(ids, countdown=delay))


def queue_send(message_ids, countdown=0):
    """
    Hand messages to a worker; True if the broker took them.

    A broker that is down must not fail the request or the scan that decided to send: the rows
    are committed and pending, and the sweeper queues them once the broker is back.
    """
    from ..tasks import send_outbox_messages  # the task module calls back into this package

    try:
        send_outbox_messages.apply_async((list(message_ids),), countdown=countdown,
                                         retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:
        log.warning("could not queue %d outbox message(s) %s; they stay pending for the sweeper",
                    len(message_ids), list(message_ids)[:10], exc_info=True)
        return False
    return True


def outbox_sweep(*, now=None, limit=20_000):
    """
    Re-queue what should be on its way: pending rows that are due (their task was lost, say in a
    broker outage, or they were due too late to be queued when decided) and rows stuck in
    ``sending`` (their worker was killed). Returns the ids queued.

    Queued rows are stamped (``claimed_at``) and left to their task for ``QUEUED_LEASE``: with a
    backlog longer than the sweep interval, a sweep does not queue the same rows over and over.
    """
    now = now or timezone.now()
    OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=OutboxMessage.Status.PENDING)
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, send_after__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - QUEUED_LEASE))
        .order_by("send_after").values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        batch = ids[start:start + SEND_BATCH_SIZE]
        if not queue_send(batch):
            return ids[:start]  # the broker is down: the next sweep tries again
        OutboxMessage.objects.filter(pk__in=batch, status=OutboxMessage.Status.PENDING).update(
            claimed_at=now
        )
    return ids


def outbox_retry(*, message):
    """Put a failed message back in line (a person asked for it); attempts start again."""
    retried = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.FAILED).update(
        status=OutboxMessage.Status.PENDING, attempts=0, send_after=timezone.now(), claimed_at=None
    )
    if retried:
        enqueue_on_commit([message.pk])
    message.refresh_from_db()
    return bool(retried)


def outbox_filter(messages, *, program="", status="", date_from=None, date_to=None):
    """Narrow a queryset of messages; dates are days of ``send_after`` in the installation's zone."""
    if program:
        messages = messages.filter(program=program)
    if status:
        messages = messages.filter(status=status)
    zone = timezone.get_current_timezone()

    def midnight(day):
        return datetime.datetime.combine(day, datetime.time(), tzinfo=zone)

    if date_from:
        messages = messages.filter(send_after__gte=midnight(date_from))
    if date_to:
        messages = messages.filter(send_after__lt=midnight(date_to + datetime.timedelta(days=1)))
    return messages
