"""
Campaigns: a survey sent once to a segment of the book, now or at a set time.

The campaign page and ``manage.py survey_send`` do the same: plan (how many would be invited and
who is skipped, why), then send. Sending claims the campaign (``scheduled`` → ``sending``) with a
conditional UPDATE, so a double click, a second worker or the scheduler finding it due at the
same moment sends it once; the invitations' unique occasion keys are the last line of defence.
Scheduled campaigns are sent by ``campaigns_send_due`` (the survey scan, every few minutes).
"""

import datetime

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.audit import AuditEvent, audit_record
from customers.models import Team

from .email import survey_programs
from .invitations import campaign_occasion, contacts_planned, invitations_write, segment_customers
from .models import Campaign


class CampaignRefused(Exception):
    """A campaign that cannot be sent or changed as asked; the message says why."""


def campaign_viewer(campaign):
    """Whose eyes a campaign's segment is read with: its maker's while active, else nobody's."""
    user = campaign.created_by
    if user is None:
        return None
    return user if user.is_active else AnonymousUser()


def campaign_plan(*, filters, user, campaign_id=0, now=None):
    """Who a campaign to the segment ``filters`` would invite, and whom it would skip and why."""
    customers = segment_customers(user=user, filters=filters)
    audience = survey_programs()["survey"].audience
    return contacts_planned(
        customers=customers, occasion=campaign_occasion(campaign_id), audience=audience, now=now
    )


def campaign_create(*, user, survey, name, filters, scheduled_for=None, reminder_days=5):
    """A campaign to send now (``scheduled_for`` None or past) or later; it is sent by ``campaign_send``."""
    if not survey.is_active:
        raise ValidationError({"survey": "This survey is switched off; choose an active one."})
    now = timezone.now()
    if scheduled_for is not None and scheduled_for < now - datetime.timedelta(minutes=5):
        raise ValidationError({"scheduled_for": "Choose a time in the future, or send now."})
    team = None
    team_id = str((filters or {}).get("team", ""))
    if team_id.isdigit():
        team = Team.objects.filter(pk=int(team_id)).first()
    campaign = Campaign(
        name=name.strip() or f"{survey.name} {now:%Y-%m-%d}",
        survey=survey,
        filters=filters or {},
        team=team,
        status=Campaign.Status.SCHEDULED,
        scheduled_for=scheduled_for or now,
        reminder_days=reminder_days,
        created_by=user if getattr(user, "pk", None) else None,
    )
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_send(*, campaign, now=None):
    """
    Send a scheduled campaign now: claim it, invite its segment, record the counts. Returns the
    campaign, or raises ``CampaignRefused`` when it is not (or no longer) waiting to be sent.
    """
    now = now or timezone.now()
    claimed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED, trigger="").update(
        status=Campaign.Status.SENDING, started_at=now
    )
    if not claimed:
        campaign.refresh_from_db()
        raise CampaignRefused(
            f"This campaign is {campaign.get_status_display().lower()}: "
            "only a scheduled campaign can be sent."
        )
    survey = campaign.survey
    plan = campaign_plan(
        filters=campaign.filters, user=campaign_viewer(campaign), campaign_id=campaign.pk, now=now
    )
    written = invitations_write(contacts=plan.contacts, survey=survey, campaign=campaign, now=now)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SENT,
        finished_at=timezone.now(),
        invited_count=written.invited,
        skipped=dict(plan.skipped),
    )
    campaign.refresh_from_db()
    audit_record(AuditEvent.Action.SURVEY_SEND,
                 f"Campaign “{campaign.name}” sent: {campaign.invited_count} invited",
                 target=f"campaign {campaign.pk}")
    return campaign


def campaign_cancel(*, campaign):
    cancelled = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED).update(
        status=Campaign.Status.CANCELLED, finished_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not cancelled:
        raise CampaignRefused(
            f"This campaign is {campaign.get_status_display().lower()}: "
            "only a scheduled campaign can be cancelled."
        )
    return campaign


def campaigns_due(now=None):
    """The ids of scheduled campaigns whose time has come."""
    now = now or timezone.now()
    return list(
        Campaign.objects.filter(
            status=Campaign.Status.SCHEDULED, trigger="", scheduled_for__lte=now
        ).values_list("pk", flat=True)
    )


def campaigns_resume_stuck(now=None, after=datetime.timedelta(hours=1)):
    """
    Campaigns left ``sending`` by a worker that died mid-way go back to ``scheduled``: sent again,
    they invite only whom they had not (the occasion keys). Returns how many.
    """
    now = now or timezone.now()
    return Campaign.objects.filter(
        status=Campaign.Status.SENDING, trigger="", started_at__lt=now - after
    ).update(status=Campaign.Status.SCHEDULED)
