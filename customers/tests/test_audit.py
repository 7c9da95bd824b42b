"""The audit log: each sensitive action recorded with who, when, from where and what; admins read it."""

import datetime

import pytest
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from customers.audit import AuditEvent
from customers.models import Team
from customers.services import customer_archive, customer_restore, customers_reassign
from customers.tests.factories import CustomerFactory, UserFactory
from retention.health.overrides import override_end, override_set
from surveys.campaigns import campaign_create, campaign_send
from surveys.tests.factories import SurveyFactory
from touchpoints.messaging.wording import program_update
from touchpoints.models import Program

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def last(action):
    return AuditEvent.objects.filter(action=action).first()


def test_sign_ins_and_failed_sign_ins_with_the_address(client, alice):
    alice.set_password("a-long-password-1")
    alice.save()
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.4")
    client.post("/accounts/login/", {"username": "alice", "password": "a-long-password-1"},
                REMOTE_ADDR="203.0.113.5")
    failed, signed_in = last(Action.LOGIN_FAILED), last(Action.LOGIN)
    assert failed.target == "alice" and failed.address == "203.0.113.4" and failed.actor is None
    assert signed_in.actor == alice and signed_in.actor_name == "alice" and signed_in.address == "203.0.113.5"


def test_an_export_is_recorded_with_who_and_from_where(client, alice, north):
    CustomerFactory(team=north, owner=alice)
    client.force_login(alice)
    response = client.get("/customers/export/?status=active", REMOTE_ADDR="198.51.100.7")
    b"".join(response.streaming_content)
    event = last(Action.EXPORT)
    assert event.actor == alice and event.address == "198.51.100.7" and "status=active" in event.summary


def test_reassign_archive_restore_override_program_and_survey_send_are_recorded(alice, bob, maria, north):
    customer = CustomerFactory(team=north, owner=alice, name="Acme")
    customers_reassign(user=maria, customer_ids=[customer.pk], owner=bob)
    customer_archive(customer=customer, user=maria)
    customer_restore(customer=customer, user=maria)
    today = timezone.localdate()
    override_set(customer=customer, user=maria, score=80, comment="Renewal signed",
                 expires_on=today + datetime.timedelta(days=30))
    override_end(customer=customer, user=maria)
    program = Program.objects.get(key="birthday")
    program_update(program=program, data={"subject": "Many happy returns, {{ contact.first_name }}"})
    program_update(program=program, data={"subject": "Many happy returns, {{ contact.first_name }}"})  # same
    campaign_send(campaign=campaign_create(user=maria, survey=SurveyFactory(), name="Spring", filters={}))

    assert last(Action.REASSIGN).actor == maria and "bob" in last(Action.REASSIGN).summary
    assert last(Action.ARCHIVE).summary == "Archived Acme" and last(Action.RESTORE).summary == "Restored Acme"
    overrides = list(
        AuditEvent.objects.filter(action=Action.HEALTH_OVERRIDE).values_list("summary", flat=True))
    assert len(overrides) == 2 and "Renewal signed" in overrides[1] and "removed" in overrides[0]
    assert AuditEvent.objects.filter(action=Action.PROGRAM).count() == 1
    assert "subject" in last(Action.PROGRAM).summary
    assert "Spring" in last(Action.SURVEY_SEND).summary


def test_changes_to_users_and_teams_are_recorded_not_sign_in_stamps(client, admin_user):
    user = UserFactory(username="newhire")
    team = Team.objects.create(name="East")
    team.members.add(user)
    team.members.remove(user)
    team.delete()
    summaries = list(AuditEvent.objects.values_list("summary", flat=True))
    assert "User newhire created" in summaries and "Team East created" in summaries
    assert "newhire added to the members of team East" in summaries
    assert "newhire removed from the members of team East" in summaries
    assert "Team East deleted" in summaries
    before = AuditEvent.objects.filter(action=Action.USER).count()
    user.set_password("another-long-one-2")
    user.save()
    Client().login(request=HttpRequest(), username="newhire", password="another-long-one-2")
    assert AuditEvent.objects.filter(action=Action.USER).count() == before + 1  # the password, not the stamp


def test_admins_read_and_filter_the_log_and_export_it(client, admin_user, alice):
    AuditEvent.objects.create(action=Action.EXPORT, summary="Exported customers", actor=alice,
                              actor_name="alice")
    AuditEvent.objects.create(action=Action.ARCHIVE, summary="Archived <script>x</script> Ltd",
                              actor_name="bob")
    client.force_login(admin_user)
    page = client.get("/audit/").content.decode()
    assert "Exported customers" in page and "&lt;script&gt;" in page and "<script>x" not in page
    filtered = client.get("/audit/", {"action": "archive"}).content.decode()
    assert "Archived" in filtered and "Exported customers" not in filtered
    by_alice = client.get("/audit/", {"who": "alice"}).content.decode()
    assert "Exported customers" in by_alice and "Ltd" not in by_alice
    refused = client.get("/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}).content.decode()
    assert "The first day is after the last" in refused

    export = client.get("/audit/export/", {"action": "archive"})
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0] == "at,who,address,action,target,summary" and len(lines) == 2
    assert last(Action.EXPORT).summary.startswith("Exported the audit log")


def test_nobody_else_reads_the_log_and_nobody_edits_it(client, alice, maria, admin_user):
    for user in (alice, maria):
        client.force_login(user)
        assert client.get("/audit/").status_code == 404
        assert client.get("/audit/export/").status_code == 404
    event = AuditEvent.objects.create(action=Action.EXPORT, summary="x")
    client.force_login(admin_user)
    assert client.get("/admin/customers/auditevent/").status_code == 200
    assert client.post(f"/admin/customers/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/customers/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
