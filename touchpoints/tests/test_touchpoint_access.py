"""
Another team's promises, complaints, meetings and customers answer 404 on every page and action
of Today and the customer page, htmx or not; nothing changes. (Every route with an id, whatever
its app: retention/tests/test_access_sweep.py; CSRF on every POST: retention/tests/test_access.py.)
"""

import datetime

import pytest
from django.urls import reverse

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import Complaint, OutboxMessage, Promise, Touchpoint
from touchpoints.tests.factories import ComplaintFactory, PromiseFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def norths(north, alice):
    customer = CustomerFactory(team=north, owner=alice, next_checkin_due=datetime.date(2020, 1, 1))
    contact = ContactFactory(customer=customer, email="olga@example.com")
    meeting = TouchpointFactory(customer=customer, kind="meeting")
    meeting.contacts.add(contact)
    return {
        "customer": customer, "contact": contact, "meeting": meeting,
        "promise": PromiseFactory(customer=customer, contact=contact),
        "complaint": ComplaintFactory(customer=customer, status="new"),
        "acknowledged": ComplaintFactory(customer=customer, status="acknowledged"),
        "resolved": ComplaintFactory(customer=customer, status="resolved"),
    }


def urls(things):
    c, m, p = things["customer"].pk, things["meeting"].pk, things["promise"].pk
    new, ack, res = things["complaint"].pk, things["acknowledged"].pk, things["resolved"].pk
    return {
        "get": {
            "touchpoints:quick_log": f"/touchpoints/customers/{c}/quick-log/",
            "touchpoints:snooze": f"/touchpoints/customers/{c}/snooze/",
            "touchpoints:promise_new": f"/touchpoints/customers/{c}/promises/new/",
            "touchpoints:complaint_new": f"/touchpoints/customers/{c}/complaints/new/",
            "touchpoints:complaint_resolve": f"/touchpoints/complaints/{ack}/resolve/",
            "touchpoints:meeting_notes": f"/touchpoints/{m}/notes/",
        },
        "post": {
            "touchpoints:quick_log": (f"/touchpoints/customers/{c}/quick-log/",
                                      {"kind": "call", "summary": "x"}),
            "touchpoints:snooze": (f"/touchpoints/customers/{c}/snooze/",
                                   {"until": "2099-01-01", "reason": "x"}),
            "touchpoints:promise_new": (f"/touchpoints/customers/{c}/promises/new/",
                                        {"description": "x", "due_on": "2099-01-01"}),
            "touchpoints:promise_close": (f"/touchpoints/promises/{p}/close/", {"status": "broken"}),
            "touchpoints:complaint_new": (f"/touchpoints/customers/{c}/complaints/new/",
                                          {"summary": "x", "severity": "low",
                                           "opened_at": "2020-01-01T10:00"}),
            "touchpoints:complaint_acknowledge": (f"/touchpoints/complaints/{new}/acknowledge/", {}),
            "touchpoints:complaint_resolve": (f"/touchpoints/complaints/{ack}/resolve/",
                                              {"resolution_notes": "x"}),
            "touchpoints:complaint_close": (f"/touchpoints/complaints/{res}/close/", {}),
            "touchpoints:meeting_notes": (f"/touchpoints/{m}/notes/", {
                "contacts": [things["contact"].pk], "subject": "x", "body": "x", "action": "send"}),
            "touchpoints:meeting_notes_not_needed": (f"/touchpoints/{m}/notes/not-needed/", {}),
        },
    }


def test_the_lists_cover_every_page_and_action_of_today_and_the_customer_page(norths):
    swept = set(urls(norths)["get"]) | set(urls(norths)["post"])
    added = {"quick_log", "snooze", "promise_new", "promise_close", "complaint_new",
             "complaint_acknowledge", "complaint_resolve", "complaint_close", "meeting_notes",
             "meeting_notes_not_needed"}
    assert {f"touchpoints:{name}" for name in added} == swept
    for name in added:  # and they exist
        assert reverse(f"touchpoints:{name}", args=[1])


@pytest.mark.parametrize("htmx", [False, True])
def test_an_outsider_gets_404_everywhere_and_changes_nothing(client, charlie, south, norths, htmx):
    client.force_login(charlie)
    headers = {"HX-Request": "true"} if htmx else {}
    for name, url in urls(norths)["get"].items():
        assert client.get(url, headers=headers).status_code == 404, name
    for name, (url, data) in urls(norths)["post"].items():
        assert client.post(url, data, headers=headers).status_code == 404, name

    customer = norths["customer"]
    customer.refresh_from_db()
    assert customer.next_checkin_due == datetime.date(2020, 1, 1)
    assert Touchpoint.objects.count() == 1 and Promise.objects.get().status == "open"
    assert sorted(Complaint.objects.values_list("status", flat=True)) == ["acknowledged", "new", "resolved"]
    assert not OutboxMessage.objects.exists()
    assert not Touchpoint.objects.get().notes_not_needed


def test_a_teammate_may_open_every_page(client, bob, norths):
    client.force_login(bob)
    for name, url in urls(norths)["get"].items():
        assert client.get(url).status_code == 200, name


def test_the_outsiders_today_lists_none_of_it(client, charlie, south, norths):
    client.force_login(charlie)
    context = client.get("/today/").context
    for key in ("checkins", "complaints", "promises", "meetings", "not_thanked"):
        assert not list(context[key]), key
