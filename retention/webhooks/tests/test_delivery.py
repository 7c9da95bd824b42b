"""
Delivering to a real receiver: signed as the docs say, retried with backoff and the same id until it
gets through, claimed once, swept after a broker outage, and an endpoint that fails for days
switched off with the admins told.
"""

import datetime
import re
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from retention.webhooks import delivery as ledger
from retention.webhooks.models import Delivery
from retention.webhooks.tasks import deliver_webhook, sweep_webhooks
from touchpoints.services import complaint_open

from .conftest import subscribe

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[3] / "docs" / "WEBHOOKS.md"
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def documented_verify():
    """The ``verify`` function of the docs' Python snippet, as a receiver would paste it."""
    snippet = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.S).group(1)
    namespace = {}
    exec(snippet, namespace)  # noqa: S102 (our own documentation)
    return namespace["verify"]


def open_complaint(customer, alice, capture):
    with capture(execute=True):
        return complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")


def test_it_signs_so_the_documented_snippet_verifies(receiver, customer, alice,
                                                      django_capture_on_commit_callbacks):
    _, secret = subscribe(receiver.url())
    open_complaint(customer, alice, django_capture_on_commit_callbacks)

    [request] = receiver.requests
    headers, body = request["headers"], request["body"]
    verify = documented_verify()
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body.replace(b"Late", b"Lame"))
    assert not verify("whsec_another", headers, body)
    assert not verify(secret, headers, body, now=int(headers["X-Retention-Timestamp"]) + 301)
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Retention-Webhooks/1"
    assert headers["X-Retention-Event"] == "complaint.opened"
    assert headers["X-Retention-Delivery"] == receiver.events()[0]["id"]


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt_with_the_same_id(
        receiver, customer, alice, django_capture_on_commit_callbacks):
    receiver.answers = [500, 503, 200]
    subscribe(receiver.url())
    with time_machine.travel(START, tick=False) as traveller:
        open_complaint(customer, alice, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        # 1 minute ± 20 %: not before.
        assert START + datetime.timedelta(seconds=47) < delivery.next_attempt_at < START + datetime.timedelta(
            seconds=73)
        assert deliver_webhook(delivery.pk) == "skipped"

        traveller.shift(datetime.timedelta(minutes=2))
        assert deliver_webhook(delivery.pk) == "retry"
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.last_status_code) == (2, 503)
        assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(minutes=3)

        # The sweeper finds it once its time has come (and its task was lost, say).
        traveller.shift(datetime.timedelta(minutes=30))
        assert sweep_webhooks() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.delivered_at is not None
    ids = {request["headers"]["X-Retention-Delivery"] for request in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1
    assert {event["id"] for event in receiver.events()} == ids
    assert sweep_webhooks() == 0  # delivered: nothing more to do


def test_a_second_worker_finds_the_attempt_claimed(receiver, customer, alice):
    subscribe(receiver.url())
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", attempts=1,
                                                   lease_until=timezone.now() + ledger.ATTEMPT_LEASE)
    assert deliver_webhook(delivery.pk) == "skipped"
    assert receiver.requests == []

    # Its worker died: once the lease runs out the sweeper takes it back, and it goes.
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert sweep_webhooks() == 1
    assert len(receiver.requests) == 1
    assert Delivery.objects.get().attempts == 2


def test_a_broker_outage_loses_nothing(receiver, customer, alice, monkeypatch,
                                       django_capture_on_commit_callbacks):
    subscribe(receiver.url())

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_webhook, "apply_async", broker_down)
    open_complaint(customer, alice, django_capture_on_commit_callbacks)  # the complaint is saved
    assert Delivery.objects.get().status == "pending" and receiver.requests == []

    monkeypatch.undo()
    assert sweep_webhooks() == 1
    assert Delivery.objects.get().status == "delivered" and len(receiver.requests) == 1


def test_an_endpoint_failing_for_days_is_switched_off_and_the_admins_are_told(
        receiver, customer, alice, admin, client, django_capture_on_commit_callbacks):
    receiver.answers = [500]
    endpoint, _ = subscribe(receiver.url())
    with time_machine.travel(START, tick=False) as traveller:
        open_complaint(customer, alice, django_capture_on_commit_callbacks)
        delivery = Delivery.objects.get()
        for _ in range(ledger.MAX_ATTEMPTS - 1):
            traveller.shift(datetime.timedelta(days=1, hours=6))
            with django_capture_on_commit_callbacks(execute=True):
                deliver_webhook(delivery.pk)

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", ledger.MAX_ATTEMPTS)
    assert len(receiver.requests) == ledger.MAX_ATTEMPTS
    assert not endpoint.enabled and "HTTP 500" in endpoint.disabled_reason
    [email] = mail.outbox
    assert email.to == ["root@example.com"] and receiver.url() in email.body

    client.force_login(admin)
    page = client.get("/webhooks/").content.decode()
    assert "was switched off" in page and "HTTP 500" in page


def test_an_endpoint_that_still_delivers_other_events_stays_on(receiver, customer, alice):
    endpoint, _ = subscribe(receiver.url())
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(attempts=ledger.MAX_ATTEMPTS - 1)
    endpoint.last_success_at = timezone.now() + datetime.timedelta(seconds=1)
    endpoint.save(update_fields=["last_success_at"])
    receiver.answers = [422]

    assert deliver_webhook(delivery.pk) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.enabled and not mail.outbox
