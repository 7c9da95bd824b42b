"""The survey programs: installed with their default wording, tuned by admins on the Programs page."""

import importlib

import pytest

from surveys import defaults
from surveys.campaigns import campaign_create, campaign_send
from surveys.models import Campaign, Invitation
from surveys.tests.factories import SurveyFactory
from surveys.triggers import survey_scan
from touchpoints.messaging.sending import outbox_send
from touchpoints.models import OutboxMessage, Program

pytestmark = pytest.mark.django_db

FIELDS = ("enabled", "send_hour", "days", "audience", "subject", "body")


def test_the_data_migration_installs_the_default_wording():
    # Running code reads defaults.py; the migration keeps its frozen copy. They must not drift.
    frozen = importlib.import_module("surveys.migrations.0003_survey_programs")
    assert frozen.PROGRAMS == defaults.PROGRAMS
    installed = {
        p.key: {f: getattr(p, f) for f in FIELDS}
        for p in Program.objects.filter(key__in=list(defaults.PROGRAMS))
    }
    assert installed == defaults.PROGRAMS


def test_an_admin_tunes_the_invitation_and_campaigns_send_the_new_wording(
    client, admin_user, north, alice, maria, mail_locmem
):
    from customers.tests.factories import ContactFactory, CustomerFactory

    client.force_login(admin_user)
    page = client.get("/programs/survey/")
    assert page.status_code == 200 and "survey.question" in page.content.decode()
    saved = client.post(
        "/programs/survey/",
        {
            "enabled": "on",
            "audience": "primary",
            "subject": "Quick one, {{ contact.first_name }}",
            "body": "Hi {{ contact.first_name }}: {{ survey.question }}",
        },
    )
    assert saved.status_code == 302
    contact = ContactFactory(
        customer=CustomerFactory(team=north, owner=alice), name="Olga North", is_primary=True
    )
    campaign_send(campaign=campaign_create(user=maria, survey=SurveyFactory(), name="Tuned", filters={}))
    message = OutboxMessage.objects.get(program="survey", contact=contact)
    outbox_send([message.pk])  # the wording is written when the message is sent
    message.refresh_from_db()
    assert message.subject == "Quick one, Olga"
    assert message.body_text.startswith("Hi Olga: How likely are you to recommend us")


def test_switched_off_the_triggers_invite_nobody(north, alice):
    import datetime

    from django.utils import timezone

    from customers.tests.factories import ContactFactory, CustomerFactory

    became_active = timezone.now() - datetime.timedelta(days=15)
    customer = CustomerFactory(team=north, owner=alice, status="active", status_changed_at=became_active)
    ContactFactory(customer=customer, is_primary=True)
    Campaign.objects.create(
        name="New", survey=SurveyFactory(), trigger="after_active", trigger_days=14, status="on"
    )
    Program.objects.filter(key="survey").update(enabled=False)
    survey_scan()
    assert not Invitation.objects.exists()
    Program.objects.filter(key="survey").update(enabled=True)
    survey_scan()
    assert Invitation.objects.count() == 1
