import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from retention.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k9$Qz!7vR2@mW4#xN8^pL1&tB6*yH3(eJ5)uC0-sF_gD+aK=oI]" + "x" * 10,
    "ALLOWED_HOSTS": "retention.example.com",
    "DATABASE_URL": "postgres://retention:secret@db.example.com:5432/retention",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
    "SITE_URL": "https://retention.example.com",
    "DEFAULT_FROM_EMAIL": "Retention <retention@retention.example.com>",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "REQUIRE_SERVICES"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert {key: health[key] for key in ("status", "database", "broker")} == {
        "status": "ok", "database": "ok", "broker": "ok"}
    assert health["mail"] == {"server": "ok", "failing_since": None, "last_error": "", "due": 0,
                              "oldest_due_seconds": 0}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, monkeypatch):
    # Celery prefers the environment variable to its configuration; nothing listens on port 1.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"
    assert time.monotonic() - started < 10


def test_check_deploy_is_clean_with_production_values(tmp_path):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    setup = manage("dkim_setup", "--domain", "retention.example.com", env=env)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_mail_would_go_out_unsigned(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env={**PRODUCTION, "VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "retention.W001" in result.stderr and "dkim_setup" in result.stderr


def test_a_missing_production_setting_stops_the_start_with_a_clear_message(tmp_path):
    env = {**PRODUCTION, "VAR_DIR": str(tmp_path)}
    del env["SECRET_KEY"], env["SITE_URL"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Missing required production setting(s): SECRET_KEY, SITE_URL" in result.stderr


def test_the_embedded_default_needs_nothing_set(tmp_path):
    result = manage("check", env={"VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr


def test_the_embedded_broker_connects_without_a_warning(tmp_path):
    """kombu warns "No hostname was supplied" at every connection to a URL without a host."""
    env = {"VAR_DIR": str(tmp_path)}
    result = manage("shell", "-c", "from retention.celery import app\n"
                    "with app.producer_or_acquire() as producer: print(producer.connection.as_uri())",
                    env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("@localhost//")
    assert "WARNING" not in result.stderr and "hostname" not in result.stderr


def test_pages_have_a_statement_timeout_and_every_process_a_connection_timeout(tmp_path):
    """gunicorn's entry point bounds a page's statements; workers and commands keep none."""
    read = ("from django.db import connection; p = connection.get_connection_params(); "
            "print(p['options'], '|', p['connect_timeout'])")
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_STATEMENT_TIMEOUT"},
           "DATABASE_URL": "postgres://retention@127.0.0.1:5432/retention", "VAR_DIR": str(tmp_path)}
    outputs = {}
    for process, setup in (("web", "import retention.wsgi"), ("worker", "import django; django.setup()")):
        result = subprocess.run([sys.executable, "-c", f"{setup}; {read}"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outputs[process] = result.stdout.strip()
    assert outputs == {"web": "-c jit=off -c statement_timeout=30s | 5", "worker": "-c jit=off | 5"}
