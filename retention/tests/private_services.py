"""
Services of a test's own, to break on purpose: a Redis server and a PostgreSQL cluster on free
loopback ports, and the app under gunicorn against them. The shared PostgreSQL and Redis of the
machine are never stopped or reconfigured; a fault test stops, freezes or restarts these.

- ``PrivateRedis``: ``redis-server`` without persistence; ``stop()``, ``start()`` again on the same
  port, ``freeze()`` (SIGSTOP: the port still takes connections, nothing answers) and ``thaw()``.
- ``PrivatePostgres``: ``initdb`` into a temporary directory (as the ``postgres`` user when run as
  root: initdb refuses root), ``pg_ctl`` to start, restart, freeze and stop it; ``copy_schema()``
  loads the tables of the test database, so the app's pages find them.
- ``Gunicorn``: ``gunicorn retention.wsgi`` in its own process group with extra environment, and
  ``request()`` for a timed HTTP exchange with it that never raises.
"""

import glob
import http.client
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[2]


class PrivateRedis:
    def __init__(self):
        self.port = free_port()
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.process, "redis-server")
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            self.process.wait(timeout=10)

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _postgres_binary(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda path: int(Path(path).parts[-3]))
    return found[-1] if found else shutil.which(name) or name


class PrivatePostgres:
    """A cluster of its own, trusting local connections, without fsync (nothing here must last)."""

    DATABASE = "retention"

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/{self.DATABASE}"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")

    def _run(self, *command, timeout=60):
        return subprocess.run([*self.as_postgres, *command], check=True, capture_output=True,
                              text=True, timeout=timeout)

    def start(self):
        if not self.data.exists():
            self._run(_postgres_binary("initdb"), "-D", str(self.data), "-U", "postgres",
                      "-A", "trust", "--no-sync", "-E", "UTF8")
        self._pg_ctl("start", "-w", "-t", "30", "-l", str(self.directory / "log"), "-o",
                     f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
                     "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        return self

    def _pg_ctl(self, action, *arguments):
        self._run(_postgres_binary("pg_ctl"), action, "-D", str(self.data), *arguments)

    def copy_schema(self, database_url):
        """The tables of ``database_url`` (the test database), empty, in this cluster's database."""
        psql = [_postgres_binary("psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", "postgres"]
        subprocess.run([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {self.DATABASE}"],
                       check=True, capture_output=True, timeout=30)
        dump = subprocess.run([_postgres_binary("pg_dump"), "--schema-only", "--no-owner",
                               "--no-privileges", database_url],
                              check=True, capture_output=True, timeout=60)
        subprocess.run([*psql, "-d", self.DATABASE], input=dump.stdout, check=True,
                       capture_output=True, timeout=60)

    def restart(self):
        """A fast restart: every connection is cut, the server answers again a moment later."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "30", "-l", str(self.directory / "log"))

    def wait_until_answering(self, timeout=30):
        """Until a new connection runs a query (``pg_ctl -w`` may return a moment before)."""
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.url, connect_timeout=2).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def postmaster_pid(self):
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def freeze(self):
        """SIGSTOP the postmaster: new connections wait in the kernel's queue, never answered."""
        os.kill(self.postmaster_pid(), signal.SIGSTOP)

    def thaw(self):
        os.kill(self.postmaster_pid(), signal.SIGCONT)

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self.thaw()
            self._pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class Gunicorn:
    """The app under gunicorn on a free port; ``env`` adds to (or overrides) this process's."""

    def __init__(self, env, *, workers=1, threads=4):
        self.port = free_port()
        self.env = {**os.environ, "LOG_LEVEL": "WARNING", **env}
        self.command = [sys.executable, "-m", "gunicorn", "retention.wsgi",
                        "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                        "--threads", str(threads), "--timeout", "30", "--log-level", "warning"]
        self.process = None
        self.log = tempfile.NamedTemporaryFile(prefix="faults-gunicorn-", suffix=".log", delete=False)

    def start(self, ready_path="/accounts/login/", timeout=60):
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn stopped:\n" + self.output())
            if self.request("GET", ready_path, timeout=5).status == 200:
                return self
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer:\n" + self.output())

    def worker_pids(self):
        """The master's children: gunicorn replaces a worker that died or timed out."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return set(children.read_text().split())

    def output(self):
        return Path(self.log.name).read_text(errors="replace")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)
        Path(self.log.name).unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def request(self, method, path, *, session=None, data=None, timeout=15):
        """
        One exchange on a fresh connection: a ``Reply`` with the status (0 when the connection
        failed or timed out), the body, the ``Location`` and the seconds it took. A POST carries
        a CSRF secret of its own, the same in the cookie and in the form.
        """
        cookies = {"sessionid": session} if session else {}
        headers = {}
        body = None
        if method == "POST":
            secret = "faults" * 5 + "ok"
            cookies["csrftoken"] = secret
            body = urlencode({**(data or {}), "csrfmiddlewaretoken": secret}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in cookies.items())
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode(errors="replace")
            return Reply(response.status, content, response.getheader("Location") or "",
                         time.monotonic() - started)
        except OSError as error:
            return Reply(0, repr(error), "", time.monotonic() - started)
        finally:
            connection.close()


class Reply:
    def __init__(self, status, body, location, seconds):
        self.status, self.body, self.location, self.seconds = status, body, location, seconds

    def __repr__(self):
        return f"<{self.status} in {self.seconds:.2f} s: {self.body[:300]!r}>"


def _wait_for_port(port, process, name, timeout=20):
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} stopped at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not listen on {port}")


def database_url():
    """The URL of the database the tests use, for a process of theirs."""
    from django.db import connection

    db = connection.settings_dict
    return (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")
