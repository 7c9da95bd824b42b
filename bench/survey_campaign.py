"""
Survey benchmark on seed_bench data: a campaign to every customer's primary contact (set-based
invitations and outbox rows), then the results page as an admin, timed with its query count.

    python manage.py migrate && python manage.py seed_bench --customers 100000
    python bench/survey_campaign.py

The campaign is rolled back when measured, so the benchmark can be rerun on the same data (and
two versions of the code compared); the results page is measured on the data as it is. Nothing is
sent.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # as in production: no log of every query kept in memory

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from surveys.campaigns import campaign_create, campaign_send  # noqa: E402
from surveys.models import Survey  # noqa: E402


def main():
    survey, _ = Survey.objects.get_or_create(
        name="Bench NPS",
        defaults={"kind": "nps", "question": "How likely are you to recommend us to a friend or colleague?"},
    )
    print(f"load average before: {os.getloadavg()}")
    with transaction.atomic():
        started = time.monotonic()
        campaign = campaign_create(user=None, survey=survey, name="Bench campaign", filters={},
                                   reminder_days=0)
        campaign = campaign_send(campaign=campaign)
        took = time.monotonic() - started
        print(
            f"campaign: {campaign.invited_count:,} invitations and outbox rows in {took:.1f} s; "
            f"skipped {campaign.skipped}; load average {os.getloadavg()}"
        )
        transaction.set_rollback(True)

    admin = get_user_model().objects.get(username="admin")
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(admin)
        client.get("/surveys/")  # warm
        timings = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                started = time.monotonic()
                response = client.get("/surveys/")
                timings.append(time.monotonic() - started)
        print(
            f"results page: status {response.status_code}, {len(queries)} queries, "
            f"median {sorted(timings)[2] * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms; "
            f"load average {os.getloadavg()}"
        )


if __name__ == "__main__":
    main()
