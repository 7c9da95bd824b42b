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
    # Greetings, check-in emails, post-purchase follow-ups and card reminders: rows are made as
    # soon as a time zone's local date begins and go out at the program's hour there.
    "program-scan": {
        "task": "touchpoints.tasks.program_scan",
        "schedule": crontab(minute=7),
    },
    # "Within the hour" of becoming a customer: not a daily job.
    "thank-you-scan": {
        "task": "touchpoints.tasks.thank_you_scan",
        "schedule": crontab(minute="*/10"),
    },
    # Surveys: the standing triggers and the reminders hourly; campaigns set for a time, each minute.
    "survey-scan": {
        "task": "surveys.tasks.survey_scan",
        "schedule": crontab(minute=9),
    },
    "survey-campaigns-due": {
        "task": "surveys.tasks.send_due_campaigns",
        "schedule": 60.0,
    },
    # Every minute: a killed worker's messages are back in line within two minutes.
    "outbox-sweep": {
        "task": "touchpoints.tasks.sweep_outbox",
        "schedule": 60.0,
    },
    # Daily, in the small hours: purchases age out of each customer's "last 12 months" value.
    "customer-values": {
        "task": "customers.tasks.recompute_customer_values",
        "schedule": crontab(hour=2, minute=15),
    },
    # Every minute: the health scores that survey answers marked stale.
    "health-sweep": {
        "task": "retention.tasks.health_sweep_task",
        "schedule": 60.0,
    },
    # After the values: every customer's health score, then each book's tally for the dashboard.
    "health-scan": {
        "task": "retention.tasks.health_scan_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # Hourly: the managers' weekly digest, written when each one's Monday morning begins.
    "manager-digests": {
        "task": "retention.tasks.manager_digests_task",
        "schedule": crontab(minute=20),
    },
    # Every minute: webhook deliveries lost with a worker or a broker outage back on their way.
    "webhooks-sweep": {
        "task": "retention.webhooks.tasks.sweep_webhooks",
        "schedule": 60.0,
    },
    # Complaints that passed their resolution target, announced to webhooks within five minutes.
    "webhooks-complaint-breaches": {
        "task": "retention.webhooks.tasks.scan_complaint_breaches",
        "schedule": crontab(minute="*/5"),
    },
    "customer-imports-clean": {
        "task": "customers.tasks.clean_customer_imports",
        "schedule": crontab(hour=2, minute=45),
    },
}
