"""
The outgoing mail server's state, as the senders find it, so that an outage is never silent.

- The first temporary failure (connection refused, timeout, 4xx) after a success logs a WARNING;
  a server still failing ``OUTBOX_SMTP_ERROR_AFTER_SECONDS`` later (5 minutes) logs an ERROR, once
  per outage. Messages meanwhile stay ``pending`` and are retried until their latest send time.
- While it fails, the sweeper probes it every minute (``server_probe``), so the state is known
  even when every message is waiting out its backoff.
- When it answers again the backlog drains at once (``backlog_release``): the messages waiting out
  their backoff are due now, not after the longest backoff.
- ``mail_health`` is what ``/healthz`` and the Outbox page's banner report: the state, since when,
  the last error, and how many messages are due and how long the oldest has waited.

The state is one database row (``MailServerState``) that every worker shares, written on a change of
state with conditional UPDATEs, so that two workers failing at once log the outage once.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import Count, Min
from django.utils import timezone

from ..models import MailServerState, OutboxMessage
from .ledger import SEND_BATCH_SIZE, queue_send

log = logging.getLogger(__name__)

PENDING = OutboxMessage.Status.PENDING


def _state_rows():
    MailServerState.objects.get_or_create(pk=1)
    return MailServerState.objects.filter(pk=1)


def record_failure(error, *, now=None):
    """A temporary failure: WARNING on the first one, ERROR once it has lasted long enough."""
    now = now or timezone.now()
    text = f"{error.__class__.__name__}: {error}"[:1000]
    rows = _state_rows()
    if rows.filter(failing_since__isnull=True).update(failing_since=now, last_error=text, last_error_at=now,
                                                      error_logged=False):
        log.warning("The mail server is failing (%s). Messages stay pending and are retried until their "
                    "latest send time; an ERROR follows if it lasts %d minutes.", text,
                    settings.OUTBOX_SMTP_ERROR_AFTER_SECONDS // 60)
        return
    rows.update(last_error=text, last_error_at=now)
    threshold = now - datetime.timedelta(seconds=settings.OUTBOX_SMTP_ERROR_AFTER_SECONDS)
    if rows.filter(failing_since__lte=threshold, error_logged=False).update(error_logged=True):
        state = rows.get()
        log.error("The mail server has been unreachable since %s (%d minutes): %s. %d message(s) wait to be "
                  "sent.", timezone.localtime(state.failing_since).isoformat(timespec="seconds"),
                  (now - state.failing_since).total_seconds() // 60, text, _due_count(now))


def record_ok(*, now=None):
    """The server accepted a message (or a probe): if it was failing, say so and drain the backlog."""
    now = now or timezone.now()
    rows = MailServerState.objects.filter(pk=1)
    failing = rows.filter(failing_since__isnull=False).values_list("failing_since", flat=True).first()
    if failing is None or not rows.filter(failing_since=failing).update(
            failing_since=None, error_logged=False, last_ok_at=now):
        return False
    released = backlog_release(now=now)
    log.info("The mail server answers again after %d minute(s); %d waiting message(s) go out now.",
             (now - failing).total_seconds() // 60, len(released))
    return True


def backlog_release(*, now=None):
    """Messages waiting to be retried after temporary failures: due now, and queued. Returns their ids."""
    now = now or timezone.now()
    # Whether their backoff is still running or their retry task is queued behind others: now.
    waiting = OutboxMessage.objects.filter(status=PENDING, reason=OutboxMessage.Reason.RETRYING)
    ids = list(waiting.values_list("pk", flat=True))
    OutboxMessage.objects.filter(pk__in=ids, status=PENDING, send_after__gt=now).update(send_after=now)
    OutboxMessage.objects.filter(pk__in=ids, status=PENDING).update(lease_until=None)
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        if not queue_send(ids[start:start + SEND_BATCH_SIZE]):
            break  # the broker is down too: the sweeper queues them, they are due
    return ids


def server_probe(*, now=None):
    """
    While the server is known to fail, try a connection (the sweeper, every minute): the state
    stays true when no message is due to find out, and the backlog drains as soon as it answers.
    Returns True when it answers, False when it fails, None when there was nothing to probe.
    """
    if not MailServerState.objects.filter(pk=1, failing_since__isnull=False).exists():
        return None
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:  # any failure to connect is the outage going on
        record_failure(error, now=now)
        return False
    finally:
        try:
            connection.close()
        except Exception:  # a half-open session: nothing to do about it here
            pass
    record_ok(now=now)
    return True


def _due_count(now):
    return OutboxMessage.objects.filter(status=PENDING, send_after__lte=now).count()


def mail_health(*, messages=None, now=None):
    """
    The mail server's state and the backlog, for ``/healthz`` and the Outbox page: ``failing``,
    ``failing_since``, ``last_error``, ``due`` (pending messages due now, of ``messages`` if given)
    and ``oldest_due`` (when the oldest of them fell due), ``oldest_due_seconds``.
    """
    now = now or timezone.now()
    state = MailServerState.objects.filter(pk=1).first()
    messages = OutboxMessage.objects.all() if messages is None else messages
    backlog = messages.filter(status=PENDING, send_after__lte=now).aggregate(
        due=Count("pk"), oldest=Min("send_after"))
    oldest = backlog["oldest"]
    return {
        "failing": bool(state and state.failing_since),
        "failing_since": state.failing_since if state else None,
        "last_error": state.last_error if state and state.failing_since else "",
        "due": backlog["due"],
        "oldest_due": oldest,
        "oldest_due_seconds": int((now - oldest).total_seconds()) if oldest else 0,
    }
