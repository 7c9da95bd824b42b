"""
The outbox ledger: deciding to send (a row with a unique occasion key), handing rows to a worker
once the decision commits, and putting a failed message back in line.

Sending itself (claim, SMTP, backoff) is in ``sending.py``, the sweeper in ``sweeper.py``; scans
write their rows in bulk through ``scans.materialize`` and hand them over with
``enqueue_on_commit`` as ``outbox_enqueue`` does.
"""

import datetime
import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ..models import OutboxMessage
from .composing import new_message_id, occasion_reference
from .policy import DATED
from .policy import expires_at as latest_send_time
from .unsubscribe import with_unsubscribe_footer

log = logging.getLogger(__name__)

# The longest a message waits in the broker (a countdown), and so the cap of the retry backoff:
# kept well below the broker's visibility timeout (one hour), so a task waiting in the queue is
# never delivered twice by Redis. Anything due later is queued by the sweeper when it falls due.
BACKOFF_CAP_SECONDS = 15 * 60
# A row queued to the broker is left to its task this long (after it is due) before a sweep queues
# it again: with a backlog longer than the sweep interval, a sweep does not queue the same rows over
# and over. A worker that takes the task leases the rows for itself (``sending.py``), for less.
QUEUED_LEASE = datetime.timedelta(minutes=10)
SEND_BATCH_SIZE = 100
# A short retry when publishing, so a broker outage costs the deciding request a second, not ten.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.5}


def outbox_enqueue(*, occasion_key, program, customer, to, subject, body_text, contact=None,
                   body_html="", sender=None, reply_to="", automated=True, send_after=None,
                   related_touchpoint=None, expires_at=None):
    """
    Decide to send one message; returns ``(message, created)``.

    Call it inside the transaction that makes the decision. Automated messages get the
    unsubscribe footer (stored as sent) and are suppressed for unsubscribed contacts.
    ``expires_at`` is the latest sensible send time; by default the program's (``policy.py``).
    A message decided after it is recorded as expired, not sent.
    """
    now = timezone.now()
    send_after = send_after or now
    if expires_at is None:
        zone = customer.timezone if customer is not None else timezone.get_current_timezone_name()
        expires_at = latest_send_time(program, send_after, zone)
    if automated and contact is not None:
        body_text = with_unsubscribe_footer(body_text, contact)
    status, reason, note = OutboxMessage.Status.PENDING, "", ""
    if automated and contact is not None and contact.unsubscribed_at is not None:
        status, reason = OutboxMessage.Status.SUPPRESSED, OutboxMessage.Reason.UNSUBSCRIBED
        note = "The contact had unsubscribed from automated messages."
    elif expires_at is not None and expires_at <= now:
        status, reason = OutboxMessage.Status.EXPIRED, OutboxMessage.Reason.STALE
        note = stale_note(expires_at)
    if isinstance(to, (list, tuple)):
        to = "\n".join(to)
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                occasion_key=occasion_key, occasion_ref=occasion_reference(occasion_key),
                message_id=new_message_id(), program=program, customer=customer, contact=contact,
                to=to, subject=subject, body_text=body_text, body_html=body_html, sender=sender,
                reply_to=reply_to, automated=automated, status=status, reason=reason, reason_note=note,
                send_after=send_after, expires_at=expires_at, related_touchpoint=related_touchpoint,
            )
    except IntegrityError:
        return OutboxMessage.objects.get(occasion_key=occasion_key), False
    if status == OutboxMessage.Status.PENDING:
        enqueue_on_commit([message.pk], message.send_after)
    return message, True


def stale_note(expires_at):
    limit = timezone.localtime(expires_at)
    return f"Not sent: it was decided after its latest send time ({limit:%Y-%m-%d %H:%M %Z})."


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


def queue_send(message_ids, countdown=0, *, now=None):
    """
    Hand messages to a worker; True if the broker took them. The rows are then leased to their
    task (``QUEUED_LEASE`` after they fall due), so the sweeper does not queue them again meanwhile.

    A broker that is down must not fail the request or the scan that decided to send: the rows
    are committed and pending, and the sweeper queues them once the broker is back.
    """
    from ..tasks import send_outbox_messages  # the task module calls back into this package

    ids = list(message_ids)
    try:
        send_outbox_messages.apply_async((ids,), countdown=countdown, retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:
        log.warning("could not queue %d outbox message(s) %s; they stay pending for the sweeper",
                    len(ids), ids[:10], exc_info=True)
        return False
    # Only rows nobody has in hand yet: a worker may already be on them (or, eagerly, done).
    now = now or timezone.now()
    lease = now + datetime.timedelta(seconds=countdown) + QUEUED_LEASE
    OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.PENDING).exclude(
        lease_until__gt=now).update(lease_until=lease)
    return True


# A write of at least this many outbox rows at once refreshes the table's statistics.
STATISTICS_AFTER_ROWS = 1_000


def outbox_statistics_refresh(written):
    """
    After a scan or a campaign has written ``written`` outbox rows at once: ANALYZE the outbox when
    that is many. Autovacuum refreshes a table's statistics only once a tenth of it has changed, so
    until then a day that has just received thousands of messages is planned as empty, and the daily
    cap's check (``cap.cap_verdict``, one query a message by address) reads the whole day's pending
    rows through the ``(status, send_after)`` index instead of the address's few. At a million
    customers that was 100 ms a message, 8 messages a second for a worker; with fresh statistics it
    is 2 ms. ANALYZE reads a sample: under a second at that size.
    """
    if written >= STATISTICS_AFTER_ROWS:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {OutboxMessage._meta.db_table}")


class RetryRefused(ValueError):
    """A message that may not be put back in line; the message says why, for the person who asked."""


def outbox_retry(*, message):
    """
    Put a failed message back in line (a person asked for it); attempts start again. A greeting
    whose day has passed is refused (``RetryRefused``): it would arrive saying "Happy birthday" days
    late. Any other message gets its program's grace again, from now.
    """
    now = timezone.now()
    if message.status != OutboxMessage.Status.FAILED:
        raise RetryRefused(f"Only a failed message can be retried; this one is "
                           f"{message.get_status_display().lower()}.")
    fields = {"status": OutboxMessage.Status.PENDING, "attempts": 0, "send_after": now,
              "claimed_at": None, "lease_until": None, "reason": "", "reason_note": ""}
    if message.expires_at is not None and message.expires_at <= now:
        if message.program in DATED:
            raise RetryRefused(f"Its day has passed ({timezone.localtime(message.expires_at):%Y-%m-%d}): "
                               "a greeting is never sent after its day.")
        zone = message.customer.timezone if message.customer_id else timezone.get_current_timezone_name()
        fields["expires_at"] = latest_send_time(message.program, now, zone)
    retried = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.FAILED).update(**fields)
    message.refresh_from_db()
    if not retried:
        raise RetryRefused(f"Only a failed message can be retried; this one is "
                           f"{message.get_status_display().lower()}.")
    enqueue_on_commit([message.pk])
    return message
