"""
Nothing stale: a greeting goes out on its day or is expired with the reason, whether the scan ran
late (``run_daily_jobs --date`` for a day gone), the workers were down, or the mail server was; a
follow-up has its grace period. The sweeper and the sender (a real worker) both hold to it.
"""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from conftest import wait_for
from customers.tests.factories import ContactFactory, CustomerFactory, PurchaseFactory
from touchpoints.messaging.ledger import outbox_enqueue, queue_send
from touchpoints.messaging.scans import programs_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage
from touchpoints.tests.program_customers import DAY, UTC, customer, midday_zone

NINE = datetime.datetime.combine(DAY, datetime.time(9), tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_a_back_dated_run_records_its_greetings_as_expired_and_sends_none(north, alice, time_machine, capsys):
    time_machine.move_to(datetime.datetime(2026, 3, 26, 8, 0, tzinfo=UTC))  # the 26th; the day was the 10th
    customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat())
    outbox_sweep()

    assert "birthday: 1 expired." in capsys.readouterr().out
    message = OutboxMessage.objects.get(program="birthday")
    assert message.status == "expired" and message.reason == "stale"
    assert "latest send time (2026-03-11 00:00" in message.reason_note
    assert not mail.outbox


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_a_back_dated_dry_run_says_the_greetings_would_expire(north, alice, time_machine, capsys):
    time_machine.move_to(datetime.datetime(2026, 3, 26, 8, 0, tzinfo=UTC))
    customer(north, alice, birthday=(3, 10))

    call_command("run_daily_jobs", date=DAY.isoformat(), dry_run=True)

    out = capsys.readouterr().out
    assert "expired  birthday:" in out and "birthday: 1 would be expired; nothing was changed." in out
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_a_greeting_still_pending_after_its_day_is_expired_by_the_sweeper(north, alice, time_machine):
    """The workers were down from before nine until the next day: the sweeper finds it pending."""
    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(1), tzinfo=UTC), tick=False)
    customer(north, alice, birthday=(3, 10))
    programs_scan()  # decided at 01:00, due at 09:00: nobody sends it

    time_machine.move_to(NINE + datetime.timedelta(days=1, hours=3), tick=False)
    outbox_sweep()

    message = OutboxMessage.objects.get()
    assert message.status == "expired" and message.reason == "stale" and not mail.outbox
    assert message.expires_at == datetime.datetime(2026, 3, 11, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_the_sender_expires_a_greeting_past_its_day_that_reaches_it(north, alice, time_machine):
    time_machine.move_to(NINE, tick=False)
    buyer = customer(north, alice, birthday=(3, 10))
    programs_scan()
    message = OutboxMessage.objects.get()

    time_machine.move_to(NINE + datetime.timedelta(days=2), tick=False)  # a task delivered very late
    assert outbox_send([message.pk]) == {**dict.fromkeys(
        ("sent", "retry", "failed", "suppressed", "deferred", "skipped"), 0), "expired": 1}

    message.refresh_from_db()
    assert message.status == "expired" and not mail.outbox and buyer.touchpoints.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_a_greeting_is_still_sent_late_on_its_own_day(north, alice, time_machine):
    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(1), tzinfo=UTC), tick=False)
    customer(north, alice, birthday=(3, 10))
    programs_scan()

    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(23, 50), tzinfo=UTC), tick=False)
    outbox_sweep()

    assert OutboxMessage.objects.get().status == "sent" and len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
@pytest.mark.parametrize(("late", "status"), [(datetime.timedelta(days=2, hours=23), "sent"),
                                              (datetime.timedelta(days=3, minutes=1), "expired")])
def test_a_post_purchase_follow_up_has_its_grace(north, alice, time_machine, late, status):
    time_machine.move_to(datetime.datetime.combine(DAY, datetime.time(1), tzinfo=UTC), tick=False)
    buyer = customer(north, alice)
    PurchaseFactory(customer=buyer, date=DAY - datetime.timedelta(days=7), description="a desk")
    programs_scan()

    time_machine.move_to(NINE + late, tick=False)
    outbox_sweep()

    assert OutboxMessage.objects.get().status == status
    assert len(mail.outbox) == (status == "sent")


@pytest.mark.django_db
@pytest.mark.usefixtures("program_mail")
def test_the_grace_is_configurable(north, alice, time_machine, settings):
    settings.OUTBOX_GRACE_DAYS = {"checkin": 5}
    time_machine.move_to(NINE, tick=False)
    buyer = customer(north, alice)
    contact = buyer.contacts.get()
    message, _ = outbox_enqueue(occasion_key="checkin:x", program="checkin", customer=buyer, contact=contact,
                                to=[contact.email], subject="How are things?", body_text="…",
                                send_after=NINE + datetime.timedelta(hours=1))

    assert message.expires_at == NINE + datetime.timedelta(days=5, hours=1)
    time_machine.move_to(NINE + datetime.timedelta(days=4), tick=False)
    outbox_sweep()
    assert OutboxMessage.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_missed_purchase_follow_up_counts_its_grace_from_when_it_was_due(north, alice, time_machine,
                                                                          program_mail):
    """The scheduler was down for two days: the follow-up goes, with one day of its grace left."""
    time_machine.move_to(NINE, tick=False)
    buyer = customer(north, alice)
    PurchaseFactory(customer=buyer, date=DAY - datetime.timedelta(days=9))  # due on the 8th

    programs_scan()

    message = OutboxMessage.objects.get()
    assert message.status == "pending"
    assert message.expires_at == datetime.datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


# With a real worker ------------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_a_greeting_whose_day_passed_and_sends_the_rest(
        celery_workers, smtp_sink, north, alice):
    """
    After an outage, the worker gets a task for a greeting whose day has passed in its customer's
    zone, and one for a greeting of today: it sends the one and expires the other.
    """
    zone, today = midday_zone()
    celery_workers.start(env={"EMAIL_URL": smtp_sink.url})
    late, fresh = (
        ContactFactory(email=email, customer=CustomerFactory(team=north, owner=alice, timezone=zone))
        for email in ("late@example.com", "now@example.com")
    )
    yesterday = timezone.now() - datetime.timedelta(days=1)
    with transaction.atomic():
        stale, _ = outbox_enqueue(occasion_key="birthday:late", program="birthday", customer=late.customer,
                                  contact=late, to=[late.email], subject="Happy birthday", body_text="…",
                                  send_after=yesterday + datetime.timedelta(days=3))
        due, _ = outbox_enqueue(occasion_key="birthday:now", program="birthday", customer=fresh.customer,
                                contact=fresh, to=[fresh.email], subject="Happy birthday", body_text="…")
    # As if the greeting had waited since yesterday, its day over: in the queue it goes all the same.
    OutboxMessage.objects.filter(pk=stale.pk).update(
        send_after=yesterday, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    queue_send([stale.pk, due.pk])

    done = wait_for(lambda: not OutboxMessage.objects.filter(status="pending").exists())
    assert done, celery_workers.logs()
    stale.refresh_from_db()
    assert stale.status == "expired" and stale.reason == "stale"
    assert OutboxMessage.objects.get(pk=due.pk).status == "sent"
    assert [m["To"] for m in smtp_sink.messages] == ["now@example.com"]
    assert today == timezone.now().astimezone(fresh.customer.tz).date()
