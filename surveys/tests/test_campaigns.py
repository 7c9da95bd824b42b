"""Campaigns, triggers and reminders: who is invited, who is skipped and why, once."""

import datetime
import re
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from customers.services import contact_unsubscribe
from customers.tests.factories import ContactFactory, CustomerFactory
from surveys.answers import response_record
from surveys.campaigns import CampaignRefused, campaign_create, campaign_plan, campaign_send, campaigns_due
from surveys.models import Campaign, Invitation
from surveys.tests.factories import SurveyFactory
from surveys.triggers import survey_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.models import OutboxMessage
from touchpoints.services import complaint_acknowledge, complaint_open, complaint_resolve

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(north, alice, mail_locmem):
    """Three North customers with a primary contact each, and one without an email address."""
    customers = [CustomerFactory(team=north, owner=alice, name=f"North {n}") for n in range(3)]
    contacts = [ContactFactory(customer=c, is_primary=True) for c in customers]
    CustomerFactory(team=north, owner=alice, name="No Email Ltd")
    return {"customers": customers, "contacts": contacts}


def send(user, survey, **filters):
    campaign = campaign_create(user=user, survey=survey, name="Spring", filters=filters)
    return campaign_send(campaign=campaign)


def test_a_campaign_invites_each_contact_once_through_the_outbox(
    book, maria, django_capture_on_commit_callbacks
):
    survey = SurveyFactory()
    plan = campaign_plan(filters={}, user=maria)
    assert (plan.invited, dict(plan.skipped)) == (3, {"no_email": 1})

    with django_capture_on_commit_callbacks(execute=True):
        campaign = send(maria, survey)

    assert campaign.status == "sent" and campaign.invited_count == 3
    assert campaign.skipped == {"no_email": 1}
    invitations = Invitation.objects.filter(campaign=campaign)
    assert sorted(invitations.values_list("contact_id", flat=True)) == sorted(c.pk for c in book["contacts"])
    messages = OutboxMessage.objects.filter(program="survey")
    assert sorted(messages.values_list("occasion_key", flat=True)) == sorted(
        f"survey:campaign:{campaign.pk}:{c.pk}" for c in book["contacts"]
    )
    assert len(mail.outbox) == 3  # sent by the outbox (eager tasks in the tests)
    email = next(m for m in mail.outbox if m.to == [book["contacts"][0].email])
    token = invitations.get(contact=book["contacts"][0]).token
    html = email.alternatives[0][0]
    # Every score is a link on the scale, in the text and the HTML part.
    for score in range(0, 11):
        assert f"/s/{token}/?score={score}" in email.body and f"/s/{token}/?score={score}" in html
    survey.refresh_from_db()
    assert survey.is_locked


def test_sending_a_campaign_twice_sends_nothing_more(book, maria):
    campaign = send(maria, SurveyFactory())
    with pytest.raises(CampaignRefused):
        campaign_send(campaign=campaign)
    assert Invitation.objects.count() == 3 and OutboxMessage.objects.filter(program="survey").count() == 3


def test_the_fatigue_guard_holds_across_campaigns_and_triggers(book, maria, settings):
    settings.SURVEY_FATIGUE_DAYS = 90
    first = send(maria, SurveyFactory())
    second = send(maria, SurveyFactory(name="CSAT", kind="csat", question="How satisfied are you?"))
    assert second.invited_count == 0 and second.skipped == {"no_email": 1, "fatigue": 3}

    # The periodic trigger finds every customer due one day or another: still none of them now.
    trigger = Campaign.objects.create(
        name="Periodic", survey=first.survey, trigger="periodic", trigger_days=1, status="on"
    )
    for day in range(30):
        survey_scan(now=timezone.now() + datetime.timedelta(days=day))
    assert not Invitation.objects.filter(campaign=trigger).exists()

    with time_machine.travel(timezone.now() + datetime.timedelta(days=91)):
        third = send(maria, first.survey)
    assert third.invited_count == 3


def test_unsubscribed_contacts_are_skipped(book, maria):
    contact_unsubscribe(contact=book["contacts"][1])
    campaign = send(maria, SurveyFactory())
    assert campaign.invited_count == 2 and campaign.skipped == {"no_email": 1, "unsubscribed": 1}
    assert not Invitation.objects.filter(contact=book["contacts"][1]).exists()


def test_a_manager_invites_only_what_they_see_and_the_segment(book, maria, charlie, south):
    southern = CustomerFactory(team=south, owner=charlie, name="South 1")
    ContactFactory(customer=southern, is_primary=True)
    campaign = send(charlie, SurveyFactory())  # charlie sees South only
    assert list(Invitation.objects.filter(campaign=campaign).values_list("customer__name", flat=True)) == [
        "South 1"
    ]
    tagged = send(maria, SurveyFactory(name="CSAT", kind="csat", question="Satisfied?"), status="churned")
    assert tagged.invited_count == 0


def test_one_reminder_only_to_those_who_have_not_answered(book, maria):
    campaign = send(maria, SurveyFactory())
    invitations = list(Invitation.objects.filter(campaign=campaign).order_by("pk"))
    response_record(invitation=invitations[0], score=9)
    contact_unsubscribe(contact=invitations[1].contact)
    later = timezone.now() + datetime.timedelta(days=campaign.reminder_days, hours=1)

    assert survey_scan(now=timezone.now()).reminded == 0  # not yet
    assert survey_scan(now=later).reminded == 1
    assert survey_scan(now=later + datetime.timedelta(days=3)).reminded == 0  # once

    reminders = OutboxMessage.objects.filter(program="survey_reminder")
    assert list(reminders.values_list("contact_id", flat=True)) == [invitations[2].contact_id]
    with time_machine.travel(later + datetime.timedelta(minutes=1), tick=False):
        assert outbox_send(list(reminders.values_list("pk", flat=True)))["sent"] == 1
    assert f"/s/{invitations[2].token}/?score=9" in reminders.get().body_text
    assert f"/s/{invitations[2].token}/?score=9" in mail.outbox[-1].body


def test_an_answer_suppresses_a_reminder_still_waiting(book, maria):
    campaign = send(maria, SurveyFactory())
    invitation = Invitation.objects.filter(campaign=campaign).first()
    Invitation.objects.filter(pk=invitation.pk).update(reminded_at=timezone.now())  # as the scan does
    OutboxMessage.objects.create(
        occasion_key=f"survey_reminder:{invitation.pk}",
        program="survey_reminder",
        customer=invitation.customer,
        contact=invitation.contact,
        to="x@example.com",
        subject="Reminder",
        body_text="…",
        send_after=timezone.now() + datetime.timedelta(hours=5),
    )
    response_record(invitation=invitation, score=8)
    assert OutboxMessage.objects.get(program="survey_reminder").status == "suppressed"


def test_the_survey_after_a_resolved_complaint(book, alice, maria):
    customer, contact = book["customers"][0], book["contacts"][0]
    trigger = Campaign.objects.create(
        name="After a complaint",
        survey=SurveyFactory(),
        trigger="after_complaint",
        trigger_days=2,
        status="on",
    )
    complaint = complaint_open(customer=customer, user=alice, summary="Late delivery", severity="low")
    complaint_acknowledge(complaint=complaint, user=alice)
    complaint_resolve(complaint=complaint, user=alice, resolution_notes="Sent again by courier")

    assert survey_scan(now=timezone.now() + datetime.timedelta(days=1)).invited["after_complaint"] == 0
    report = survey_scan(now=timezone.now() + datetime.timedelta(days=2, hours=1))
    assert report.invited["after_complaint"] == 1
    survey_scan(now=timezone.now() + datetime.timedelta(days=3))  # a rerun: nothing twice
    invitation = Invitation.objects.get(campaign=trigger)
    assert (invitation.contact, invitation.occasion_key) == (
        contact,
        f"complaint:{complaint.pk}:{contact.pk}",
    )


def test_new_customers_are_surveyed_some_days_after_becoming_active(book, maria):
    trigger = Campaign.objects.create(
        name="New", survey=SurveyFactory(), trigger="after_active", trigger_days=14, status="on"
    )
    fresh = CustomerFactory(
        team=book["customers"][0].team,
        status="active",
        status_changed_at=timezone.now() - datetime.timedelta(days=15),
    )
    ContactFactory(customer=fresh, is_primary=True)
    survey_scan()
    assert list(Invitation.objects.filter(campaign=trigger).values_list("customer", flat=True)) == [fresh.pk]


def test_survey_send_does_what_the_page_does_and_says_why_it_skipped(book, maria, north):
    SurveyFactory()
    out = StringIO()
    call_command("survey_send", "NPS", "--team", "North", "--dry-run", stdout=out)
    assert (
        "3 contact(s) would be invited" in out.getvalue() and "1 no contact with an email" in out.getvalue()
    )
    assert not Invitation.objects.exists()

    out = StringIO()
    call_command("survey_send", "NPS", "--team", "North", stdout=out)
    assert re.search(r"^3 invitation\(s\) created to NPS", out.getvalue(), re.M)
    out = StringIO()
    call_command("survey_send", "NPS", stdout=out)
    assert (
        "0 invitation(s) created" in out.getvalue() and "3 surveyed within the last 90 days" in out.getvalue()
    )


def test_the_campaign_page_counts_before_it_sends(client, book, maria, django_capture_on_commit_callbacks):
    SurveyFactory()
    client.force_login(maria)
    data = {"survey": SurveyFactory().pk, "status": "active", "when": "now", "reminder_days": "5"}
    counted = client.post("/surveys/campaigns/new/", {**data, "action": "count"})
    assert "3 contacts will receive it" in counted.content.decode()
    assert not Invitation.objects.exists()

    stale = client.post("/surveys/campaigns/new/", {**data, "action": "send", "confirmed_count": "2"})
    assert "changed since you counted" in stale.content.decode() and not Invitation.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):  # sent by a task, once the campaign is saved
        sent = client.post("/surveys/campaigns/new/", {**data, "action": "send", "confirmed_count": "3"})
    campaign = Campaign.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/surveys/campaigns/{campaign.pk}/"
    assert Invitation.objects.filter(campaign=campaign).count() == 3


def test_a_campaign_set_for_later_waits_for_its_time(client, book, maria):
    client.force_login(maria)
    at = timezone.localtime() + datetime.timedelta(days=1)
    client.post(
        "/surveys/campaigns/new/",
        {
            "survey": SurveyFactory().pk,
            "when": "later",
            "reminder_days": "0",
            "scheduled_for": at.strftime("%Y-%m-%dT%H:%M"),
            "action": "send",
            "confirmed_count": "3",
            "status": "active",
        },
    )
    campaign = Campaign.objects.get()
    assert campaign.status == "scheduled" and not Invitation.objects.exists()
    survey_scan(now=at + datetime.timedelta(minutes=1))
    campaign.refresh_from_db()
    assert campaign.status == "sent" and campaign.invited_count == 3


def test_invitations_and_reminders_carry_what_every_outbox_row_carries(book, maria):
    """Decided in bulk, they get their latest sensible send time at once (so a survey that could not
    go out in time is not sent late), and when sent their wording, the occasion reference and the
    Message-ID kept on every attempt, stored on the row as the Outbox shows it."""
    campaign = send(maria, SurveyFactory())
    later = timezone.now() + datetime.timedelta(days=campaign.reminder_days, hours=1)
    survey_scan(now=later)

    rows = OutboxMessage.objects.filter(program__in=["survey", "survey_reminder"])
    assert {row.program for row in rows} == {"survey", "survey_reminder"}
    for row in rows:
        assert row.compose_at_send and not row.subject and not row.body_text
        assert row.title.endswith("(written when it is sent)")
        assert row.expires_at is not None and row.expires_at > row.send_after

    with time_machine.travel(later + datetime.timedelta(minutes=1), tick=False):
        outcome = outbox_send(list(rows.values_list("pk", flat=True)))
    assert outcome["sent"] == 3  # the reminders wait for the next day: one message a day a person
    for row in rows.filter(status="sent"):
        assert not row.compose_at_send and row.subject and row.title == row.subject
        assert row.message_id and row.occasion_ref and row.occasion_ref not in row.occasion_key
        email = next(m for m in mail.outbox if m.extra_headers["Message-ID"] == row.message_id)
        assert email.subject == row.subject and email.body == row.body_text


def test_a_row_whose_invitation_is_gone_is_suppressed_not_sent(book, maria):
    send(maria, SurveyFactory())
    rows = OutboxMessage.objects.filter(program="survey").order_by("pk")
    first = rows[0]
    Invitation.objects.filter(occasion_key=first.occasion_key.removeprefix("survey:")).delete()

    outcome = outbox_send(list(rows.values_list("pk", flat=True)))

    first.refresh_from_db()
    assert outcome["sent"] == 2 and len(mail.outbox) == 2
    assert first.status == "suppressed" and "no longer exists" in first.reason_note


def test_a_campaign_sent_while_the_broker_is_down_is_saved_as_due_and_the_page_answers(
        client, book, maria, monkeypatch, django_capture_on_commit_callbacks):
    from retention.celery import app

    # A real publish (``celery_eager`` puts the eager mode back after the test), to a broker that
    # is not there (nothing listens on port 1).
    app.conf.task_always_eager = False
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    client.force_login(maria)
    data = {"survey": SurveyFactory().pk, "status": "active", "when": "now", "reminder_days": "5",
            "action": "send", "confirmed_count": "3"}
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/surveys/campaigns/new/", data)

    campaign = Campaign.objects.get()
    assert sent.status_code == 302 and sent["Location"] == f"/surveys/campaigns/{campaign.pk}/"
    assert campaign.status == "scheduled" and not Invitation.objects.exists()
    assert campaigns_due() == [campaign.pk]  # what the minute's scan sends once the broker is back


def test_a_large_campaign_refreshes_the_outboxs_statistics(book, maria, monkeypatch):
    """Its day just filled with invitations must not be planned as empty (the daily cap's check)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from touchpoints.messaging import ledger

    monkeypatch.setattr(ledger, "STATISTICS_AFTER_ROWS", 3)
    with CaptureQueriesContext(connection) as queries:
        send(maria, SurveyFactory())

    assert any(query["sql"].startswith("ANALYZE touchpoints_outboxmessage") for query in queries)
