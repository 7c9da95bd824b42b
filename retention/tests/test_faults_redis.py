"""
Redis down, then back: the app under gunicorn on a Redis of the test's own (``PrivateRedis``),
which the test stops and freezes. The people at work notice nothing but a slower page at worst:
pages serve, a call is logged, a customer's answer is recorded, meeting notes are decided; the
rate limits let requests through uncounted; ``/healthz`` answers 503 naming the broker. Once
Redis is back, the sweep (as beat runs it) queues what was decided meanwhile, and a worker sends
it once.

The broker outage of a scan (``run_daily_jobs``) is in touchpoints/tests/test_outbox_worker.py.
"""

import os
import subprocess
import sys

import pytest
from django.test import Client

from bench.smtp_sink import SmtpSink
from conftest import wait_for
from customers.tests.factories import ContactFactory, CustomerFactory
from surveys.models import Response
from surveys.tests.factories import InvitationFactory
from touchpoints.models import OutboxMessage, Touchpoint
from touchpoints.tests.factories import TouchpointFactory

from .private_services import ROOT, Gunicorn, PrivateRedis, database_url

pytestmark = [pytest.mark.faults, pytest.mark.celery, pytest.mark.django_db(transaction=True)]

# A page that counts a rate limit waits at most the cache's socket timeout (1 s); one that
# publishes to the broker, or /healthz, its socket timeout (5 s). With room for a busy machine:
CACHE_BOUND_SECONDS = 4
PAGE_BOUND_SECONDS = 10


@pytest.fixture
def redis():
    with PrivateRedis() as server:
        yield server


@pytest.fixture
def web(redis, celery_workers):
    # ``celery_workers``: the test needs PostgreSQL (gunicorn reads what the test commits).
    with Gunicorn({"DATABASE_URL": database_url(), "CELERY_BROKER_URL": redis.url,
                   "EMAIL_URL": "memorymail://", "CONN_MAX_AGE": "0"}) as server:
        yield server


@pytest.fixture
def book(north, alice):
    customer = CustomerFactory(team=north, owner=alice, name="Acme Ltd")
    contact = ContactFactory(customer=customer, is_primary=True, email="dana@acme.example")
    meeting = TouchpointFactory(customer=customer, kind=Touchpoint.Kind.MEETING,
                                summary="Quarterly review")
    meeting.contacts.add(contact)
    invitation = InvitationFactory(contact=contact)
    client = Client()
    client.force_login(alice)
    return {"customer": customer, "contact": contact, "meeting": meeting, "invitation": invitation,
            "session": client.cookies["sessionid"].value}


def sweep(broker_url):
    """What beat does every minute: publish the sweeper's task, for a worker to run."""
    result = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "retention", "call", "touchpoints.tasks.sweep_outbox"],
        cwd=ROOT, env={**os.environ, "CELERY_BROKER_URL": broker_url},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_with_redis_down_people_work_on_and_what_they_decided_is_sent_once_it_is_back(
        redis, web, book, celery_workers):
    customer, session = book["customer"], book["session"]
    assert web.request("GET", "/healthz").status == 200

    redis.stop()

    health = web.request("GET", "/healthz")
    assert health.status == 503, health
    assert health.body.count('"broker": "error') == 1 and '"database": "ok"' in health.body
    pages = {path: web.request("GET", path, session=session)
             for path in ("/today/", f"/customers/{customer.pk}/")}
    pages["login (rate-limited)"] = web.request("GET", "/accounts/login/")
    pages["survey (rate-limited)"] = web.request("GET", f"/s/{book['invitation'].token}/")
    assert {name: reply.status for name, reply in pages.items()} == dict.fromkeys(pages, 200), pages
    logged = web.request("POST", f"/touchpoints/customers/{customer.pk}/quick-log/", session=session,
                         data={"kind": "call", "summary": "Called about the renewal"})
    assert logged.status == 302, logged
    assert Touchpoint.objects.filter(customer=customer, summary="Called about the renewal").count() == 1
    answered = web.request("POST", f"/s/{book['invitation'].token}/", data={"step": "score", "score": 9})
    assert answered.status == 302, answered
    assert Response.objects.filter(invitation=book["invitation"], score=9).count() == 1
    notes = web.request("POST", f"/touchpoints/{book['meeting'].pk}/notes/", session=session, data={
        "action": "send", "contacts": [book["contact"].pk], "subject": "Our review",
        "body": "What we agreed."})
    assert notes.status == 302, notes
    replies = [health, logged, answered, notes, *pages.values()]
    assert max(reply.seconds for reply in replies) < PAGE_BOUND_SECONDS, replies
    message = OutboxMessage.objects.get(program="meeting_notes")
    assert message.status == "pending"  # decided, and waiting for the broker
    assert "Internal Server Error" not in web.output()

    redis.start()
    assert wait_for(lambda: web.request("GET", "/healthz").status == 200, timeout=15)
    with SmtpSink() as sink:
        celery_workers.start(env={"CELERY_BROKER_URL": redis.url, "EMAIL_URL": sink.url})
        assert sink.accepted == 0  # nothing was queued while Redis was down
        sweep(redis.url)
        assert sink.wait_for(1, timeout=60), celery_workers.logs()
        sweep(redis.url)  # a second sweep, and a second click, find nothing to send
        again = web.request("POST", f"/touchpoints/{book['meeting'].pk}/notes/", session=session, data={
            "action": "send", "contacts": [book["contact"].pk], "subject": "Our review",
            "body": "What we agreed."})
        assert again.status == 302
        assert wait_for(lambda: celery_workers.logs().count("sweep_outbox[") >= 4, timeout=30)
        assert sink.by_occasion() == {message.occasion_ref: 1}
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_frozen_redis_slows_a_page_by_its_timeouts_and_hangs_none(redis, web, book):
    """SIGSTOP: Redis still takes connections and answers nothing, the worse way to be down."""
    customer, session = book["customer"], book["session"]
    assert web.request("GET", "/accounts/login/").status == 200  # the cache's connection is open

    redis.freeze()
    try:
        replies = {
            "login": web.request("GET", "/accounts/login/"),
            "survey": web.request("GET", f"/s/{book['invitation'].token}/"),
            "customer": web.request("GET", f"/customers/{customer.pk}/", session=session),
            "healthz": web.request("GET", "/healthz"),
            "notes": web.request("POST", f"/touchpoints/{book['meeting'].pk}/notes/", session=session,
                                 data={"action": "send", "contacts": [book["contact"].pk],
                                       "subject": "Our review", "body": "What we agreed."}),
        }
    finally:
        redis.thaw()

    assert {name: reply.status for name, reply in replies.items()} == {
        "login": 200, "survey": 200, "customer": 200, "healthz": 503, "notes": 302}, replies
    assert OutboxMessage.objects.get(program="meeting_notes").status == "pending"
    assert max(reply.seconds for reply in replies.values()) < PAGE_BOUND_SECONDS, replies
    assert max(replies["login"].seconds, replies["survey"].seconds) < CACHE_BOUND_SECONDS, replies
