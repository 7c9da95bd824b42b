"""
The people every test can use, playing the roles of the product:

- ``alice``: account manager in team North;  ``bob``: her teammate;
- ``charlie``: account manager in team South (the outsider for North's customers);
- ``maria``: manager of North and South;  ``admin``: superuser;  ``nobody``: in no team.
"""

import pytest
from django.conf import settings

from customers.tests.factories import TeamFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Real hashing costs ~0.3 s a user; tests need none of its strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def celery_eager(request):
    """
    Tasks run inline, in the test's own transaction, unless the test uses the real worker:
    no test leaves tasks in a developer's queue.
    """
    from retention.celery import app

    if {"celery_worker_process", "celery_workers"} & set(request.fixturenames):
        yield
        return
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def require_or_skip(reason):
    """Fail when services are required (CI), skip otherwise."""
    if settings.REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Archer")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Baker")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie", first_name="Charlie", last_name="Chen")


@pytest.fixture
def maria(db):
    return UserFactory(username="maria", first_name="Maria", last_name="Manager")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


@pytest.fixture
def nobody(db):
    return UserFactory(username="nobody")


@pytest.fixture
def north(alice, bob, maria):
    return TeamFactory(name="North", members=[alice, bob], managers=[maria])


@pytest.fixture
def south(charlie, maria):
    return TeamFactory(name="South", members=[charlie], managers=[maria])


@pytest.fixture(autouse=True)
def roomy_limits(settings):
    """
    Every test signs in and exports from 127.0.0.1, and the counters live in Redis across tests:
    the limits are raised out of their way; and tests that travel days ahead keep their session.
    The tests of the limits and of idle sessions (retention/tests/test_security.py) set their own.
    """
    settings.LOGIN_RATE_LIMIT_PER_MINUTE = 100_000
    settings.EXPORT_RATE_LIMIT_PER_MINUTE = 100_000
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SESSION_IDLE_MINUTES = 10 * 365 * 24 * 60


@pytest.fixture
def fresh_rate_counters():
    """The rate-limit counters of earlier tests in this minute are gone (only those: the cache may
    share its Redis database with the broker)."""
    from django.core.cache import cache

    from retention.ratelimit import KEY_PREFIX

    redis = cache._cache.get_client(None, write=True)
    for key in redis.scan_iter(match=f"*{KEY_PREFIX}:*"):
        redis.delete(key)


@pytest.fixture
def mail_locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _redis_broker_reachable(url):
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception:
        return False
    return True


class CeleryWorkers:
    """
    Real Celery workers, each in its own process (``--pool=solo``), on the Redis broker and the test
    database: ``start(env={...})`` one with extra environment (``EMAIL_URL`` at an SMTP sink, say),
    ``kill()`` it with SIGKILL mid-task, start another. Every worker still running at the end of
    the test is stopped (TERM, then KILL).
    """

    def __init__(self, base_env):
        self.base_env = base_env
        self.processes = []
        self.killed = False

    def start(self, env=None, timeout=60):
        import os
        import subprocess
        import sys
        import tempfile
        import time
        from pathlib import Path

        number = len(self.processes) + 1
        log = tempfile.NamedTemporaryFile(prefix=f"celery-worker-{number}-", suffix=".log", delete=False)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "retention", "worker", "--pool=solo",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test{number}-{os.getpid()}@%h"],
            cwd=Path(__file__).resolve().parent,
            env={**os.environ, **self.base_env, **(env or {})},
            stdout=log, stderr=subprocess.STDOUT,
        )
        process.log_path = log.name
        process.log = lambda: Path(log.name).read_text(errors="replace")
        self.processes.append(process)
        deadline = time.monotonic() + timeout
        while "ready." not in process.log():
            if process.poll() is not None or time.monotonic() > deadline:
                self._stop(process)
                pytest.fail("the Celery worker did not start:\n" + process.log())
            time.sleep(0.1)
        return process

    def kill(self, process):
        """SIGKILL: no warm shutdown, no acknowledgement, the task in hand is simply gone."""
        self.killed = True
        process.kill()
        process.wait(timeout=20)

    def logs(self):
        return "\n".join(f"--- worker {p.args[-1]} ---\n{p.log()}" for p in self.processes)

    def stop_all(self):
        for process in self.processes:
            self._stop(process)

    @staticmethod
    def _stop(process):
        import subprocess

        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture
def celery_workers(django_db_setup):
    """
    A factory of real Celery workers (see ``CeleryWorkers``) on the Redis broker and the test
    database; the queue is purged before, and every worker stopped after, the test.

    Needs PostgreSQL (the workers must see what the tests commit) and Redis. Tests that use it
    need ``transactional_db`` so their writes are committed and visible to the workers.
    """
    from django.db import connection

    from retention.celery import app

    broker = settings.CELERY_BROKER_URL
    if connection.vendor != "postgresql":
        require_or_skip("a real worker needs DATABASE_URL on PostgreSQL")
    if not broker.startswith("redis://") or not _redis_broker_reachable(broker):
        require_or_skip("a real worker needs CELERY_BROKER_URL on a reachable Redis")

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    app.control.purge()  # nothing left over from an earlier test or run
    workers = CeleryWorkers({
        "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker, "CONN_MAX_AGE": "0",
        # Test workers never write into the developer's var/mail/ unless a test says where to send.
        "EMAIL_URL": "memorymail://",
    })
    try:
        yield workers
    finally:
        workers.stop_all()
        app.control.purge()
        if workers.killed:
            # The killed worker's unacknowledged task would come back to a later test's worker
            # once the visibility timeout passes: forget it (the workers of this test are stopped).
            import redis

            redis.Redis.from_url(broker).delete("unacked", "unacked_index")


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real Celery worker for the test (see ``celery_workers``)."""
    return celery_workers.start()


def wait_for(condition, timeout=30, interval=0.2):
    """Poll until ``condition()`` is truthy; False when the time runs out."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
