"""
The managers' weekly digest: written on Monday morning in each manager's time zone for 08:00,
once a week, only to managers who did not switch it off, about their own teams only; sent
through the outbox to their address; and the profile page that switches it off.
"""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from customers.tests.factories import CustomerFactory, TeamFactory, UserFactory
from retention.digest import manager_digests_send
from retention.models import DigestPreference, HealthSnapshot
from touchpoints.messaging.sending import outbox_send
from touchpoints.models import OutboxMessage, Touchpoint

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 3, 9)  # week 11 of 2026


def utc(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=datetime.UTC)


@pytest.fixture
def week(maria, alice, north, south, charlie):
    """Last week in maria's teams: one customer became at risk, one was saved; and West's secret."""
    slipping = CustomerFactory(team=north, owner=alice, name="Slipping Away", health_score=20,
                               health_band="at_risk", value_last_12_months=Decimal("10000"),
                               next_checkin_due=MONDAY - datetime.timedelta(days=60),
                               health_factors={"reasons": [{"code": "no_contact", "days": 61, "cadence": 30,
                                                            "since": "2026-01-07", "points": 80}]})
    HealthSnapshot.objects.create(customer=slipping, date=MONDAY - datetime.timedelta(days=3), score=20,
                                  band="at_risk", previous_band="watch")
    saved = CustomerFactory(team=south, owner=charlie, name="Saved Again", health_score=80,
                            health_band="healthy")
    HealthSnapshot.objects.create(customer=saved, date=MONDAY - datetime.timedelta(days=2), score=80,
                                  band="healthy", previous_band="at_risk", saved=True)
    walt = UserFactory(username="walt", first_name="Walt")
    west = TeamFactory(name="West", members=[walt], managers=[walt])
    secret = CustomerFactory(team=west, owner=walt, name="Western Secret", health_score=5,
                             health_band="at_risk", value_last_12_months=Decimal("90000"))
    HealthSnapshot.objects.create(customer=secret, date=MONDAY - datetime.timedelta(days=3), score=5,
                                  band="at_risk", previous_band="healthy")
    return {"slipping": slipping, "saved": saved, "walt": walt}


def digests():
    return list(OutboxMessage.objects.filter(program="manager_digest").order_by("to"))


def test_the_digest_is_written_on_monday_morning_for_eight_oclock(week, maria, time_machine):
    time_machine.move_to(utc(MONDAY, 6, 50), tick=False)
    assert manager_digests_send() == 0  # before 07:00 (UTC, the server's zone)
    time_machine.move_to(utc(MONDAY, 7, 20), tick=False)
    assert manager_digests_send() == 2  # maria and walt
    time_machine.move_to(utc(MONDAY, 8, 20), tick=False)
    assert manager_digests_send() == 0  # the hourly rerun writes nothing twice

    message = next(m for m in digests() if m.to == maria.email)
    assert message.occasion_key == f"manager_digest:{maria.pk}:2026-W11"
    assert (message.customer_id, message.contact_id, message.automated) == (None, None, True)
    assert message.send_after == utc(MONDAY, 8)
    assert message.subject == "Your week: 1 customer became at risk (8,000 EUR), 1 saved"


def test_no_digest_on_other_days(week, time_machine):
    time_machine.move_to(utc(MONDAY + datetime.timedelta(days=1), 9), tick=False)
    assert manager_digests_send() == 0


def test_the_digest_comes_at_eight_in_the_managers_own_time_zone(week, maria, time_machine):
    DigestPreference.objects.create(user=maria, timezone="America/New_York")
    time_machine.move_to(utc(MONDAY, 7, 20), tick=False)  # 03:20 in New York
    manager_digests_send()
    assert [m.to for m in digests()] == [week["walt"].email]
    time_machine.move_to(utc(MONDAY, 11, 20), tick=False)  # 07:20 EDT
    manager_digests_send()
    message = next(m for m in digests() if m.to == maria.email)
    assert message.send_after == utc(MONDAY, 12)  # 08:00 EDT


def test_managers_who_switched_it_off_and_account_managers_get_none(week, maria, alice, time_machine):
    DigestPreference.objects.create(user=maria, weekly_digest=False)
    time_machine.move_to(utc(MONDAY, 7, 20), tick=False)
    manager_digests_send()
    assert [m.to for m in digests()] == [week["walt"].email]


def test_the_digest_tells_a_manager_about_their_teams_only(week, maria, time_machine):
    time_machine.move_to(utc(MONDAY, 7, 20), tick=False)
    manager_digests_send()
    body = next(m for m in digests() if m.to == maria.email).body_text
    assert "BECAME AT RISK: 1 customer, 8,000 EUR of value at risk added" in body
    assert "Slipping Away (Alice Archer), score 20, 8,000 EUR at risk: no contact for 61 days" in body
    assert "SAVES: 1 customer" in body and "Saved Again (Charlie Chen)" in body
    assert "Alice Archer: 1 overdue of 1" in body
    assert "Western Secret" not in body and "Walt" not in body
    walts = next(m for m in digests() if m.to == week["walt"].email)
    assert "Western Secret" in walts.body_text and "Slipping Away" not in walts.body_text
    assert "Western Secret" in walts.body_html and "Slipping Away" not in walts.body_html


def test_the_digest_goes_out_through_the_outbox_with_no_timeline_entry(week, maria, time_machine,
                                                                      mail_locmem):
    time_machine.move_to(utc(MONDAY, 7, 20), tick=False)
    manager_digests_send()
    message = next(m for m in digests() if m.to == maria.email)
    assert outbox_send([message.pk])["skipped"] == 1  # not before 08:00
    time_machine.move_to(utc(MONDAY, 8, 1), tick=False)
    assert outbox_send([message.pk])["sent"] == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.touchpoint_id is None
    assert not Touchpoint.objects.exists()
    [email] = mail.outbox
    assert email.to == [maria.email] and email.subject.startswith("Your week:")
    assert "Slipping Away" in email.alternatives[0][0]


# The profile -------------------------------------------------------------------------------------


def test_a_manager_switches_the_digest_off_on_their_profile(client, maria, north):
    client.force_login(maria)
    page = client.get("/accounts/profile/").content.decode()
    assert "Weekly digest" in page and maria.email in page
    response = client.post("/accounts/profile/", {"timezone": "Europe/Berlin"})  # the box unticked
    assert response.status_code == 302
    preference = DigestPreference.objects.get(user=maria)
    assert (preference.weekly_digest, preference.timezone) == (False, "Europe/Berlin")


def test_a_bad_time_zone_is_refused_and_nothing_is_saved(client, maria, north):
    client.force_login(maria)
    response = client.post("/accounts/profile/", {"weekly_digest": "on", "timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "is not a known time zone" in response.content.decode()
    assert not DigestPreference.objects.exists()
