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
import functools
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
# Kept well below the broker's visibility timeout (one hour), so a retry waiting in the queue is
# never delivered twice by Redis.
BACKOFF_CAP_SECONDS = 15 * 60
STUCK_AFTER = datetime.timedelta(minutes=10)
QUEUED_LEASE = datetime.timedelta(minutes=10)
SEND_BATCH_SIZE = 100

UNSUBSCRIBE_FOOTER = (
    "\n\n--\nYou receive this email because you are a customer of ours. "
    "To receive no more automated emails, open {url}"
)


def unsubscribe_url(contact):
    return unsubscribe_url_for(contact.unsubscribe_token)


def unsubscribe_url_for(token):
    # reverse() once, not once per message: a scan builds tens of thousands of these.
    return settings.SITE_URL + _unsubscribe_path().replace(_TOKEN_SLOT, token)


_TOKEN_SLOT = "__token__"


@functools.cache
def _unsubscribe_path():
    return reverse("unsubscribe", args=[_TOKEN_SLOT])


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
    from .tasks import send_outbox_messages

    try:
        send_outbox_messages.apply_async((list(message_ids),), countdown=countdown,
                                         retry_policy=PUBLISH_RETRY_POLICY)
    except Exception:
        log.warning("could not queue %d outbox message(s) %s; they stay pending for the sweeper",
                    len(message_ids), list(message_ids)[:10], exc_info=True)
        return False
    return True


# A short retry when publishing, so a broker outage costs the deciding request a second, not ten.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.5}


def outbox_send(message_ids):
    """
    Send the given messages that are still pending and due, over one SMTP connection.

    Returns ``{"sent": n, "retry": n, "failed": n, "suppressed": n, "skipped": n}``.
    """
    outcome = dict.fromkeys(("sent", "retry", "failed", "suppressed", "skipped"), 0)
    # One read for the batch; then each message is claimed just before it is sent.
    loaded = _load(message_ids)
    connection = None
    try:
        for message_id in message_ids:
            message = _claim(loaded.get(message_id))
            if message is None:
                outcome["skipped"] += 1
                continue
            if message.automated and message.contact and message.contact.unsubscribed_at:
                _finish(message, status=OutboxMessage.Status.SUPPRESSED)
                outcome["suppressed"] += 1
                continue
            if connection is None:
                connection = get_connection()
                try:
                    connection.open()
                except TEMPORARY_ERRORS as error:  # the server is down: this one waits, so do the rest
                    _close(connection)
                    connection = None
                    outcome[_retry_later(message, error)] += 1
                    continue
            result = _deliver(message, connection)
            outcome[result] += 1
            if result == "retry":
                # The session may be broken (a 421 closes it): the next message reconnects.
                _close(connection)
                connection = None
    finally:
        if connection is not None:
            _close(connection)
    return outcome


def _close(connection):
    try:
        connection.close()
    except Exception:  # closing a broken SMTP session must not mask the outcome
        log.warning("could not close the SMTP connection cleanly", exc_info=True)


def _load(message_ids):
    return OutboxMessage.objects.select_related("contact", "customer", "sender").in_bulk(
        [pk for pk in message_ids if pk is not None])


def _claim(message):
    """
    ``pending`` → ``sending``, if the row is still as it was read and due; None if someone else has
    it (a duplicate task, another worker) or it is not due.

    The UPDATE also matches the attempts read with the batch, so the count the retry policy looks at
    is exact. A row read as due that fails the claim is read again and tried once more, in case
    only its attempts changed meanwhile.
    """
    for again in (False, True):
        if message is None or message.status != OutboxMessage.Status.PENDING:
            return None
        now = timezone.now()
        if message.send_after > now:
            return None
        claimed = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxMessage.Status.PENDING, send_after__lte=now,
            attempts=message.attempts,
        ).update(status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        if claimed:
            message.status, message.claimed_at, message.attempts = "sending", now, message.attempts + 1
            return message
        if not again:
            message = _load([message.pk]).get(message.pk)
    return None


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
    # The occasion travels with the message, so a receiving system (or a test's SMTP sink) can tell
    # one occasion's message from another's, and a duplicate from two messages.
    headers = {"X-Retention-Occasion": message.occasion_key}
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
    ceiling = min(BACKOFF_CAP_SECONDS, settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
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
    queue_send([message.pk], countdown=delay)
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


# Reading the outbox (the Outbox page) ----------------------------------------------------------


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


SHOWN_HEADERS = ["From", "To", "Reply-To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post",
                 "X-Retention-Occasion"]


def outbox_headers(message):
    """The headers the message goes out with, as ``build_email`` makes them (decoded)."""
    built = build_email(message).message()
    return [(name, str(built[name])) for name in SHOWN_HEADERS if built[name] is not None]
