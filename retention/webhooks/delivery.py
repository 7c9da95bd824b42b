"""
Delivering: the ledger's rows on their way, with the outbox's guarantees (docs/RELIABILITY.md).

1. A delivery is written with its event, in the deciding transaction, and queued once that
   commits (``enqueue_on_commit``); a broker that is down fails nothing: the sweeper queues it.
2. An attempt claims the row with a conditional UPDATE (``pending`` and due → ``sending``, one more
   attempt, a lease): of two workers handed the same row, one posts and the other finds nothing.
3. The address is resolved and checked again, the request signed with a fresh timestamp, and posted
   to the checked address (``addresses.py``, ``signing.py``, ``transport.py``). Same event id, same
   body, on every attempt.
4. A 2xx marks it ``delivered``. Anything else puts it back to ``pending`` after a capped, jittered
   backoff (``RETRY_DELAYS``), until ``MAX_ATTEMPTS`` attempts (about three days); then it is
   ``failed``, and if the endpoint delivered nothing since that delivery was written, the endpoint
   is switched off and the admins are told by email (``disable_for_failing``).
5. The sweeper (every minute) takes back rows whose worker died mid-attempt (lease run out) and
   queues the pending rows that are due and in nobody's hands.

A delivery is at least once: a worker killed after the receiver answered and before the row says
``delivered`` posts it again, with the same ``X-Retention-Delivery``, which receivers drop.
"""

import datetime
import logging
import random

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from . import signing, transport
from .addresses import AddressRefused, target_for
from .models import Delivery, Endpoint

log = logging.getLogger(__name__)

Status = Delivery.Status

# Seconds to wait after the 1st, 2nd, … failed attempt (± JITTER): 1 min, 5 min, 30 min, 2 h, 12 h,
# then a day. MAX_ATTEMPTS attempts in all, about three days.
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600, 24 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
# An attempt takes at most a connection and a read timeout; a worker silent past this lost it.
ATTEMPT_LEASE = datetime.timedelta(seconds=60)
# Queued rows are left to their task this long after they fall due, before a sweep queues them
# again; the longest countdown stays well below the broker's visibility timeout (an hour).
QUEUED_LEASE = datetime.timedelta(minutes=10)
COUNTDOWN_CAP_SECONDS = 15 * 60
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
SWEEP_LIMIT = 5_000


# Queueing ------------------------------------------------------------------------------------


def enqueue_on_commit(delivery_ids):
    if delivery_ids:
        ids = list(delivery_ids)
        transaction.on_commit(lambda: queue(ids))


def queue(delivery_ids, countdown=0):
    """Hand deliveries to workers, one task each; False when the broker refused (the sweeper retries)."""
    from .tasks import deliver_webhook  # the task module calls back into this one

    now = timezone.now()
    queued = []
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async((delivery_id,), countdown=countdown,
                                        retry_policy=PUBLISH_RETRY_POLICY)
        except Exception:
            log.warning("could not queue webhook deliveries %s; they stay pending for the sweeper",
                        list(delivery_ids)[:10], exc_info=True)
            break
        queued.append(delivery_id)
    lease = now + datetime.timedelta(seconds=countdown) + QUEUED_LEASE
    Delivery.objects.filter(pk__in=queued, status=Status.PENDING).exclude(
        lease_until__gt=now).update(lease_until=lease)
    return len(queued) == len(delivery_ids)


# One attempt -----------------------------------------------------------------------------------


def deliver(delivery_id):
    """
    Attempt one delivery if it is pending and due and its endpoint enabled; returns "delivered",
    "retry", "failed" or "skipped" (someone else has it, it is not due, or it is done).
    """
    now = timezone.now()
    claimed = Delivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True,
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, lease_until=now + ATTEMPT_LEASE)
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    event, endpoint = delivery.event, delivery.endpoint
    try:
        target = target_for(endpoint.url)
    except AddressRefused as refused:
        outcome = transport.Outcome(ok=False, error=f"Address refused: {refused}")
    else:
        body = event.body.encode()
        headers = signing.headers(secret=endpoint.secret, event_id=event.pk, event_type=event.type,
                                  timestamp=int(timezone.now().timestamp()), body=body)
        outcome = transport.post(target, body=body, headers=headers)
    if outcome.ok:
        return _delivered(delivery, outcome)
    return _failed_attempt(delivery, outcome)


def _delivered(delivery, outcome):
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.DELIVERED, delivered_at=now, last_status_code=outcome.status_code,
        last_error="", lease_until=None)
    Endpoint.objects.filter(pk=delivery.endpoint_id).update(last_success_at=now)
    return "delivered"


def _failed_attempt(delivery, outcome):
    now = timezone.now()
    fields = {"last_status_code": outcome.status_code, "last_error": outcome.error[:500],
              "lease_until": None}
    if delivery.attempts >= MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(status=Status.FAILED, **fields)
        with transaction.atomic():
            disable_for_failing(delivery, error=fields["last_error"])
        return "failed"
    delay = retry_delay(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=now + datetime.timedelta(seconds=delay), **fields)
    if delay <= COUNTDOWN_CAP_SECONDS:
        queue([delivery.pk], countdown=delay)
    return "retry"


def retry_delay(attempts):
    """Seconds before the next attempt after ``attempts`` failed ones: the schedule, jittered."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


# Failing endpoints -----------------------------------------------------------------------------


def disable_for_failing(delivery, *, error):
    """
    A delivery gave up: switch its endpoint off if nothing reached it since that delivery was
    written (a receiver down for days, not one event it refuses), and tell the admins.
    """
    endpoint = delivery.endpoint
    reason = (f"Switched off on {timezone.localtime():%Y-%m-%d %H:%M %Z}: an event failed "
              f"{delivery.attempts} attempts over about three days, and nothing was delivered "
              f"meanwhile. Last error: {error or 'none recorded'}")[:500]
    switched = Endpoint.objects.filter(pk=endpoint.pk, enabled=True).filter(
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=delivery.created_at)
    ).update(enabled=False, disabled_reason=reason, disabled_at=timezone.now())
    if not switched:
        return False
    from .events import subscriptions_changed  # events queues through this module

    subscriptions_changed()
    log.warning("webhook endpoint %s (%s) switched off: %s", endpoint.pk, endpoint.url, reason)
    transaction.on_commit(lambda: admins_notify(endpoint, reason))
    return True


def admins_notify(endpoint, reason):
    """Staff mail (not the customers' outbox) to every active admin with an address."""
    admins = list(get_user_model().objects.filter(is_superuser=True, is_active=True)
                  .exclude(email="").values_list("email", flat=True))
    if not admins:
        return
    page = settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.pk])
    try:
        send_mail(
            f"Webhook switched off: {endpoint}",
            f"The webhook endpoint {endpoint.url} ({endpoint.description or 'no description'}) was "
            f"switched off.\n\n{reason}\n\nCheck the receiver, then switch the endpoint on again; "
            f"the events still waiting are sent then.\n\n{page}\n",
            None, admins,
        )
    except Exception:  # the page's banner still says it
        log.exception("could not email the admins about webhook endpoint %s", endpoint.pk)


# The sweeper -----------------------------------------------------------------------------------


def sweep(*, now=None, limit=SWEEP_LIMIT):
    """Lost attempts back in line, then due deliveries in nobody's hands queued; returns how many."""
    now = now or timezone.now()
    taken_back = Delivery.objects.filter(status=Status.SENDING, lease_until__lt=now).update(
        status=Status.PENDING, lease_until=None)
    if taken_back:
        log.warning("took back %d webhook deliveries whose worker stopped mid-attempt", taken_back)
    ids = list(
        Delivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now, endpoint__enabled=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )
    queue(ids)
    return len(ids)
