"""Shared by the bench scripts that serve the app: a free port, production settings, gunicorn."""

import os
import secrets
import socket
import subprocess
import sys
import time

from _setup import ROOT


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(port, secret_key=None):
    """The environment of a production server on 127.0.0.1:``port`` (one client sends everything)."""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secret_key or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": os.environ.get("EMAIL_URL", "consolemail://"),
        "DEFAULT_FROM_EMAIL": "Retention <retention@example.com>",
        "PUBLIC_RATE_LIMIT_PER_MINUTE": "100000000",
        "API_RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
    }


def start_gunicorn(port, *, env, workers=2, threads=4):
    """gunicorn as the Dockerfile runs it, on 127.0.0.1:``port``; returns once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "retention.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def stop(process):
    """Stop a server started with ``start_gunicorn`` (its whole process group)."""
    import signal

    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
