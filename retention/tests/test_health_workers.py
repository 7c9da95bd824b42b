"""
The recompute of every score on real Celery workers (``retention/health/nightly.py``): the scan
cut into slices for two workers at once, every customer scored, the books tallied once at the end.
"""

import datetime

import pytest
from django.utils import timezone

from conftest import wait_for
from customers.models import Customer
from customers.tests.factories import CustomerFactory
from retention.models import BookDay, HealthScan
from retention.tasks import health_scan_task

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_two_workers_share_the_slices_and_the_last_one_tallies_the_books(celery_workers, north, alice):
    since = timezone.localdate() - datetime.timedelta(days=400)
    for _ in range(24):
        CustomerFactory(team=north, owner=alice, status=Customer.Status.ACTIVE, customer_since=since)
    CustomerFactory(team=north, owner=alice, status=Customer.Status.CHURNED, health_score=70,
                    health_band="healthy")
    for _ in range(2):
        celery_workers.start()

    health_scan_task.delay(slice_ids=5)

    def finished():
        scan = HealthScan.objects.first()
        return scan is not None and scan.finished_at is not None
    assert wait_for(finished, timeout=60), celery_workers.logs()
    scan = HealthScan.objects.get()
    assert (scan.slices, scan.slices_done, scan.scored, scan.cleared) == (5, 5, 24, 1)
    assert not Customer.objects.in_program().filter(health_band="").exists()
    assert not Customer.objects.exclude(health_band="").exclude(status=Customer.Status.ACTIVE).exists()
    tally = BookDay.objects.get(date=timezone.localdate(scan.started_at), team=north, owner=alice)
    assert tally.customers == 24
    assert celery_workers.logs().count("retention.tasks.health_slice_task[") >= 5
