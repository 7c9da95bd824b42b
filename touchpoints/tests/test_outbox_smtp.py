"""
The outbox against a real SMTP server (bench/smtp_sink.py) in this process: retries on
temporary failures until the message's latest send time (never ``failed`` for a temporary cause
before then), no retry on permanent ones, one connection per batch, and the headers as they arrive.
The same with a real Celery worker is in test_outbox_worker.py; a long outage in test_outbox_outage.py.
"""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from bench.smtp_sink import free_port
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.sending import outbox_send

pytestmark = pytest.mark.django_db

# Early in a UTC day: a birthday greeting due now has the whole day to go out.
MORNING = datetime.datetime(2026, 3, 10, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def contact(north, alice, settings):
    settings.SITE_URL = "https://retention.example.com"
    settings.OUTBOX_DAILY_CAP = 100  # many messages to one contact here; the limit is test_outbox_cap.py's
    customer = CustomerFactory(team=north, owner=alice)
    return ContactFactory(customer=customer, email="dana@example.com", is_primary=True)


def enqueue(contact, n=1):
    return [
        outbox_enqueue(occasion_key=f"birthday:{contact.pk}:{2000 + i}", program="birthday",
                       customer=contact.customer, contact=contact, to=[contact.email],
                       subject="Happy birthday", body_text="All the best", sender=contact.customer.owner,
                       reply_to=contact.customer.owner.email)[0]
        for i in range(n)
    ]


def later(time_machine, message):
    """Move the clock to when a retried message falls due again."""
    message.refresh_from_db()
    time_machine.move_to(message.send_after + datetime.timedelta(seconds=1), tick=False)


def test_a_temporary_failure_is_retried_later_then_sent(contact, smtp_to_sink, time_machine):
    time_machine.move_to(MORNING, tick=False)
    smtp_to_sink.fail_temporarily(2)
    [message] = enqueue(contact)

    assert outbox_send([message.pk])["retry"] == 1
    message.refresh_from_db()
    assert message.status == "pending" and message.send_after > timezone.now()
    assert "451" in message.last_error and message.reason == "retrying"
    assert outbox_send([message.pk])["skipped"] == 1  # not due yet: nobody hammers the server

    later(time_machine, message)
    assert outbox_send([message.pk])["retry"] == 1
    later(time_machine, message)
    assert outbox_send([message.pk])["sent"] == 1

    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 3 and message.last_error == ""
    assert message.reason == ""
    assert smtp_to_sink.accepted == 1 and smtp_to_sink.refused_attempts == 2


def test_the_backoff_grows_and_is_capped(contact, smtp_to_sink, time_machine, settings):
    time_machine.move_to(MORNING, tick=False)
    smtp_to_sink.fail_temporarily(100)
    [message] = enqueue(contact)
    waits = []
    for _ in range(8):
        outbox_send([message.pk])
        message.refresh_from_db()
        waits.append((message.send_after - timezone.now()).total_seconds())
        later(time_machine, message)
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    for attempt, wait in enumerate(waits, start=1):
        ceiling = min(15 * 60, base * 2 ** (attempt - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert waits[-1] > 15 * 60 / 2  # capped, not given up


def test_a_server_that_keeps_failing_keeps_the_greeting_pending_until_its_day_ends(
        contact, smtp_to_sink, time_machine):
    """Never ``failed`` for a temporary cause: retried all day, then expired with the reason."""
    time_machine.move_to(MORNING, tick=False)
    smtp_to_sink.fail_temporarily(10_000)
    [message] = enqueue(contact)
    end_of_day = datetime.datetime(2026, 3, 11, tzinfo=datetime.UTC)
    assert message.expires_at == end_of_day

    while True:
        outcome = outbox_send([message.pk])
        message.refresh_from_db()
        if message.status != "pending":
            break
        assert outcome["retry"] == 1 and message.send_after < end_of_day
        later(time_machine, message)

    assert message.status == "expired" and message.reason == "outage"
    assert timezone.now() < end_of_day  # the last try came just before its day ended
    assert "451" in message.last_error and "kept failing" in message.reason_note
    assert message.attempts > 60 and smtp_to_sink.accepted == 0
    assert smtp_to_sink.refused_attempts == message.attempts


def test_meeting_notes_are_retried_for_days_then_failed_and_can_be_retried(
        contact, smtp_to_sink, time_machine, alice, settings):
    settings.OUTBOX_GIVE_UP_DAYS = 1
    time_machine.move_to(MORNING, tick=False)
    smtp_to_sink.fail_temporarily(10_000)
    message, _ = outbox_enqueue(occasion_key="meeting_notes:1", program="meeting_notes",
                                customer=contact.customer, contact=contact, to=[contact.email],
                                subject="Notes", body_text="We agreed…", sender=alice, automated=False)
    assert message.expires_at is None  # a person's message has no latest send time

    while outbox_send([message.pk])["retry"]:
        later(time_machine, message)

    message.refresh_from_db()
    assert message.status == "failed" and message.reason == "gave_up"
    assert timezone.now() >= MORNING + datetime.timedelta(days=1) - datetime.timedelta(minutes=1)


def test_a_permanent_failure_is_failed_with_the_reason_and_not_retried(contact, smtp_to_sink, time_machine):
    smtp_to_sink.refuse_recipients()
    [message] = enqueue(contact)

    assert outbox_send([message.pk])["failed"] == 1
    time_machine.move_to(timezone.now() + datetime.timedelta(days=1), tick=False)
    assert outbox_send([message.pk])["skipped"] == 1

    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 1
    assert "550" in message.last_error and "User unknown" in message.last_error
    assert smtp_to_sink.refused_attempts == 1


def test_a_server_that_is_down_is_a_temporary_failure(contact, settings, mail_locmem):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", free_port(), False
    messages = enqueue(contact, 3)

    outcome = outbox_send([m.pk for m in messages])

    assert outcome["retry"] == 3
    for message in messages:
        message.refresh_from_db()
        assert message.status == "pending" and "ConnectionRefusedError" in message.last_error


def test_a_batch_goes_over_one_connection(contact, smtp_to_sink):
    messages = enqueue(contact, 20)

    assert outbox_send([m.pk for m in messages])["sent"] == 20

    assert smtp_to_sink.accepted == 20 and smtp_to_sink.sessions == 1


def test_after_a_421_the_rest_of_the_batch_goes_over_a_new_connection(contact, smtp_to_sink):
    smtp_to_sink.fail_temporarily(1, code="421 4.3.2 Service shutting down")
    first, second, third = enqueue(contact, 3)

    outcome = outbox_send([first.pk, second.pk, third.pk])

    assert outcome == {"sent": 2, "retry": 1, "failed": 0, "suppressed": 0, "expired": 0, "deferred": 0,
                       "skipped": 0}
    # The server answered the next message: the one it turned away is not left to its backoff.
    first.refresh_from_db()
    assert first.status == "sent" and first.attempts == 2 and smtp_to_sink.accepted == 3


def test_the_message_on_the_wire_unsubscribes_in_one_click(contact, smtp_to_sink, alice):
    [message] = enqueue(contact)
    outbox_send([message.pk])

    [received] = smtp_to_sink.messages
    url = f"https://retention.example.com/u/{contact.unsubscribe_token}/"
    # (A long header is folded on the wire; unfolded, the value is the URL in angle brackets.)
    assert received["List-Unsubscribe"].strip() == f"<{url}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["X-Retention-Occasion"] == message.occasion_ref
    assert received["From"] == "Alice Archer <retention@localhost>" and received["Reply-To"] == alice.email
    assert url in received.get_body(("plain",)).get_content()

    mail_client = Client(enforce_csrf_checks=True)  # no cookie, no CSRF token: a mail client's POST
    path = url.removeprefix("https://retention.example.com")
    assert mail_client.get(path).status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None
    assert mail_client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None

    again, _ = outbox_enqueue(occasion_key="birthday:later", program="birthday", customer=contact.customer,
                              contact=contact, to=[contact.email], subject="Hi", body_text="Hi")
    assert again.status == "suppressed"  # a later automated message is never sent
    assert outbox_send([again.pk])["skipped"] == 1 and smtp_to_sink.accepted == 1
    again.refresh_from_db()
    assert again.status == "suppressed" and again.sent_at is None
