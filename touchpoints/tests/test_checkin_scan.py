import datetime

import pytest
from django.core.management import call_command

from customers.tests.factories import CustomerFactory
from touchpoints.models import FollowUp
from touchpoints.services import touchpoint_log

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 10)


@pytest.fixture
def due_customer(north, alice):
    return CustomerFactory(team=north, owner=alice, next_checkin_due=DAY - datetime.timedelta(days=1))


def test_it_opens_a_followup_for_the_owner_of_an_overdue_customer(due_customer, alice):
    call_command("run_daily_jobs", date=DAY.isoformat())

    follow_up = FollowUp.objects.get(customer=due_customer)
    assert follow_up.assignee == alice
    assert follow_up.kind == FollowUp.Kind.CHECKIN
    assert follow_up.due_on == due_customer.next_checkin_due


def test_it_opens_one_followup_however_often_it_runs(due_customer):
    call_command("run_daily_jobs", date=DAY.isoformat())
    call_command("run_daily_jobs", date=DAY.isoformat())

    assert FollowUp.objects.filter(customer=due_customer).count() == 1


def test_it_skips_customers_within_cadence_archived_or_churned(north, alice):
    CustomerFactory(team=north, owner=alice, next_checkin_due=DAY + datetime.timedelta(days=1))
    CustomerFactory(team=north, owner=alice, next_checkin_due=DAY, archived_at=datetime.datetime(
        2026, 1, 1, tzinfo=datetime.UTC))
    CustomerFactory(team=north, owner=alice, next_checkin_due=DAY, status="churned")
    CustomerFactory(team=north, owner=alice, next_checkin_due=DAY, status="prospect")

    call_command("run_daily_jobs", date=DAY.isoformat())

    assert not FollowUp.objects.exists()


def test_dry_run_lists_and_changes_nothing(due_customer, capsys):
    call_command("run_daily_jobs", date=DAY.isoformat(), dry_run=True)

    assert due_customer.name in capsys.readouterr().out
    assert not FollowUp.objects.exists()


def test_it_uses_each_customers_local_date(north, alice, time_machine):
    # 2026-03-10 11:00 UTC is already the 11th in Auckland and still the 10th in Honolulu.
    time_machine.move_to(datetime.datetime(2026, 3, 10, 11, 0, tzinfo=datetime.UTC), tick=False)
    auckland = CustomerFactory(team=north, owner=alice, timezone="Pacific/Auckland",
                               next_checkin_due=datetime.date(2026, 3, 11))
    honolulu = CustomerFactory(team=north, owner=alice, timezone="Pacific/Honolulu",
                               next_checkin_due=datetime.date(2026, 3, 11))

    call_command("run_daily_jobs")

    assert FollowUp.objects.filter(customer=auckland).exists()
    assert not FollowUp.objects.filter(customer=honolulu).exists()


def test_a_logged_touch_closes_the_checkin_and_resets_the_clock(due_customer, alice):
    call_command("run_daily_jobs", date=DAY.isoformat())

    touchpoint_log(customer=due_customer, user=alice, kind="call", summary="Caught up")

    due_customer.refresh_from_db()
    assert not FollowUp.objects.open().filter(customer=due_customer).exists()
    assert due_customer.next_checkin_due == due_customer.local_today() + datetime.timedelta(days=30)


def test_a_bad_date_is_a_clear_error():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_daily_jobs", date="10/03/2026")
