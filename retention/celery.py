"""The Celery application. Tasks live in each app's ``tasks.py``; the schedule is here."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")

app = Celery("retention")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The scans run hourly: each one works out, per customer time zone, which local date it is,
# and its unique occasion keys make a second run (or a second scheduler) a no-op.
app.conf.beat_schedule = {
    "checkin-scan": {
        "task": "touchpoints.tasks.checkin_scan",
        "schedule": crontab(minute=5),
    },
    "outbox-sweep": {
        "task": "touchpoints.tasks.sweep_outbox",
        "schedule": 120.0,
    },
}
