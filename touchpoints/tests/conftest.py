"""Fixtures of the touchpoints tests: a real SMTP server to send to, and mail kept in memory."""

import pytest

from bench.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 (see smtp_sink.py), stopped after the test."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def smtp_to_sink(settings, smtp_sink):
    """This process sends its email over SMTP to the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    return smtp_sink


@pytest.fixture
def program_mail(mail_locmem, settings):
    """Mail kept in ``django.core.mail.outbox``, with the links and sender of an installation."""
    settings.SITE_URL = "https://retention.example.com"
    settings.DEFAULT_FROM_EMAIL = "Retention <retention@example.com>"


@pytest.fixture
def on_scan_day(time_machine):
    """
    The clock at noon (UTC) of ``program_customers.DAY``, running: the day the program tests scan
    for is today, so its greetings are due and not yet past their day.
    """
    import datetime

    from touchpoints.tests.program_customers import DAY

    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(12), tzinfo=datetime.UTC), tick=True)
