"""
PostgreSQL restarted, then frozen, under load: gunicorn (one worker, four threads, persistent
connections as in production) against a cluster of the test's own (``PrivatePostgres``), with
the test database's tables. Client threads keep asking for ``/healthz`` (a query) and a public
survey page (a lookup in the invitations, rate-limited in Redis) all along.

- Restart: the requests during the restart may fail, but each answers; once the database answers
  again every request succeeds at once, with no restart of gunicorn or its worker: a connection
  cut by the restart is found dead by ``CONN_HEALTH_CHECKS`` and replaced, not used for an error.
- Frozen (SIGSTOP: the port takes connections, nothing answers): each request fails within the
  connection timeout (``connect_timeout``, 5 s) instead of holding its thread.
"""

import threading
import time

import pytest
from django.conf import settings

from conftest import require_or_skip

from .private_services import Gunicorn, PrivatePostgres, database_url

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

CLIENTS = 4
# No answer may take longer: a connection timeout (5 s) and the rest of the request, on a busy machine.
REQUEST_BOUND_SECONDS = 10
# One client asks hundreds of times a minute: the public pages' limit is out of its way.
ROOMY = {"PUBLIC_RATE_LIMIT_PER_MINUTE": "1000000"}


@pytest.fixture
def postgres(django_db_setup, django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        require_or_skip("the fault tests copy the schema of a PostgreSQL test database")
    with PrivatePostgres() as cluster:
        with django_db_blocker.unblock():
            cluster.copy_schema(database_url())
        yield cluster


@pytest.fixture
def web(postgres):
    with Gunicorn({"DATABASE_URL": postgres.url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                   "CONN_MAX_AGE": "60", **ROOMY}, workers=1, threads=CLIENTS) as server:
        yield server


class Load:
    """
    ``CLIENTS`` threads asking in turn for the health check and a survey page, each answer timed;
    ``pause()`` lets the requests in flight finish and holds the next, ``resume()`` lets them go.
    """

    PATHS = ("/healthz", "/s/no-such-invitation-token-0123456789/")
    EXPECTED = {"/healthz": 200, PATHS[1]: 404}

    def __init__(self, web):
        self.web = web
        self.replies = []  # (asked at, path, reply)
        self.lock = threading.Lock()
        self.running = True
        self.go = threading.Event()
        self.go.set()
        self.threads = [threading.Thread(target=self.client, args=(n,)) for n in range(CLIENTS)]

    def client(self, n):
        turn = n
        while self.running:
            self.go.wait()
            path = self.PATHS[turn % 2]
            asked = time.monotonic()
            reply = self.web.request("GET", path, timeout=30)
            with self.lock:
                self.replies.append((asked, path, reply))
            turn += 1
            time.sleep(0.02)

    def pause(self):
        self.go.clear()
        time.sleep(1)

    def resume(self):
        self.go.set()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.go.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def between(self, start, end=float("inf")):
        with self.lock:
            return [(path, reply) for at, path, reply in self.replies if start <= at < end]

    def failures(self, start, end=float("inf")):
        return [(path, reply) for path, reply in self.between(start, end)
                if reply.status != self.EXPECTED[path]]

    def failures_answered_before(self, moment):
        """The failures among the requests answered before ``moment`` (none was in flight then)."""
        with self.lock:
            return [(path, reply) for at, path, reply in self.replies
                    if at + reply.seconds < moment and reply.status != self.EXPECTED[path]]


def test_a_restarted_database_costs_no_request_once_it_answers_and_gunicorn_is_not_restarted(
        postgres, web):
    workers = web.worker_pids()
    with Load(web) as load:
        time.sleep(2)
        started = time.monotonic()
        postgres.restart()  # under load: what is asked meanwhile fails, and answers
        postgres.wait_until_answering()
        back = time.monotonic()
        time.sleep(2)
        # Restarted between two requests: every thread's kept connection is dead, and the next
        # request on it must not be the one to find out.
        load.pause()
        postgres.restart()
        postgres.wait_until_answering()
        again = time.monotonic()
        load.resume()
        time.sleep(2)

    # The load itself is served (a request in flight when the restart began may fail: not counted).
    assert load.failures_answered_before(started) == []
    assert len(load.between(back, again)) >= 20 and load.failures(back) == [], load.failures(back)
    assert max(reply.seconds for _, reply in load.between(0)) < REQUEST_BOUND_SECONDS
    assert web.worker_pids() == workers  # the same worker, reconnected


def test_a_frozen_database_fails_each_request_within_its_connection_timeout(postgres):
    """Every request connects afresh (``CONN_MAX_AGE=0``) to a postmaster that never answers."""
    env = {"DATABASE_URL": postgres.url, "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
           "CONN_MAX_AGE": "0", **ROOMY}
    with Gunicorn(env, workers=1, threads=CLIENTS) as web, Load(web) as load:
        time.sleep(1)
        load.pause()
        postgres.freeze()
        frozen = time.monotonic()
        load.resume()
        time.sleep(9)
        postgres.thaw()
        thawed = time.monotonic()
        time.sleep(2)

    # Asked early enough to time out (5 s) before the thaw:
    during = load.between(frozen, thawed - 6)
    assert during, "no request was asked while the database was frozen"
    assert all(reply.seconds < REQUEST_BOUND_SECONDS for _, reply in load.between(0)), during
    assert all(reply.status >= 500 for _, reply in during), during  # it failed, and said so
    assert load.failures(thawed) == []
