"""
The survey scan: standing triggers, reminders and scheduled campaigns, run by the scheduler
(``surveys.tasks.survey_scan``, hourly) and by ``run_daily_jobs``.

Triggers are campaigns with a ``trigger`` (one each, switched on by a manager):

- **after_active**: customers who became active ``trigger_days`` ago (up to a week late, should
  the scheduler have been down), once per time they became active;
- **after_complaint**: the complaint's contact (else the primary one) ``trigger_days`` after the
  complaint was resolved — "were we able to fix it?" — once per complaint;
- **periodic**: every ``trigger_days`` months per customer, spread evenly: on a given day the
  customers whose id falls on that day of the period are due, so a whole book is never surveyed
  the same week.

All go through the same planning and writing as a campaign (``invitations.py``): the fatigue guard,
the unsubscribed skipped, one invitation per occasion key.

**Reminders**: one per invitation, ``reminder_days`` after it was sent, only while it is unanswered,
unexpired and its contact subscribed; keyed ``survey_reminder:<invitation>`` in the outbox. An
answer suppresses a reminder still waiting to go out (``answers.py``).
"""

import dataclasses
import datetime
import logging
from collections import Counter

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.models import Customer
from touchpoints.messaging.ledger import SEND_BATCH_SIZE, enqueue_on_commit
from touchpoints.messaging.policy import expires_at as latest_send_time
from touchpoints.models import Complaint, OutboxMessage

from .campaigns import campaign_send, campaigns_due, campaigns_resume_stuck
from .email import survey_programs
from .invitations import contacts_planned, invitations_write, occasion_key
from .models import Campaign, Invitation

log = logging.getLogger(__name__)

ACTIVE_GRACE_DAYS = 7
COMPLAINT_GRACE_DAYS = 7
DAYS_PER_MONTH = 30
REMINDER_CHUNK = 1000


@dataclasses.dataclass
class SurveyScanReport:
    invited: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)
    reminded: int = 0
    campaigns_sent: int = 0

    def lines(self):
        out = [f"survey trigger {name}: {n} invited" for name, n in self.invited.items()]
        out += [f"survey skipped ({reason}): {n}" for reason, n in self.skipped.items()]
        out.append(f"survey reminders: {self.reminded} queued")
        out.append(f"survey campaigns sent: {self.campaigns_sent}")
        return out


def trigger_customers(campaign, now):
    """The customers a trigger finds due now, and the occasion key of each of their contacts."""
    days = campaign.trigger_days
    current = Customer.objects.current()
    if campaign.trigger == Campaign.Trigger.AFTER_ACTIVE:
        latest = now - datetime.timedelta(days=days)
        customers = current.filter(
            status=Customer.Status.ACTIVE,
            status_changed_at__lte=latest,
            status_changed_at__gt=latest - datetime.timedelta(days=ACTIVE_GRACE_DAYS),
        )
        return customers, occasion_key("after_active", TruncDate("customer__status_changed_at"))
    if campaign.trigger == Campaign.Trigger.AFTER_COMPLAINT:
        latest = now - datetime.timedelta(days=days)
        resolved = Complaint.objects.filter(
            resolved_at__lte=latest, resolved_at__gt=latest - datetime.timedelta(days=COMPLAINT_GRACE_DAYS)
        )
        customers = current.in_program().filter(pk__in=resolved.values("customer_id"))
        complaint = Subquery(
            resolved.filter(customer=OuterRef("customer_id")).order_by("-resolved_at", "-pk").values("pk")[:1]
        )
        return customers, occasion_key("complaint", complaint)
    if campaign.trigger == Campaign.Trigger.PERIODIC:
        period = max(1, days) * DAYS_PER_MONTH
        day = (timezone.localdate(now) - datetime.date(2000, 1, 1)).days
        customers = current.in_program().alias(slot=F("pk") % period).filter(slot=day % period)
        return customers, occasion_key("periodic", str(day // period))
    return Customer.objects.none(), occasion_key("none")


def triggers_run(*, now=None, report=None, dry_run=False):
    """Every switched-on trigger's invitations for now."""
    now = now or timezone.now()
    report = report or SurveyScanReport()
    program = survey_programs()["survey"]
    if not program.enabled:
        return report  # an admin switched automated survey invitations off (campaigns still send)
    audience = program.audience
    for campaign in (
        Campaign.objects.exclude(trigger="").filter(status=Campaign.Status.ON).select_related("survey")
    ):
        if not campaign.survey.is_active:
            continue
        customers, occasion = trigger_customers(campaign, now)
        plan = contacts_planned(customers=customers, occasion=occasion, audience=audience, now=now)
        report.skipped.update(plan.skipped)
        if dry_run:
            report.invited[campaign.trigger] += plan.invited
            continue
        written = invitations_write(
            contacts=plan.contacts, survey=campaign.survey, campaign=campaign, now=now
        )
        report.invited[campaign.trigger] += written.invited
        if written.invited:
            Campaign.objects.filter(pk=campaign.pk).update(invited_count=F("invited_count") + written.invited)
    return report


def reminders_due(now=None):
    """Invitations that get their one reminder now (one condition per reminder delay in use)."""
    now = now or timezone.now()
    delays = Campaign.objects.filter(reminder_days__gt=0).order_by().values_list("reminder_days", flat=True)
    due = Q(pk__in=[])
    for days in set(delays):
        due |= Q(campaign__reminder_days=days, created_at__lte=now - datetime.timedelta(days=days))
    return Invitation.objects.filter(
        due, answered_at__isnull=True, reminded_at__isnull=True, expires_at__gt=now,
        contact__unsubscribed_at__isnull=True,
    ).exclude(contact__email="")


def reminders_send(*, now=None, report=None, dry_run=False):
    """One reminder per unanswered invitation that is due one, through the outbox."""
    now = now or timezone.now()
    report = report or SurveyScanReport()
    program = survey_programs()["survey_reminder"]
    if not program.enabled:
        return report
    due = reminders_due(now)
    if dry_run:
        report.reminded += due.count()
        return report
    owners = dict(get_user_model().objects.values_list("pk", "email"))
    last = 0
    expires = latest_send_time("survey_reminder", now, "UTC")
    while chunk := list(
        due.filter(pk__gt=last).select_related("contact", "customer").order_by("pk")[:REMINDER_CHUNK]
    ):
        last = chunk[-1].pk
        with transaction.atomic():
            # The wording is written when each is sent (``surveys.email.compose_invitations``).
            messages = [
                OutboxMessage(
                    occasion_key=f"survey_reminder:{invitation.pk}",
                    program="survey_reminder",
                    customer_id=invitation.customer_id,
                    contact_id=invitation.contact_id,
                    sender_id=invitation.customer.owner_id,
                    to=invitation.contact.email,
                    reply_to=owners.get(invitation.customer.owner_id, ""),
                    compose_at_send=True,
                    automated=True,
                    send_after=now,
                    expires_at=expires,
                    created_at=now,
                )
                for invitation in chunk
            ]
            # Claimed first: of two scans at once, each reminds only the invitations it claimed.
            claimed = set(
                Invitation.objects.select_for_update()
                .filter(pk__in=[i.pk for i in chunk], reminded_at__isnull=True, answered_at__isnull=True)
                .values_list("pk", flat=True)
            )
            Invitation.objects.filter(pk__in=claimed).update(reminded_at=now)
            messages = [m for m, i in zip(messages, chunk, strict=True) if i.pk in claimed]
            OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
            ids = list(
                OutboxMessage.objects.filter(
                    occasion_key__in=[m.occasion_key for m in messages],
                    created_at=now,
                    status=OutboxMessage.Status.PENDING,
                ).values_list("pk", flat=True)
            )
            for start in range(0, len(ids), SEND_BATCH_SIZE):
                enqueue_on_commit(ids[start : start + SEND_BATCH_SIZE], now)
            report.reminded += len(ids)
    return report


def survey_scan(*, now=None, dry_run=False):
    """Triggers, reminders and the scheduled campaigns that are due: what the scheduler runs."""
    now = now or timezone.now()
    report = SurveyScanReport()
    if not dry_run:
        campaigns_resume_stuck(now=now)
        for campaign in Campaign.objects.filter(pk__in=campaigns_due(now)):
            try:
                campaign_send(campaign=campaign, now=now)
            except Exception:  # one campaign's failure must not stop the triggers and reminders
                log.exception("campaign %s could not be sent", campaign.pk)
                continue
            report.campaigns_sent += 1
    triggers_run(now=now, report=report, dry_run=dry_run)
    reminders_send(now=now, report=report, dry_run=dry_run)
    return report
