"""
Sending one batch of outbox rows: claim each row, build the email, deliver it over one SMTP
connection, and record the outcome.

1. A row is claimed (``pending`` → ``sending``) with a conditional UPDATE; a duplicate or retried
   task finds nothing to claim and sends nothing.
2. A contact who unsubscribed since the decision is suppressed, not sent.
3. A temporary SMTP failure puts the row back to ``pending`` with a capped, jittered backoff (and a
   task for when it falls due); a permanent one marks it ``failed`` with the reason.
4. A sent row gets ``sent``, its time, and a touchpoint on the customer's timeline.

The one window left is a worker that dies after the SMTP server accepted a message but before the
row is marked sent: the sweeper then sends it again. It is as small as one UPDATE.
"""

import datetime
import logging
import random
import smtplib
import socket
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import OutboxMessage, Touchpoint
from .ledger import BACKOFF_CAP_SECONDS, queue_send
from .unsubscribe import unsubscribe_url

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6

# A refused recipient or sender will be refused again; a dropped connection or a 4xx may not.
PERMANENT_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, ValueError)
TEMPORARY_ERRORS = (smtplib.SMTPException, socket.error, TimeoutError, ConnectionError)


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


def from_header(sender):
    """
    The From of a message sent in ``sender``'s name: their name at the installation's own address
    (so DKIM stays aligned), or DEFAULT_FROM_EMAIL as it is when there is no sender or no name.
    """
    if sender is not None and sender.get_full_name():
        return f"{sender.get_full_name()} <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>"
    return settings.DEFAULT_FROM_EMAIL


def build_email(message, connection=None):
    # The occasion travels with the message, so a receiving system (or a test's SMTP sink) can tell
    # one occasion's message from another's, and a duplicate from two messages.
    headers = {"X-Retention-Occasion": message.occasion_key}
    if message.automated and message.contact is not None:
        url = unsubscribe_url(message.contact)
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=from_header(message.sender),
        to=message.recipients, reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers, connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


SHOWN_HEADERS = ["From", "To", "Reply-To", "Subject", "List-Unsubscribe", "List-Unsubscribe-Post",
                 "X-Retention-Occasion"]


def outbox_headers(message):
    """The headers the message goes out with, as ``build_email`` makes them (decoded)."""
    built = build_email(message).message()
    return [(name, str(built[name])) for name in SHOWN_HEADERS if built[name] is not None]


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
    if message.customer_id is None:  # to the team itself (a manager's digest): no timeline
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.SENT, sent_at=now, last_error="")
        return
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
