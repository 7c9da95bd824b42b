"""
Sending one batch of outbox rows: claim each row, build the email, deliver it over one SMTP
connection, and record the outcome.

1. The batch is taken in hand: its rows are leased to this worker (``lease_until``), and the lease
   is renewed as the batch goes on, so that the sweeper takes back the rows of a worker that died
   within a minute or two, and never those of one that lives. Rows decided in bulk without their
   wording are written now (``composers.py``).
2. A row is claimed (``pending`` → ``sending``) with a conditional UPDATE; a duplicate or retried
   task finds nothing to claim and sends nothing. A message past its latest sensible send time is
   expired instead (``policy.py``); one over its contact's daily limit waits or is suppressed
   (``cap.py``); a contact who unsubscribed since the decision is suppressed.
3. A temporary failure (connection refused, timeout, 4xx) puts the row back to ``pending`` with a
   capped, jittered backoff, until its latest sensible send time; then it is expired, never
   ``failed`` for a temporary cause. A permanent one (5xx) marks it ``failed`` with the reason. The
   mail server's state is recorded for ``/healthz``, the logs and the Outbox page (``server.py``).
4. **Exactly once**: the moment the server accepts a message, one short UPDATE marks the row
   ``sent``, committed at once. The timeline touchpoint is written after it, idempotently (the
   sweeper writes it if the worker dies in between). A worker killed between the acceptance and
   that UPDATE is the one window left for a duplicate; the resend carries the same Message-ID.
"""

import datetime
import logging
import random
import smtplib
import socket
import time

from django.conf import settings
from django.core.mail import get_connection
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import OutboxMessage, Touchpoint
from . import server
from .cap import cap_hold, cap_verdict
from .composers import compose_pending
from .composing import build_email, new_message_id, occasion_reference
from .ledger import BACKOFF_CAP_SECONDS, queue_send
from .policy import is_capped

log = logging.getLogger(__name__)

Status, Reason = OutboxMessage.Status, OutboxMessage.Reason
TEMPORARY_ERRORS = (smtplib.SMTPException, socket.error, TimeoutError, ConnectionError)
OUTCOMES = ("sent", "retry", "failed", "suppressed", "expired", "deferred", "skipped")


def outbox_send(message_ids):
    """
    Send the given messages that are still pending and due, over one SMTP connection.

    Returns ``{"sent": n, "retry": n, "failed": n, "suppressed": n, "expired": n, "deferred": n,
    "skipped": n}``.
    """
    outcome = dict.fromkeys(OUTCOMES, 0)
    ids = [pk for pk in message_ids if pk is not None]
    # One read for the batch; then each message is claimed just before it is sent.
    loaded = _load(ids)
    _take_in_hand(ids)
    compose_pending(loaded.values())
    heartbeat = time.monotonic()
    connection = None
    server_answered = False
    try:
        for index, message_id in enumerate(ids):
            # The lease of the batch's rows is renewed four times a lease while the batch goes on.
            if time.monotonic() - heartbeat > settings.OUTBOX_SENDING_LEASE_SECONDS / 4:
                _take_in_hand(ids[index:])
                heartbeat = time.monotonic()
            message, result = _claim(loaded.get(message_id))
            if message is None:
                outcome[result] += 1
                continue
            if message.automated and message.contact and message.contact.unsubscribed_at:
                _finish(message, status=Status.SUPPRESSED, reason=Reason.UNSUBSCRIBED,
                        note="The contact unsubscribed after the message was decided.")
                outcome["suppressed"] += 1
                continue
            if connection is None:
                connection = get_connection()
                try:
                    connection.open()
                except TEMPORARY_ERRORS as error:
                    # The server is down: this message waits, and so does the rest of the batch.
                    _close(connection)
                    connection = None
                    server.record_failure(error)
                    outcome[_retry_later(message, error)] += 1
                    outcome["retry"] += _postpone(ids[index + 1:], error, attempts=message.attempts)
                    break
            result = _deliver(message, connection)
            outcome[result] += 1
            if result == "retry":
                # The session may be broken (a 421 closes it): the next message reconnects.
                _close(connection)
                connection = None
            elif not server_answered:
                server_answered = True
                server.record_ok()
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
    return OutboxMessage.objects.select_related("contact", "customer", "sender").in_bulk(message_ids)


def _lease(seconds=None):
    return timezone.now() + datetime.timedelta(seconds=seconds or settings.OUTBOX_SENDING_LEASE_SECONDS)


def _take_in_hand(message_ids):
    """Lease the batch's rows that are due to this worker: the sweeper leaves them alone meanwhile."""
    if message_ids:
        OutboxMessage.objects.filter(pk__in=message_ids, status=Status.PENDING,
                                     send_after__lte=timezone.now()).update(lease_until=_lease())


# Claiming --------------------------------------------------------------------------------------


def _claim(message):
    """
    ``(message, None)`` when ``message`` is claimed for sending (``pending`` → ``sending``), else
    ``(None, outcome)``: "skipped" when someone else has it or it is not due, "expired",
    "deferred" or "suppressed" when it must not go out now.

    The UPDATE also matches the attempts read with the batch, so the count the retry policy looks at
    is exact. A row read as due that fails the claim is read again and tried once more, in case
    only its attempts changed meanwhile.
    """
    for again in (False, True):
        if message is None or message.status != Status.PENDING:
            return None, "skipped"
        now = timezone.now()
        if message.send_after > now:
            return None, "skipped"
        if message.expires_at is not None and message.expires_at <= now:
            return None, _expire(message, now)
        claim = {"status": Status.SENDING, "claimed_at": now, "attempts": F("attempts") + 1,
                 "lease_until": _lease()}
        # Stored before the first attempt and reused on every retry (and after a crash).
        if not message.message_id:
            message.message_id = claim["message_id"] = new_message_id()
        if not message.occasion_ref:
            message.occasion_ref = claim["occasion_ref"] = occasion_reference(message.occasion_key)
        rows = OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING, send_after__lte=now,
                                            attempts=message.attempts)
        if is_capped(program=message.program, automated=message.automated, contact_id=message.contact_id):
            verdict = cap_verdict(message, now)
            if not verdict.slots:
                return None, cap_hold(message, now, verdict)
            claimed = _claim_slot(rows, claim, verdict)
        else:
            claimed = rows.update(**claim)
        if claimed:
            message.status, message.claimed_at, message.attempts = Status.SENDING, now, message.attempts + 1
            return message, None
        if not again:
            message = _load([message.pk]).get(message.pk)
    return None, "skipped"


def _claim_slot(rows, claim, verdict):
    """Claim the row and a free slot of the daily limit in one UPDATE; 0 if every slot is taken."""
    for slot in verdict.slots:
        try:
            with transaction.atomic():
                return rows.update(**claim, cap_day=verdict.day, cap_slot=slot)
        except IntegrityError:
            continue  # another worker took that slot for the same address a moment ago
    return 0


def _expire(message, now):
    outage = message.reason == Reason.RETRYING
    changed = OutboxMessage.objects.filter(pk=message.pk, status=Status.PENDING).update(
        status=Status.EXPIRED, lease_until=None, reason=Reason.OUTAGE if outage else Reason.STALE,
        reason_note=_expired_note(message, outage=outage),
    )
    return "expired" if changed else "skipped"


def _expired_note(message, *, outage):
    limit = timezone.localtime(message.expires_at)
    if outage:
        return (f"Not sent: the mail server kept failing until its latest send time "
                f"({limit:%Y-%m-%d %H:%M %Z}). Last error: {message.last_error[:200]}")
    return f"Not sent: its latest send time ({limit:%Y-%m-%d %H:%M %Z}) had passed."


# Delivering ------------------------------------------------------------------------------------


def _deliver(message, connection):
    email = build_email(message, connection)
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):  # greylisted, mailbox busy: later
            return _retry_later(message, error)
        return _fail(message, error)
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            return _fail(message, error)
        server.record_failure(error)
        return _retry_later(message, error)
    except TEMPORARY_ERRORS as error:
        server.record_failure(error)
        return _retry_later(message, error)
    except ValueError as error:  # an address Django refuses to put in a header: it never will
        return _fail(message, error)
    _mark_sent(message)
    return "sent"


def _fail(message, error):
    _finish(message, status=Status.FAILED, reason=Reason.REJECTED, error=_describe(error),
            note="Refused by the mail server; it will not be tried again unless someone retries it.")
    return "failed"


def backoff_seconds(attempts):
    """Exponential, capped and jittered, so a recovering SMTP server is not hit all at once."""
    ceiling = min(BACKOFF_CAP_SECONDS, settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def give_up_at(message):
    """Until when a temporary failure is retried: the latest sensible send time, or a few days."""
    if message.expires_at is not None:
        return message.expires_at
    return message.created_at + datetime.timedelta(days=settings.OUTBOX_GIVE_UP_DAYS)


def _retry_later(message, error):
    """
    Back in line after a temporary failure, with backoff, until the message's latest send time
    (one last try just before it); after that, expired (or, for a message without one, failed).
    """
    now = timezone.now()
    limit = give_up_at(message)
    last_try = limit - datetime.timedelta(seconds=5)
    if last_try <= now:
        if message.expires_at is not None:
            message.last_error = _describe(error)
            _finish(message, status=Status.EXPIRED, reason=Reason.OUTAGE, error=message.last_error,
                    note=_expired_note(message, outage=True))
            return "expired"
        _finish(message, status=Status.FAILED, reason=Reason.GAVE_UP, error=_describe(error),
                note=f"The mail server failed for {settings.OUTBOX_GIVE_UP_DAYS:g} days; "
                     f"gave up after {message.attempts} attempts.")
        return "failed"
    retry_at = min(now + datetime.timedelta(seconds=backoff_seconds(message.attempts)), last_try)
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.PENDING, last_error=_describe(error), send_after=retry_at, lease_until=None,
        cap_day=None, cap_slot=None, reason=Reason.RETRYING,
        reason_note=f"Temporary failure; tried again at {timezone.localtime(retry_at):%H:%M:%S}, "
                    "or as soon as the mail server answers again.",
    )
    queue_send([message.pk], countdown=(retry_at - now).total_seconds())
    return "retry"


def _postpone(message_ids, error, *, attempts):
    """
    The rest of a batch the server did not let in: the attempt failed for them too. Back in line
    with the first one's backoff (``attempts``, its count), and their own counts one up; a message
    past its latest send time among them is left to the sweeper, which expires it.
    """
    if not message_ids:
        return 0
    delay = backoff_seconds(attempts)
    now = timezone.now()
    postponed = OutboxMessage.objects.filter(pk__in=message_ids, status=Status.PENDING,
                                             send_after__lte=now).update(
        send_after=now + datetime.timedelta(seconds=delay), last_error=_describe(error), lease_until=None,
        attempts=F("attempts") + 1, reason=Reason.RETRYING,
        reason_note="Temporary failure; tried again later, or as soon as the mail server answers again.",
    )
    queue_send(message_ids, countdown=delay)
    return postponed


def _finish(message, *, status, reason="", note="", error=""):
    """A claimed message's end other than sent; its slot of the daily limit is freed."""
    fields = {"status": status, "reason": reason, "reason_note": note, "lease_until": None,
              "cap_day": None, "cap_slot": None}
    if error:
        fields["last_error"] = error
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields)


def _describe(error):
    return f"{error.__class__.__name__}: {error}"[:1000]


# Sent ------------------------------------------------------------------------------------------


def _mark_sent(message):
    """
    The server accepted the message: one UPDATE, committed at once, then the timeline. Nothing
    else stands between the acceptance and the row saying ``sent``.
    """
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=now, last_error="", reason="", reason_note="", lease_until=None,
    )
    message.status, message.sent_at = Status.SENT, now
    timeline_record(message)


def timeline_record(message):
    """
    Put a sent message on its customer's timeline, once: a second call (the sweeper after a crash,
    say) finds it linked and writes nothing. Messages to the team (no customer) have no timeline.
    """
    if message.customer_id is None:
        return False
    with transaction.atomic():
        touchpoint = Touchpoint.objects.create(
            customer_id=message.customer_id, author=message.sender,
            kind=Touchpoint.Kind.EMAIL if not message.automated else Touchpoint.Kind.SYSTEM,
            direction=Touchpoint.Direction.OUTBOUND, happened_at=message.sent_at,
            summary=message.subject[:200], notes=message.body_text,
        )
        if message.contact_id:
            touchpoint.contacts.add(message.contact_id)
        linked = OutboxMessage.objects.filter(pk=message.pk, touchpoint__isnull=True).update(
            touchpoint=touchpoint)
        if not linked:
            transaction.set_rollback(True)  # already on the timeline
            return False
        if message.related_touchpoint_id and message.program == "meeting_notes":
            Touchpoint.objects.filter(pk=message.related_touchpoint_id).update(notes_sent_at=message.sent_at)
    return True


def timelines_repair(*, now=None, limit=500):
    """Sent messages whose worker died before the timeline entry: write it (the sweeper calls it)."""
    now = now or timezone.now()
    missing = (
        OutboxMessage.objects.filter(status=Status.SENT, touchpoint__isnull=True, customer__isnull=False,
                                     sent_at__lt=now - datetime.timedelta(seconds=30))
        .select_related("sender").order_by("sent_at")[:limit]
    )
    return sum(timeline_record(message) for message in missing)
