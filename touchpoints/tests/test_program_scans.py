"""
The program scans: on which local date and at which hour, for whom (and for whom not), once per
occasion however often they run, and how they are run (the command, the tasks, the schedule).

What each program finds is in test_program_occasions.py; messages are sent here by
``outbox_sweep``/``outbox_send`` with Django's locmem backend (the SMTP edge); the SMTP and worker
tests are test_outbox_smtp.py and test_outbox_worker.py.
"""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command

from customers.models import Customer
from touchpoints.checkins import checkin_due_batches
from touchpoints.messaging.scans import programs_scan
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import FollowUp, OutboxMessage, Program
from touchpoints.tests.program_customers import DAY, UTC, customer, keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("program_mail", "on_scan_day")]


# Time zones and dates ----------------------------------------------------------------------------


def test_each_customer_is_greeted_on_its_own_local_date_at_nine(north, alice, time_machine):
    # 2026-03-10 11:00 UTC is already 00:00 on the 11th in Auckland (UTC+13) and 01:00 on the
    # 10th in Honolulu (UTC-10): the same UTC day, two different local dates.
    time_machine.move_to(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=UTC), tick=False)
    auckland = customer(north, alice, tz="Pacific/Auckland", birthday=(3, 11), email="kiri@example.nz")
    honolulu = customer(north, alice, tz="Pacific/Honolulu", birthday=(3, 10), email="leilani@example.com")
    not_yet = customer(north, alice, tz="Pacific/Honolulu", birthday=(3, 11), email="later@example.com")

    programs_scan()

    by_customer = {m.customer_id: m for m in OutboxMessage.objects.filter(program="birthday")}
    assert set(by_customer) == {auckland.pk, honolulu.pk}
    # 09:00 local, in UTC.
    assert by_customer[auckland.pk].send_after == datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert by_customer[honolulu.pk].send_after == datetime.datetime(2026, 3, 10, 19, 0, tzinfo=UTC)
    assert by_customer[auckland.pk].occasion_key.endswith(":2026")
    assert not_yet.pk not in by_customer

    assert outbox_sweep() == [] and not mail.outbox  # nobody is greeted before nine, local time

    time_machine.move_to(datetime.datetime(2026, 3, 10, 19, 0, tzinfo=UTC), tick=False)
    outbox_sweep()
    assert [m.to for m in mail.outbox] == [["leilani@example.com"]]

    time_machine.move_to(datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC), tick=False)
    outbox_sweep()
    assert [m.to for m in mail.outbox] == [["leilani@example.com"], ["kiri@example.nz"]]
    sent = OutboxMessage.objects.get(customer=auckland)
    assert sent.status == "sent" and sent.sent_at == datetime.datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


@pytest.mark.parametrize("on_date", [None, DAY])
def test_the_program_scan_and_the_checkin_scan_see_the_same_local_dates(north, alice, time_machine, on_date):
    # One rule for "today" in each customer's time zone (customers.zones.local_dates): the
    # check-in email and the check-in follow-up are due for the same customers on the same day.
    time_machine.move_to(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=UTC), tick=False)
    north.automated_checkins = True
    north.save()
    due = {
        (tz, next_due): customer(north, alice, tz=tz, next_checkin_due=next_due,
                                 email=f"{tz.split('/')[1].lower()}{next_due.day}@example.com")
        for tz in ("Pacific/Auckland", "Pacific/Honolulu", "Europe/Berlin")
        for next_due in (datetime.date(2026, 3, 10), datetime.date(2026, 3, 11))
    }

    followups_due = {
        customer_id: local_date
        for local_date, ids in checkin_due_batches(on_date=on_date) for customer_id in ids
    }
    programs_scan(on_date=on_date)
    emails_due = {
        m.customer_id: m.send_after.astimezone(m.customer.tz).date()
        for m in OutboxMessage.objects.filter(program="checkin").select_related("customer")
    }

    assert emails_due == followups_due
    if on_date is None:  # the 11th has begun in Auckland only
        assert set(emails_due) == {c.pk for (tz, d), c in due.items()
                                   if d.day == 10 or tz == "Pacific/Auckland"}
    else:
        assert set(emails_due) == {c.pk for (tz, d), c in due.items() if d.day == 10}


def test_the_send_hour_is_the_programs(north, alice):
    Program.objects.filter(key="birthday").update(send_hour=14)
    customer(north, alice, tz="Europe/Berlin", birthday=(3, 10))

    programs_scan(on_date=DAY)

    message = OutboxMessage.objects.get()
    assert message.send_after == datetime.datetime(2026, 3, 10, 13, 0, tzinfo=UTC)  # 14:00 CET


# Who gets nothing ------------------------------------------------------------------------------


def test_archived_churned_and_prospect_customers_get_nothing(north, alice):
    archived = customer(north, alice, birthday=(3, 10), email="a@example.com")
    archived.archived_at = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    archived.save()
    customer(north, alice, birthday=(3, 10), email="c@example.com", status=Customer.Status.CHURNED)
    customer(north, alice, birthday=(3, 10), email="p@example.com", status=Customer.Status.PROSPECT)
    kept = customer(north, alice, birthday=(3, 10), email="k@example.com", status=Customer.Status.INACTIVE)

    programs_scan(on_date=DAY)

    assert list(OutboxMessage.objects.values_list("customer", flat=True)) == [kept.pk]


def test_a_contact_without_email_gets_nothing(north, alice):
    customer(north, alice, birthday=(3, 10), email="")

    programs_scan(on_date=DAY)

    assert not OutboxMessage.objects.exists()


def test_an_unsubscribed_contact_is_recorded_as_suppressed_and_never_sent(north, alice):
    buyer = customer(north, alice, birthday=(3, 10))
    buyer.contacts.update(unsubscribed_at=datetime.datetime(2026, 1, 1, tzinfo=UTC))

    report = programs_scan(on_date=DAY)

    assert report.counts["birthday"] == {
        "queued": 0,
        "already decided": 0,
        "suppressed": 1,
        "lost to a concurrent scan": 0,
    }
    message = OutboxMessage.objects.get()
    assert message.status == "suppressed"  # recorded as such when decided
    assert outbox_sweep() == [] and not mail.outbox
    message.refresh_from_db()
    assert message.status == "suppressed" and message.sent_at is None


def test_a_program_switched_off_sends_nothing(north, alice):
    Program.objects.filter(key="birthday").update(enabled=False)
    customer(north, alice, birthday=(3, 10))

    programs_scan(on_date=DAY)

    assert not OutboxMessage.objects.exists()


# Once per occasion -----------------------------------------------------------------------------


def test_the_scan_run_twice_greets_once(north, alice):
    customer(north, alice, birthday=(3, 10))

    first = programs_scan(on_date=DAY)
    second = programs_scan(on_date=DAY)
    outbox_sweep()
    outbox_sweep()

    assert first.counts["birthday"]["queued"] == 1 and second.counts["birthday"]["queued"] == 0
    assert second.counts["birthday"]["already decided"] == 1
    assert keys() == [f"birthday:{OutboxMessage.objects.get().contact_id}:2026"]
    assert len(mail.outbox) == 1
    assert OutboxMessage.objects.get().status == "sent"


# The command -------------------------------------------------------------------------------------


def test_run_daily_jobs_dry_run_lists_and_writes_nothing(north, alice, capsys):
    buyer = customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat(), dry_run=True)

    out = capsys.readouterr().out
    assert f"would send  birthday:{buyer.contacts.get().pk}:2026  to dana@example.com" in out
    assert "2026-03-10 09:00 UTC" in out and "birthday: 1 would be queued; nothing was changed." in out
    assert not OutboxMessage.objects.exists() and not FollowUp.objects.exists()


def test_run_daily_jobs_writes_the_messages(north, alice, capsys):
    customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat())

    assert "birthday: 1 queued." in capsys.readouterr().out
    assert keys("birthday")


# The schedule ------------------------------------------------------------------------------------


def test_the_scans_are_scheduled_hourly_and_the_thank_you_every_ten_minutes():
    from retention.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    hourly = schedule["touchpoints.tasks.program_scan"]
    ten_minutes = schedule["touchpoints.tasks.thank_you_scan"]
    assert hourly.hour == set(range(24)) and len(hourly.minute) == 1
    assert ten_minutes.hour == set(range(24)) and ten_minutes.minute == set(range(0, 60, 10))


def test_the_scan_tasks_run_the_scans(north, alice):
    from touchpoints.tasks import program_scan, thank_you_scan

    customer(north, alice, birthday=(3, 10))

    result = program_scan.delay(DAY.isoformat()).get()

    assert result["birthday"]["queued"] == 1 and keys("birthday")
    assert thank_you_scan.delay().get() == {"thank_you": {"queued": 0}}


# Statistics --------------------------------------------------------------------------------------


def _analyzed(run):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        run()
    return any(query["sql"].startswith("ANALYZE touchpoints_outboxmessage") for query in queries)


def test_a_scan_that_writes_many_messages_refreshes_the_outboxs_statistics(north, alice, monkeypatch):
    """A day just filled with messages must not be planned as empty (the daily cap's check)."""
    from touchpoints.messaging import ledger

    for n in range(3):
        customer(north, alice, birthday=(3, 10), email=f"many{n}@example.com")
    monkeypatch.setattr(ledger, "STATISTICS_AFTER_ROWS", 3)

    assert _analyzed(lambda: programs_scan(on_date=DAY))
    # The rerun writes nothing, and a smaller scan leaves the statistics to autovacuum.
    assert not _analyzed(lambda: programs_scan(on_date=DAY))
    monkeypatch.setattr(ledger, "STATISTICS_AFTER_ROWS", 4)
    customer(north, alice, birthday=(3, 10), email="one@example.com")
    assert not _analyzed(lambda: programs_scan(on_date=DAY))
