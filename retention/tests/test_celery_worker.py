"""Tasks enqueued on commit reach a real worker; tasks from a rolled-back transaction never run."""

import datetime

import pytest
from django.db import transaction

from conftest import wait_for
from customers.tests.factories import CustomerFactory
from touchpoints.models import FollowUp
from touchpoints.tasks import create_checkin_followups

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

DAY = "2026-03-10"


@pytest.fixture
def due(north, alice):
    def make():
        return CustomerFactory(team=north, owner=alice,
                               next_checkin_due=datetime.date(2026, 3, 1))
    return make


def test_a_task_enqueued_on_commit_runs_on_the_worker(celery_worker_process, due):
    with transaction.atomic():
        customer = due()
        create_checkin_followups.delay_on_commit([customer.pk], DAY)

    assert wait_for(lambda: FollowUp.objects.filter(customer=customer).exists()), (
        open(celery_worker_process.log_path).read()
    )


def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs(celery_worker_process, due):
    rolled_back, sentinel = due(), due()

    with pytest.raises(RuntimeError), transaction.atomic():
        create_checkin_followups.delay_on_commit([rolled_back.pk], DAY)
        raise RuntimeError("the decision is abandoned")
    # The worker takes one task at a time in order: once the sentinel is done, anything
    # enqueued before it has been run too.
    create_checkin_followups.delay_on_commit([sentinel.pk], DAY)

    assert wait_for(lambda: FollowUp.objects.filter(customer=sentinel).exists())
    assert not FollowUp.objects.filter(customer=rolled_back).exists()
