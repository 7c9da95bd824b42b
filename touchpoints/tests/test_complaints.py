"""Complaints: targets by severity, the one path new → acknowledged → resolved → closed, follow-up."""

import datetime

import pytest

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import Complaint, ComplaintTarget, FollowUp
from touchpoints.selectors import complaint_urgency
from touchpoints.services import (
    TransitionRefused,
    complaint_acknowledge,
    complaint_close,
    complaint_open,
    complaint_resolve,
)
from touchpoints.tests.factories import ComplaintFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def hours(n):
    return datetime.timedelta(hours=n)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, timezone="UTC", name="Northwind")


@pytest.fixture
def complaint(customer, bob):
    return complaint_open(customer=customer, user=bob, summary="Late delivery", severity="high")


@pytest.mark.parametrize("severity, respond, resolve", [
    ("low", 48, 240), ("medium", 24, 120), ("high", 8, 48), ("critical", 2, 24),
])
def test_targets_come_from_the_seeded_table_by_severity(customer, alice, severity, respond, resolve):
    complaint = complaint_open(customer=customer, user=alice, summary="x", severity=severity)
    assert complaint.first_response_due_at == NOW + hours(respond)
    assert complaint.resolution_due_at == NOW + hours(resolve)
    assert complaint.status == "new" and complaint.opened_by == alice


def test_an_admin_can_change_the_targets(customer, alice):
    ComplaintTarget.objects.filter(severity="high").update(first_response_hours=1, resolution_hours=6)
    complaint = complaint_open(customer=customer, user=alice, summary="x", severity="high")
    assert complaint.first_response_due_at == NOW + hours(1)
    assert complaint.resolution_due_at == NOW + hours(6)


def test_the_whole_path_records_who_and_when(complaint, alice, time_machine):
    complaint_acknowledge(complaint=complaint, user=alice)
    time_machine.move_to(NOW + hours(5), tick=False)
    complaint_resolve(complaint=complaint, user=alice, resolution_notes="Replaced the part")
    time_machine.move_to(NOW + hours(30), tick=False)
    complaint_close(complaint=complaint, user=alice)

    complaint.refresh_from_db()
    assert complaint.status == "closed" and complaint.handled_by == alice
    assert complaint.acknowledged_at == NOW and complaint.resolved_at == NOW + hours(5)
    assert complaint.closed_at == NOW + hours(30)
    assert complaint.resolution_notes == "Replaced the part"


@pytest.mark.parametrize("path, refused, message", [
    ([], "resolve", "new, so it cannot be resolved: acknowledge it first"),
    ([], "close", "new, so it cannot be closed: acknowledge it first"),
    (["acknowledge"], "acknowledge", "acknowledged, so it cannot be acknowledged"),
    (["acknowledge"], "close", "cannot be closed: resolve it first"),
    (["acknowledge", "resolve"], "acknowledge", "resolved, so it cannot be acknowledged"),
    (["acknowledge", "resolve"], "resolve", "resolved, so it cannot be resolved"),
    (["acknowledge", "resolve", "close"], "acknowledge", "closed"),
    (["acknowledge", "resolve", "close"], "resolve", "closed"),
    (["acknowledge", "resolve", "close"], "close", "closed"),
])
def test_any_other_move_is_refused_and_changes_nothing(complaint, alice, path, refused, message):
    actions = {
        "acknowledge": lambda c: complaint_acknowledge(complaint=c, user=alice),
        "resolve": lambda c: complaint_resolve(complaint=c, user=alice, resolution_notes="Done"),
        "close": lambda c: complaint_close(complaint=c, user=alice),
    }
    for step in path:
        actions[step](complaint)
    before = Complaint.objects.get(pk=complaint.pk)

    with pytest.raises(TransitionRefused, match=message):
        actions[refused](Complaint.objects.get(pk=complaint.pk))

    after = Complaint.objects.get(pk=complaint.pk)
    assert (after.status, after.resolution_notes, after.closed_at) == (
        before.status, before.resolution_notes, before.closed_at)


def test_resolving_needs_notes(complaint, alice):
    complaint_acknowledge(complaint=complaint, user=alice)
    with pytest.raises(Exception, match="how the complaint was resolved"):
        complaint_resolve(complaint=complaint, user=alice, resolution_notes="   ")
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"


def test_resolving_schedules_one_follow_up_touch_a_week_later_for_the_handler(complaint, alice, bob):
    complaint_acknowledge(complaint=complaint, user=bob)
    complaint_resolve(complaint=complaint, user=alice, resolution_notes="Refunded")

    follow_up = FollowUp.objects.get()
    assert follow_up.kind == FollowUp.Kind.COMPLAINT_FOLLOWUP
    assert follow_up.occasion_key == f"complaint_followup:{complaint.pk}"
    assert follow_up.assignee == bob  # who handled it, not who clicked "resolve"
    assert follow_up.due_on == NOW.date() + datetime.timedelta(days=7)
    assert follow_up.customer == complaint.customer and follow_up.status == "open"


def test_an_unhandled_complaint_follow_up_goes_to_the_owner(customer, alice):
    complaint = ComplaintFactory(customer=customer, status="acknowledged")
    Complaint.objects.filter(pk=complaint.pk).update(handled_by=None)
    complaint.refresh_from_db()
    complaint_resolve(complaint=complaint, user=None, resolution_notes="Sorted")
    assert FollowUp.objects.get().assignee == alice


@pytest.mark.parametrize("status, opened_hours_ago, expected", [
    ("new", 1, "ok"),              # high: 8 h to respond, 7 left (near from 2 h or 4 h left)
    ("new", 4, "near"),            # 4 h left: within 4 hours
    ("new", 9, "breached"),
    ("acknowledged", 9, "ok"),     # now against the 48 h resolution: 39 h left
    ("acknowledged", 37, "near"),  # 11 h left, within 25 % of 48 h (12 h)
    ("acknowledged", 49, "breached"),
    ("resolved", 100, "ok"),
])
def test_breach_and_near_breach(customer, status, opened_hours_ago, expected):
    opened = NOW - hours(opened_hours_ago)
    complaint = ComplaintFactory(customer=customer, status=status, severity="high", opened_at=opened,
                                 first_response_due_at=opened + hours(8),
                                 resolution_due_at=opened + hours(48))
    assert complaint_urgency(complaint, NOW) == expected


# Through the pages ---------------------------------------------------------------------------


def test_a_complaint_is_recorded_from_the_customer_page(client, alice, customer):
    contact = ContactFactory(customer=customer)
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/complaints/new/", {
        "summary": "Invoice wrong twice", "severity": "critical", "contact": contact.pk,
        "opened_at": NOW.strftime("%Y-%m-%dT%H:%M"), "description": "Charged for 12 seats, have 10",
    }, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="customer-complaints"' in html and "Invoice wrong twice" in html
    complaint = Complaint.objects.get()
    assert complaint.contact == contact and complaint.first_response_due_at == NOW + hours(2)


def test_a_complaint_from_the_future_is_refused(client, alice, customer):
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/complaints/new/", {
        "summary": "x", "severity": "low", "opened_at": "2026-03-12T10:00",
    }, headers={"HX-Request": "true"})
    assert "opened_at" in response.context["complaint_form"].errors
    assert not Complaint.objects.exists()


def test_acknowledging_and_resolving_in_place_from_today(client, alice, complaint):
    client.force_login(alice)
    ack = client.post(f"/touchpoints/complaints/{complaint.pk}/acknowledge/", headers={"HX-Request": "true"})
    assert ack["HX-Retarget"] == "closest li" and "acknowledged" in ack.content.decode()

    form = client.get(f"/touchpoints/complaints/{complaint.pk}/resolve/", headers={"HX-Request": "true"})
    assert "autofocus" in form.content.decode() and "<html" not in form.content.decode()
    empty = client.post(f"/touchpoints/complaints/{complaint.pk}/resolve/", {"resolution_notes": ""},
                        headers={"HX-Request": "true"})
    assert "resolution_notes" in empty.context["form"].errors
    done = client.post(f"/touchpoints/complaints/{complaint.pk}/resolve/",
                       {"resolution_notes": "Sent a replacement"}, headers={"HX-Request": "true"})
    assert "resolved" in done.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.handled_by == alice


def test_an_invalid_move_from_a_page_says_why(client, alice, complaint):
    client.force_login(alice)
    response = client.post(f"/touchpoints/complaints/{complaint.pk}/close/",
                           {"panel": "customer"}, headers={"HX-Request": "true"})
    assert "cannot be closed: acknowledge it first" in response.content.decode()
    plain = client.post(f"/touchpoints/complaints/{complaint.pk}/close/", {"next": "/today/"})
    assert plain.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "new"


def test_html_in_a_complaint_renders_as_text_on_the_panel_and_today(client, alice, customer):
    evil = "<img src=x onerror=alert(1)>"
    complaint_open(customer=customer, user=alice, summary=evil, description=evil, severity="low")
    client.force_login(alice)
    for html in (client.get(customer.get_absolute_url()).content.decode(),
                 client.get("/today/").content.decode()):
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
