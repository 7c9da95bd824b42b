"""
Worker processes killed (SIGKILL) twenty times while sending: every greeting arrives, at most one
arrives twice, and a copy sent again carries the Message-ID of the first attempt.

A real Celery worker, as production runs it (the prefork pool, four processes), sends birthday
greetings to a real SMTP server (smtp_sink.py, in a process of its own) that takes a short while to
check each recipient. Twenty times, at a random moment, one of the pool's processes is killed, as
the kernel's OOM killer would; the worker starts another, the broker gives the lost task back
(``task_reject_on_worker_lost``), and the sweeper takes back, once the dead process's lease ran out,
the message it had in hand. The one window left for a duplicate is a kill between the server's
acceptance and the UPDATE that marks the row sent right after it (``sending._mark_sent``).
docs/RELIABILITY.md records the figures and what widens the window.
"""

import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.utils import timezone

from bench.smtp_sink import SmtpSinkProcess
from conftest import wait_for
from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.messaging.composing import occasion_reference
from touchpoints.messaging.sending import timelines_repair
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage
from touchpoints.tasks import program_scan
from touchpoints.tests.program_customers import midday_zone

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ZONE, DAY = midday_zone()
GREETINGS = 200
KILLS = 20
RCPT_DELAY = 0.2  # seconds the server takes to check a recipient
LEASE_SECONDS = 4  # the sending lease, short here so that the sweeper takes back within seconds


@pytest.fixture
def greeted(north, alice):
    since = datetime.date(2015, 1, 1) if (DAY.month, DAY.day) != (1, 1) else datetime.date(2015, 1, 2)
    contacts = []
    for _ in range(GREETINGS):
        customer = CustomerFactory(team=north, owner=alice, timezone=ZONE, customer_since=since)
        contacts.append(ContactFactory(customer=customer, is_primary=True,
                                       birthday_month=DAY.month, birthday_day=DAY.day))
    return contacts


@pytest.fixture
def smtp_sink(tmp_path):
    with SmtpSinkProcess(tmp_path / "received", rcpt_delay=RCPT_DELAY) as sink:
        yield sink


@pytest.fixture
def prefork_worker(celery_workers, smtp_sink):
    """A worker with four pool processes; stopped (with them) by ``celery_workers`` after the test."""
    log = tempfile.NamedTemporaryFile(prefix="celery-prefork-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=prefork", "--concurrency=4",
         "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"prefork-{os.getpid()}@%h"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **celery_workers.base_env, "EMAIL_URL": smtp_sink.url,
             "OUTBOX_SENDING_LEASE_SECONDS": str(LEASE_SECONDS)},
        stdout=log, stderr=subprocess.STDOUT,
    )
    process.log = lambda: Path(log.name).read_text(errors="replace")
    celery_workers.processes.append(process)
    celery_workers.killed = True  # its killed processes' tasks must not reach a later test
    assert wait_for(lambda: "ready." in process.log() or process.poll() is not None, timeout=60)
    assert process.poll() is None, process.log()
    return process


def pool_processes(pid):
    """The pids of the children of ``pid`` (the worker's pool), from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def sending_goes_on(sink, count, timeout=60):
    """Wait until ``count`` messages arrived, sweeping every second as beat does every minute."""
    deadline = time.monotonic() + timeout
    while sink.accepted < count:
        if time.monotonic() > deadline:
            return False
        outbox_sweep()
        for _ in range(20):
            if sink.accepted >= count:
                break
            time.sleep(0.05)
    return True


def test_pool_processes_killed_twenty_times_while_sending_lose_nothing_and_duplicate_at_most_once(
        prefork_worker, smtp_sink, greeted, settings):
    settings.OUTBOX_SENDING_LEASE_SECONDS = LEASE_SECONDS  # the sweeper here, as in the worker
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    started = time.monotonic()

    program_scan.delay(DAY.isoformat())
    in_flight = 0
    for _ in range(KILLS):
        assert sending_goes_on(smtp_sink, smtp_sink.accepted + 3), prefork_worker.log()
        time.sleep(rng.uniform(0, RCPT_DELAY * 1.5))  # any moment of a message's exchange
        in_flight += OutboxMessage.objects.filter(status="sending").exists()
        victims = pool_processes(prefork_worker.pid)
        assert victims, prefork_worker.log()
        os.kill(rng.choice(victims), signal.SIGKILL)
    killed_at = smtp_sink.accepted
    assert killed_at < GREETINGS, "all was sent before the last kill: more greetings needed"

    def all_sent():
        outbox_sweep()
        return not OutboxMessage.objects.exclude(status="sent").exists()

    assert wait_for(all_sent, timeout=120, interval=1), prefork_worker.log()
    time.sleep(1)  # anything sent twice would have arrived by now
    took = time.monotonic() - started

    arrived = smtp_sink.by_occasion()
    expected = {occasion_reference(f"birthday:{contact.pk}:{DAY.year}") for contact in greeted}
    assert set(arrived) == expected, "a greeting was lost"
    duplicates = {ref: n for ref, n in arrived.items() if n > 1}
    print(f"\n{KILLS} kills ({in_flight} with a message in flight, {killed_at} sent by the last), "
          f"{len(duplicates)} duplicate(s), {GREETINGS} greetings in {took:.0f} s (seed {seed})")
    assert len(duplicates) <= 1 and all(n == 2 for n in duplicates.values()), (duplicates, seed)
    # Each copy carries the Message-ID stored before the first attempt, a resent one included.
    stored = dict(OutboxMessage.objects.values_list("occasion_ref", "message_id"))
    for ref, message_ids in smtp_sink.message_ids().items():
        assert set(message_ids) == {stored[ref]}, ref
    # A process killed between the UPDATE and the timeline entry: the sweeper writes it after a while.
    timelines_repair(now=timezone.now() + datetime.timedelta(minutes=1))
    assert OutboxMessage.objects.filter(touchpoint__isnull=False).count() == GREETINGS
    assert "WorkerLostError" in prefork_worker.log()  # the kills did land on tasks in hand
