"""
``manage.py demo``: the first run shows the product. It seeds, runs today's scans (so the Outbox
and the timelines show messages at once, their links on the demo's port), and prints where to log
in before the servers start, flushed. The servers themselves are the edge: ``subprocess.Popen``
is replaced by processes that exit at once, which ends the demo.
"""

import signal
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from touchpoints.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)
PORT = 8765
SCANNED_PROGRAMS = ["checkin", "thank_you", "birthday", "anniversary", "key_date", "post_purchase"]


class FlushCountingOutput(StringIO):
    def __init__(self):
        super().__init__()
        self.flushed = ""

    def flush(self):
        self.flushed = self.getvalue()


@pytest.fixture
def servers(monkeypatch, settings):
    """The children the demo starts, each given what the demo had printed (and flushed) by then."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    started = []

    class ExitedAtOnce:
        def __init__(self, args, **kwargs):
            started.append((args, out.flushed))
            self.pid, self.returncode = 0, 0

        def poll(self):
            return 0

        def wait(self, timeout=None):
            return 0

    out = FlushCountingOutput()
    monkeypatch.setattr(subprocess, "Popen", ExitedAtOnce)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield started, out
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_the_demo_runs_the_scans_and_prints_where_to_log_in_before_the_servers(servers):
    started, out = servers
    with pytest.raises(CommandError, match="exited"):
        call_command("demo", port=PORT, stdout=out)

    login_url = f"http://127.0.0.1:{PORT}/accounts/login/"
    output = out.getvalue()
    assert f"Log in at {login_url}" in output  # seed_demo's list of logins
    assert started, "no server was started"
    assert all(f"Retention is starting: {login_url}" in flushed for _args, flushed in started)
    # Today's scans ran: the programs' messages (the seed itself writes none), linking to this port.
    scanned = OutboxMessage.objects.filter(program__in=SCANNED_PROGRAMS)
    assert scanned.exists()
    bodies = [m.body_text for m in scanned.filter(automated=True)]
    assert bodies and all(f"http://127.0.0.1:{PORT}/u/" in body for body in bodies)
