"""
Exactly once, nothing lost: the programs and the outbox with real Celery workers on Redis and
PostgreSQL, sending to a real SMTP server (smtp_sink.py) that counts what arrives per occasion
(the ``X-Retention-Occasion`` header, an HMAC of the occasion key).
"""

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bench.smtp_sink import free_port
from conftest import wait_for
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.messaging.composing import occasion_reference
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage
from touchpoints.tasks import program_scan
from touchpoints.tests.program_customers import midday_zone

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

# Today, where it is early afternoon: that day's 09:00 greetings are due at once, and the day is
# hours from its end (the workers run on the real clock).
ZONE, DAY = midday_zone()
# Long-standing customers, with no anniversary on DAY: only the birthdays are due.
SINCE = datetime.date(2015, 1, 1) if (DAY.month, DAY.day) != (1, 1) else datetime.date(2015, 1, 2)


@pytest.fixture
def greeted(north, alice):
    """Customers whose primary contact has a birthday on DAY."""
    def make(n):
        contacts = []
        for _ in range(n):
            customer = CustomerFactory(team=north, owner=alice, timezone=ZONE, customer_since=SINCE)
            contacts.append(ContactFactory(customer=customer, is_primary=True,
                                           birthday_month=DAY.month, birthday_day=DAY.day))
        return contacts
    return make


def birthday_refs(contacts):
    return {occasion_reference(f"birthday:{contact.pk}:{DAY.year}") for contact in contacts}


def finished(workers, task, count):
    """Wait until the workers' logs show ``count`` runs of ``task`` finished."""
    def done():
        return sum(f"touchpoints.tasks.{task}[" in line and "succeeded in" in line
                   for line in workers.logs().splitlines()) >= count
    return wait_for(done, timeout=60)


def test_the_daily_scan_run_twice_and_by_two_workers_at_once_greets_each_once(
        celery_workers, smtp_sink, greeted):
    contacts = greeted(150)
    workers = [celery_workers.start(env={"EMAIL_URL": smtp_sink.url}) for _ in range(2)]

    # Two schedulers fire at once: each worker takes one scan.
    program_scan.delay(DAY.isoformat())
    program_scan.delay(DAY.isoformat())
    assert finished(celery_workers, "program_scan", 2), celery_workers.logs()
    # And a sweeper that queues the same rows again while the workers are sending them.
    outbox_sweep()
    assert smtp_sink.wait_for(len(contacts), timeout=60), celery_workers.logs()
    # And once more, after it all went out.
    program_scan.delay(DAY.isoformat())
    assert finished(celery_workers, "program_scan", 3), celery_workers.logs()
    assert wait_for(lambda: not OutboxMessage.objects.exclude(status="sent").exists())
    time.sleep(1)  # anything sent twice would have arrived by now

    for worker in workers:
        assert "program_scan[" in worker.log()  # both workers really scanned
    arrived = smtp_sink.by_occasion()
    assert set(arrived) == birthday_refs(contacts)
    assert set(arrived.values()) == {1}, [key for key, n in arrived.items() if n > 1]
    assert OutboxMessage.objects.count() == len(contacts)
    assert OutboxMessage.objects.filter(status="sent", touchpoint__isnull=False).count() == len(contacts)


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_the_message_in_flight(
        celery_workers, smtp_sink, greeted):
    """
    200 greetings go out in batches of 100 to a slow SMTP server; the worker is killed with
    SIGKILL in the middle of the first batch, a new worker starts and the sweeper runs.

    Every greeting must arrive. The one honest exception to "exactly once": the row the killed
    worker had claimed (``sending``) at the moment of the kill. If the server had already
    accepted it (the "250" was on its way), the sweeper sends it again: at most once more, and for
    no other row. The sink answers the end of DATA only after a delay and drops a message whose
    client hung up before the answer, as a real server that never queued it would, so the kill
    usually lands before acceptance and nothing arrives twice; the assertion allows the window.
    """
    contacts = greeted(200)
    smtp_sink.slow_down(0.03)
    first = celery_workers.start(env={"EMAIL_URL": smtp_sink.url})

    program_scan.delay(DAY.isoformat())
    assert smtp_sink.wait_for(40, timeout=60), celery_workers.logs()
    celery_workers.kill(first)
    in_flight = set(OutboxMessage.objects.filter(status="sending").values_list("occasion_key", flat=True))
    arrived_before_restart = smtp_sink.accepted
    assert len(in_flight) <= 1
    assert arrived_before_restart < len(contacts)  # the kill did land mid-batch

    # The sweeper, as beat runs it, once the dead worker's lease has run out. It runs before the new
    # worker starts: its clock is two minutes ahead, so it would otherwise take for dead the lease of
    # a message the new worker is sending right now.
    outbox_sweep(now=timezone.now() + datetime.timedelta(minutes=2))
    celery_workers.start(env={"EMAIL_URL": smtp_sink.url})
    assert wait_for(lambda: not OutboxMessage.objects.exclude(status="sent").exists(), timeout=90), (
        celery_workers.logs())
    time.sleep(1)

    arrived = smtp_sink.by_occasion()
    assert set(arrived) == birthday_refs(contacts)  # nothing lost
    duplicates = {key: n for key, n in arrived.items() if n > 1}
    in_flight = {occasion_reference(key) for key in in_flight}
    assert set(duplicates) <= in_flight and all(n == 2 for n in duplicates.values()), duplicates


def test_a_temporary_smtp_failure_is_retried_by_the_worker_then_sent(celery_workers, smtp_sink, north, alice):
    celery_workers.start(env={"EMAIL_URL": smtp_sink.url, "OUTBOX_RETRY_BASE_SECONDS": "0.2"})
    smtp_sink.fail_temporarily(2)
    contact = ContactFactory(customer=CustomerFactory(team=north, owner=alice), email="dana@example.com")

    with transaction.atomic():
        message, _ = outbox_enqueue(occasion_key="checkin:temp:2026", program="checkin",
                                    customer=contact.customer, contact=contact, to=[contact.email],
                                    subject="How are things?", body_text="All well?")

    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent", timeout=60), (
        celery_workers.logs())
    message.refresh_from_db()
    assert message.attempts == 3 and smtp_sink.refused_attempts == 2
    assert smtp_sink.by_occasion() == {message.occasion_ref: 1}


def test_a_permanent_smtp_failure_is_failed_by_the_worker_and_not_retried(
        celery_workers, smtp_sink, north, alice):
    celery_workers.start(env={"EMAIL_URL": smtp_sink.url, "OUTBOX_RETRY_BASE_SECONDS": "0.2"})
    smtp_sink.refuse_recipients()
    contact = ContactFactory(customer=CustomerFactory(team=north, owner=alice), email="gone@example.com")

    with transaction.atomic():
        message, _ = outbox_enqueue(occasion_key="checkin:gone:2026", program="checkin",
                                    customer=contact.customer, contact=contact, to=[contact.email],
                                    subject="How are things?", body_text="All well?")

    assert wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "failed", timeout=60), (
        celery_workers.logs())
    time.sleep(2)  # ten retries' worth of backoff at 0.2 s
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == 1
    assert "550" in message.last_error and smtp_sink.refused_attempts == 1


def test_a_decision_made_while_the_broker_is_down_is_sent_after_the_sweep(
        celery_workers, smtp_sink, greeted):
    """
    The deciding process (``run_daily_jobs``) runs against a broker that is not there: the rows are
    committed, the failed enqueue is logged, not raised, and the command ends normally. Once the
    broker is back (here: the real one), the sweeper queues the rows and a worker sends them.
    """
    contacts = greeted(3)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "EMAIL_URL": "memorymail://",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "run_daily_jobs", "--date", DAY.isoformat()],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=120,
    )
    took = time.monotonic() - started

    assert result.returncode == 0, result.stdout + result.stderr
    assert "birthday: 3 queued." in result.stdout
    assert "could not queue 3 outbox message(s)" in result.stderr
    assert took < 60
    assert OutboxMessage.objects.filter(status="pending").count() == len(contacts)

    celery_workers.start(env={"EMAIL_URL": smtp_sink.url})
    assert smtp_sink.accepted == 0  # nothing was queued while the broker was down
    assert len(outbox_sweep()) == len(contacts)
    assert wait_for(lambda: OutboxMessage.objects.filter(status="sent").count() == len(contacts)), (
        celery_workers.logs())
    assert set(smtp_sink.by_occasion().values()) == {1} and smtp_sink.accepted == len(contacts)
