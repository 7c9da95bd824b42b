"""Celery tasks of the surveys: thin, they take ids and call services. The scan is in the beat
schedule (``retention/celery.py``)."""

import logging

from celery import shared_task

from . import campaigns, triggers
from .models import Campaign

log = logging.getLogger(__name__)


@shared_task
def survey_scan():
    """Hourly: the standing triggers and the reminders (and any campaign that is due)."""
    report = triggers.survey_scan()
    return {
        "invited": dict(report.invited),
        "reminded": report.reminded,
        "campaigns_sent": report.campaigns_sent,
    }


@shared_task
def send_campaign(campaign_id):
    """A campaign a manager sent now, off the web request (a segment may be the whole book)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return None
    try:
        campaigns.campaign_send(campaign=campaign)
    except campaigns.CampaignRefused:
        return None  # sent already (a retried task, the scan got there first)
    return campaign.invited_count


def send_campaign_soon(campaign_id):
    """
    Hand a campaign sent now to a worker. A broker that is down does not fail the manager's page:
    the campaign is saved as due, and ``send_due_campaigns`` sends it once the broker is back.
    """
    try:
        send_campaign.delay(campaign_id)
    except Exception:
        log.warning("could not queue campaign %s; the minute's scan of due campaigns sends it",
                    campaign_id, exc_info=True)


@shared_task
def send_due_campaigns():
    """Every minute: hand each campaign whose time has come to a worker of its own."""
    campaigns.campaigns_resume_stuck()
    due = campaigns.campaigns_due()
    for campaign_id in due:
        send_campaign.delay(campaign_id)
    return len(due)
