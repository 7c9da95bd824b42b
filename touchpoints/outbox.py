"""
The outbox: every message to a customer goes through here, exactly once per occasion.

1. Deciding to send writes an ``OutboxMessage`` with a unique ``occasion_key`` in the caller's
   transaction (``outbox_enqueue``, or ``bulk_create(ignore_conflicts=True)`` in scans). A second
   decision for the same occasion finds the key taken and adds nothing.
2. On commit, a task is queued to send it. A rolled-back decision queues nothing.
3. Sending claims the row (``pending`` → ``sending``) with a conditional UPDATE; a duplicate or
   retried task finds nothing to claim and sends nothing.
4. Temporary SMTP failures put the row back to ``pending`` with a capped, jittered backoff;
   permanent ones mark it ``failed`` with the reason.
5. The sweeper re-queues rows still pending when due (a broker outage at decision time) and rows
   stuck in ``sending`` (a worker killed mid-send).

The one window left is a worker that dies after the SMTP server accepted a message but before the
row is marked sent: the sweeper then sends it again. It is as small as one UPDATE.
"""

import datetime
import logging
import random
import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from .models import OutboxMessage, Touchpoint

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 30
# Kept well below the broker's visibility timeout (one hour), so a retry waiting in the queue is
# never delivered twice by Redis.
BACKOFF_CAP_SECONDS = 15 * 60
STUCK_AFTER = datetime.timedelta(minutes=10)
SEND_BATCH_SIZE = 100

UNSUBSCRIBE_FOOTER = (
    "\n\n--\nYou receive this email because you are a customer of ours. "
    "To receive no more automated emails, open {url}"
)


def unsubscribe_url(contact):
    return settings.SITE_URL + reverse("unsubscribe", args=[contact.unsubscribe_token])


def with_unsubscribe_footer(body_text, contact):
    return body_text + UNSUBSCRIBE_FOOTER.format(url=unsubscribe_url(contact))


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
    from .tasks import send_outbox_messages

    if not message_ids:
        return
    delay = 0
    if send_after is not None:
        delay = max(0, (send_after - timezone.now()).total_seconds())
    ids = list(message_ids)
    if delay > BACKOFF_CAP_SECONDS:
        return  # far in the future: the sweeper queues it when it falls due
    transaction.on_commit(lambda: send_outbox_messages.apply_async((ids,), countdown=delay))


def outbox_send(message_ids):
    """
    Send the given messages that are still pending and due, over one SMTP connection.

    Returns ``{"sent": n, "retry": n, "failed": n, "suppressed": n, "skipped": n}``.
    """
    outcome = dict.fromkeys(("sent", "retry", "failed", "suppressed", "skipped"), 0)
    connection = None
    try:
        for message_id in message_ids:
            message = _claim(message_id)
            if message is None:
                outcome["skipped"] += 1
                continue
            if message.automated and message.contact and message.contact.unsubscribed_at:
                _finish(message, status=OutboxMessage.Status.SUPPRESSED)
                outcome["suppressed"] += 1
                continue
            if connection is None:
                connection = get_connection()
                connection.open()
            outcome[_deliver(message, connection)] += 1
    finally:
        if connection is not None:
            try:
                connection.close()
            except Exception:  # closing a broken SMTP session must not mask the outcome
                log.warning("could not close the SMTP connection cleanly", exc_info=True)
    return outcome


def _claim(message_id):
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxMessage.Status.PENDING, send_after__lte=now
    ).update(status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return OutboxMessage.objects.select_related("contact", "customer", "sender").get(pk=message_id)


def _deliver(message, connection):
    email = build_email(message, connection)
    try:
        email.send()
    except PERMANENT_ERRORS as error:
        _finish(message, status=OutboxMessage.Status.FAILED, error=_describe(error))
        return "failed"
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            _finish(message, status=OutboxMessage.Status.FAILED, error=_describe(error))
            return "failed"
        return _retry_later(message, error)
    except TEMPORARY_ERRORS as error:
        return _retry_later(message, error)
    _mark_sent(message)
    return "sent"


# A refused recipient or sender will be refused again; a dropped connection or a 4xx may not.
PERMANENT_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, ValueError)
TEMPORARY_ERRORS = (smtplib.SMTPException, socket.error, TimeoutError, ConnectionError)


def build_email(message, connection=None):
    headers = {}
    if message.automated and message.contact is not None:
        url = unsubscribe_url(message.contact)
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    from_email = settings.DEFAULT_FROM_EMAIL
    if message.sender is not None and message.sender.get_full_name():
        address = from_email.rsplit("<", 1)[-1].rstrip(">") if "<" in from_email else from_email
        from_email = f"{message.sender.get_full_name()} <{address}>"
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=from_email,
        to=message.recipients, reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers, connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


def backoff_seconds(attempts):
    """Exponential, capped and jittered, so a recovering SMTP server is not hit all at once."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def _retry_later(message, error):
    if message.attempts >= MAX_ATTEMPTS:
        _finish(message, status=OutboxMessage.Status.FAILED,
                error=f"gave up after {message.attempts} attempts: {_describe(error)}")
        return "failed"
    delay = backoff_seconds(message.attempts)
    OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.SENDING).update(
        status=OutboxMessage.Status.PENDING, last_error=_describe(error),
        send_after=timezone.now() + datetime.timedelta(seconds=delay),
    )
    from .tasks import send_outbox_messages

    send_outbox_messages.apply_async(([message.pk],), countdown=delay)
    return "retry"


@transaction.atomic
def _mark_sent(message):
    """Record the message as sent and put it on the customer's timeline."""
    now = timezone.now()
    touchpoint = Touchpoint.objects.create(
        customer_id=message.customer_id, author=message.sender,
        kind=Touchpoint.Kind.EMAIL if not message.automated else Touchpoint.Kind.SYSTEM,
        direction=Touchpoint.Direction.OUTBOUND, happened_at=now, summary=message.subject[:200],
        notes=message.body_text,
    )
    if message.contact_id:
        touchpoint.contacts.add(message.contact_id)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=now, touchpoint=touchpoint, last_error=""
    )
    if message.related_touchpoint_id and message.program == "meeting_notes":
        Touchpoint.objects.filter(pk=message.related_touchpoint_id).update(notes_sent_at=now)


def _finish(message, *, status, error=""):
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, last_error=error)


def _describe(error):
    return f"{error.__class__.__name__}: {error}"[:1000]


def outbox_sweep(*, now=None, limit=5000):
    """
    Re-queue what should be on its way: pending rows that are due (their task was lost, say in a
    broker outage) and rows stuck in ``sending`` (their worker was killed). Returns the ids queued.
    """
    from .tasks import send_outbox_messages

    now = now or timezone.now()
    OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=OutboxMessage.Status.PENDING)
    ids = list(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, send_after__lte=now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - datetime.timedelta(minutes=1)))
        .order_by("send_after").values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        send_outbox_messages.delay(ids[start:start + SEND_BATCH_SIZE])
    return ids
