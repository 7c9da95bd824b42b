"""
``manage.py demo``: the whole product on one machine with one command.

Retention is a web app plus a Celery worker and scheduler, and the scheduled scans (check-ins,
thank-you notes, greetings) are half of what it does. Starting three processes by hand is a poor
first run, so this command migrates, seeds the demo data, runs today's scans (so sent messages
show at once), prints where to log in, then runs the worker (with beat embedded)
and the web server side by side on the embedded default (SQLite and a file-system broker under
``var/``). The two run as children: Ctrl-C or SIGTERM stops both, and if one dies the other is
stopped too and the command exits non-zero, so a half-running demo never hides a failure.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from retention.seeding.people import DEFAULT_PASSWORD, DEMO_USERS_SUMMARY

STOP_TIMEOUT = 15  # seconds a child gets to shut down before it is killed


class Command(BaseCommand):
    help = "Migrate, seed demo data, and run the web server and the Celery worker with beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"password of every demo user (default: {DEFAULT_PASSWORD})")

    def handle(self, *, port, password, **options):
        # Links in what the demo prints and in the emails it writes point at this server.
        site_url = os.environ.get("SITE_URL") or f"http://127.0.0.1:{port}"
        call_command("migrate", interactive=False, verbosity=1, stdout=self.stdout)
        with override_settings(SITE_URL=site_url):
            call_command("seed_demo", password=password, stdout=self.stdout)
            # Today's scans, as the scheduler runs them: the Outbox and the timelines show
            # messages at once (the worker sends what they queued as soon as it starts).
            call_command("run_daily_jobs", stdout=self.stdout)

        # SIGTERM becomes the same clean stop as Ctrl-C.
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        env = {**os.environ, "SITE_URL": site_url}
        self._print_banner(site_url, password)
        children = {}
        try:
            children["worker"] = _start(
                [sys.executable, "-m", "celery", "-A", "retention", "worker", "-B",
                 "--loglevel=INFO"], env)
            children["web"] = _start(
                [sys.executable, str(settings.BASE_DIR / "manage.py"), "runserver",
                 f"127.0.0.1:{port}", "--noreload"], env)
            if _wait_for_port(port, children):
                self._say(self.style.SUCCESS(f"Ready: {site_url}/accounts/login/"))
            while not (dead := _dead_child(children)):
                time.sleep(0.5)
            name, code = dead
            raise CommandError(f"The {name} process exited with status {code}; stopping the demo.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping the demo …")
        finally:
            _stop_all(children)

    def _say(self, text):
        # Written at once, not when a pipe's buffer fills (or the demo stops): CI logs and
        # terminals show it before the servers' own output.
        self.stdout.write(text)
        self.stdout.flush()

    def _print_banner(self, site_url, password):
        lines = [
            f"Retention is starting: {site_url}/accounts/login/",
            f"Log in as {DEMO_USERS_SUMMARY}",
            f"Password: {password}",
        ]
        if getattr(settings, "EMAIL_FILE_PATH", None):
            lines.append(f"Email is written to {settings.EMAIL_FILE_PATH}/")
        lines.append("Press Ctrl-C to stop.")
        rule = "=" * 64
        self._say(self.style.SUCCESS("\n".join(["", rule, *lines, rule, ""])))


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _start(args, env):
    # A session of its own, so Ctrl-C reaches the child once, through _stop_all, and not also
    # straight from the terminal (a second SIGINT makes Celery abandon running tasks).
    return subprocess.Popen(args, cwd=settings.BASE_DIR, env=env, start_new_session=True)


def _dead_child(children):
    for name, process in children.items():
        if process.poll() is not None:
            return name, process.returncode
    return None


def _wait_for_port(port, children, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _dead_child(children):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def _stop_all(children):
    # Ignore further Ctrl-C / SIGTERM while stopping, so shutdown itself is not interrupted.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for process in children.values():
        if process.poll() is None:
            process.terminate()  # Celery: warm shutdown, finishing the task in hand
    for process in children.values():
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # The child's pool processes and embedded beat share its process group.
            _kill_group(process.pid)
            process.wait()


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
