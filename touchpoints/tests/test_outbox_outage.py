"""
Nothing lost when the mail server is down, and never silently: an SMTP server unreachable for two
hours (far longer than the old fifteen-minute retry schedule) fails no message; the first failure
logs a WARNING, five minutes of it an ERROR; ``/healthz`` and the Outbox page say so; when the
server answers again the backlog goes out at once, each message once. The clock is moved with
time-machine; the sweeper runs every minute as beat runs it.
"""

import datetime
import logging

import pytest
from django.utils import timezone

from bench.smtp_sink import SmtpSink, free_port
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.messaging.ledger import BACKOFF_CAP_SECONDS, outbox_enqueue
from touchpoints.messaging.sending import outbox_send
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage

pytestmark = pytest.mark.django_db

MORNING = datetime.datetime(2026, 3, 10, 6, 0, tzinfo=datetime.UTC)
OUTAGE = datetime.timedelta(hours=2)
BACKOFF_CAP = datetime.timedelta(seconds=BACKOFF_CAP_SECONDS)


@pytest.fixture
def smtp_down(settings):
    """The SMTP backend pointed at a port where nothing listens (yet): the port."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return port


@pytest.fixture
def queued(north, alice, time_machine):
    """At six in the morning, twenty messages due at once: ten birthday greetings, ten check-ins."""
    time_machine.move_to(MORNING, tick=False)
    rows = []
    for n in range(20):
        customer = CustomerFactory(team=north, owner=alice)
        contact = ContactFactory(customer=customer, email=f"person{n}@example.com", is_primary=True)
        program = "birthday" if n % 2 else "checkin"
        rows.append(outbox_enqueue(occasion_key=f"{program}:{n}", program=program, customer=customer,
                                   contact=contact, to=[contact.email], subject=f"Hello {n}",
                                   body_text="…")[0])
    return rows


def test_an_outage_longer_than_the_retry_schedule_fails_nothing_and_says_so(
        smtp_down, queued, time_machine, caplog, client, maria, alice):
    caplog.set_level(logging.INFO, logger="touchpoints.messaging")
    outbox_send([row.pk for row in queued])  # what the tasks queued on commit would do

    for minute in range(1, int(OUTAGE.total_seconds() // 60) + 1):
        time_machine.move_to(MORNING + datetime.timedelta(minutes=minute), tick=False)
        outbox_sweep()

    statuses = set(OutboxMessage.objects.values_list("status", "reason"))
    assert statuses == {("pending", "retrying")}  # nothing failed, nothing expired
    # Tried more often than the old schedule's six attempts, which ended in "failed" for good.
    assert max(OutboxMessage.objects.values_list("attempts", flat=True)) > 6
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and "mail server is failing" in r.message]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "unreachable since" in r.message]
    assert len(warnings) == 1 and len(errors) == 1  # once each for the whole outage
    assert errors[0].created - warnings[0].created >= 0  # (the clock stood still; the order is the log's)
    assert "ConnectionRefusedError" in errors[0].message

    # Past the longest backoff since the last sweep, every waiting message is due again: the
    # backlog and its age are what /healthz reports (not only what the jitter left due just now).
    time_machine.move_to(MORNING + OUTAGE + BACKOFF_CAP, tick=False)
    health = client.get("/healthz").json()
    assert health["status"] == "ok"  # the site is up; the mail server is not
    assert health["mail"]["server"] == "failing" and health["mail"]["due"] > 0
    assert health["mail"]["failing_since"].startswith("2026-03-10T06:00")
    assert health["mail"]["oldest_due_seconds"] > 0
    assert "ConnectionRefusedError" in health["mail"]["last_error"]
    client.force_login(maria)
    page = client.get("/outbox/").content.decode()
    assert "Mail is not going out" in page and "ConnectionRefusedError" in page
    client.force_login(alice)  # an account manager has no Outbox page: nothing shown there

    with SmtpSink(port=smtp_down) as sink:  # the server is back
        time_machine.move_to(MORNING + OUTAGE + BACKOFF_CAP + datetime.timedelta(minutes=1), tick=False)
        outbox_sweep()  # its probe finds the server answering: the backlog goes at once

        assert sink.accepted == len(queued)
        assert set(sink.by_occasion().values()) == {1}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert client.get("/healthz").json()["mail"] == {
        "server": "ok", "failing_since": None, "last_error": "", "due": 0, "oldest_due_seconds": 0}
    assert any("answers again" in r.message for r in caplog.records)


def test_the_backlog_drains_as_soon_as_one_message_gets_through(smtp_down, queued, time_machine):
    """A message due now reaches the server that just came back: those in backoff follow at once."""
    outbox_send([row.pk for row in queued])
    waiting = OutboxMessage.objects.filter(status="pending")
    assert waiting.count() == len(queued) and all(r.send_after > timezone.now() for r in waiting)

    with SmtpSink(port=smtp_down) as sink:
        newcomer = ContactFactory(customer=queued[0].customer, email="new@example.com")
        fresh = outbox_enqueue(occasion_key="checkin:fresh", program="checkin", customer=newcomer.customer,
                               contact=newcomer, to=[newcomer.email], subject="Hi", body_text="…")[0]
        outbox_send([fresh.pk])
        assert sink.accepted == len(queued) + 1


def test_a_greeting_is_expired_not_failed_when_the_server_is_down_all_its_day(
        smtp_down, queued, time_machine):
    outbox_send([row.pk for row in queued])
    for hour in range(1, 21):
        time_machine.move_to(MORNING + datetime.timedelta(hours=hour), tick=False)
        outbox_sweep()

    birthdays = OutboxMessage.objects.filter(program="birthday")
    assert {(m.status, m.reason) for m in birthdays} == {("expired", "outage")}
    assert all("kept failing" in m.reason_note for m in birthdays)
    # The check-ins have their grace: still waiting for the server, never failed.
    checkins = OutboxMessage.objects.filter(program="checkin")
    assert set(checkins.values_list("status", flat=True)) == {"pending"}
