"""
Each event type comes from the code path users go through, with the documented payload, written in
the deciding transaction; announcing a type nobody subscribes to costs the survey answer no query.
"""

import datetime
import json

import pytest
import time_machine
from django.utils import timezone

from customers.events import customer_event
from customers.services import customer_update
from retention.health.overrides import override_end, override_set
from retention.health.recompute import health_recompute
from retention.webhooks.breaches import complaint_breaches_announce
from retention.webhooks.events import subscriptions
from retention.webhooks.models import Delivery, Event
from retention.webhooks.receivers import on_customer_event
from surveys.answers import response_record
from surveys.models import Survey
from surveys.tests.factories import InvitationFactory, SurveyFactory
from touchpoints.models import Promise
from touchpoints.services import (
    complaint_acknowledge,
    complaint_open,
    complaint_resolve,
    promise_close,
    promise_create,
    touchpoint_log,
)

from .conftest import subscribe

pytestmark = pytest.mark.django_db

HOOK = "https://93.184.215.14/hook"  # never posted to: these tests keep the tasks' commit hooks


def announced(event_type=None):
    events = Event.objects.order_by("created_at", "pk")
    if event_type:
        events = events.filter(type=event_type)
    return [json.loads(event.body) for event in events]


def test_a_complaint_opened_is_announced_with_the_customer_and_the_complaint(customer, alice, settings):
    settings.SITE_URL = "https://crm.example.com"
    endpoint, _ = subscribe(HOOK, events=["complaint.opened"])
    complaint = complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")

    [event] = announced()
    assert event["type"] == "complaint.opened"
    assert datetime.datetime.fromisoformat(event["created_at"])
    assert event["data"]["customer"] == {
        "id": customer.pk, "name": "Northwind", "external_id": "NW-1", "owner": "alice",
        "health_score": customer.health_score, "health_band": customer.health_band or None,
        "url": f"https://crm.example.com/customers/{customer.pk}/",
    }
    assert event["data"]["complaint"]["id"] == complaint.pk
    assert event["data"]["complaint"]["severity"] == "high"
    assert event["data"]["complaint"]["summary"] == "Late delivery"
    assert event["data"]["complaint"]["due"].startswith(complaint.resolution_due_at.date().isoformat())
    delivery = Delivery.objects.get()
    assert (str(delivery.event_id), delivery.endpoint_id) == (event["id"], endpoint.pk)


def test_nothing_is_written_for_a_type_nobody_subscribes_to(customer, alice):
    subscribe(HOOK, events=["promise.broken"])
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_a_disabled_endpoint_gets_nothing(customer, alice):
    endpoint, _ = subscribe(HOOK)
    endpoint.enabled = False
    endpoint.save()  # behind the cache's back: the database still has the last word
    complaint_open(customer=customer, user=alice, summary="Late delivery", severity="high")
    assert not Delivery.objects.exists()


def test_a_broken_promise_is_announced_and_a_kept_one_is_not(customer, alice):
    subscribe(HOOK, events=["promise.broken"])
    due = timezone.localdate() + datetime.timedelta(days=3)
    kept = promise_create(customer=customer, user=alice, description="Price list", due_on=due)
    broken = promise_create(customer=customer, user=alice, description="Call back", due_on=due)
    promise_close(promise=kept, user=alice, status=Promise.Status.KEPT)
    promise_close(promise=broken, user=alice, status=Promise.Status.BROKEN)

    [event] = announced()
    assert event["type"] == "promise.broken"
    assert event["data"]["promise"] == {"id": broken.pk, "description": "Call back",
                                        "due": due.isoformat(), "status": "broken"}


def test_a_churn_is_announced(customer, alice):
    subscribe(HOOK, events=["customer.churned"])
    customer_update(customer=customer, user=alice, data={"status": "inactive"}, version=customer.version)
    customer.refresh_from_db()
    customer_update(customer=customer, user=alice, data={"status": "churned", "churn_reason": "Price"},
                    version=customer.version)

    [event] = announced()
    assert event["type"] == "customer.churned"
    assert event["data"]["churn"] == {"reason": "Price", "previous_status": "inactive"}


@pytest.mark.parametrize(("kind", "score", "expected"), [
    (Survey.Kind.NPS, 6, "survey.detractor"), (Survey.Kind.NPS, 9, "survey.promoter"),
    (Survey.Kind.NPS, 8, None), (Survey.Kind.CSAT, 2, "survey.detractor"),
    (Survey.Kind.CSAT, 5, "survey.promoter"), (Survey.Kind.CSAT, 3, None),
])
def test_an_answer_is_announced_by_its_category(customer, kind, score, expected):
    subscribe(HOOK, events=["survey.detractor", "survey.promoter"])
    survey = SurveyFactory(name=kind.upper(), kind=kind)
    invitation = InvitationFactory(survey=survey, contact__customer=customer)
    response = response_record(invitation=invitation, score=score)

    events = announced()
    if expected is None:
        assert events == []
        return
    [event] = events
    assert event["type"] == expected
    assert event["data"]["survey"] == {"response_id": response.pk, "kind": kind, "score": score,
                                       "category": response.category}


def test_an_amended_answer_is_announced_again_only_when_its_category_changes(customer):
    subscribe(HOOK, events=["survey.detractor", "survey.promoter"])
    invitation = InvitationFactory(survey=SurveyFactory(), contact__customer=customer)
    response_record(invitation=invitation, score=3)
    response_record(invitation=invitation, score=4, comment="Slow support")
    response_record(invitation=invitation, score=10)
    assert [event["type"] for event in announced()] == ["survey.detractor", "survey.promoter"]


def test_a_band_at_risk_and_back_is_announced_by_the_health_code(customer, alice, maria):
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Renewal", outcome="reached")
    health_recompute(customer_id=customer.pk)  # as the signal does once the call commits: healthy
    subscribe(HOOK, events=["customer.at_risk", "customer.recovered"])
    expires = timezone.localdate() + datetime.timedelta(days=30)
    override_set(customer=customer, user=maria, score=10, comment="Lost their champion", expires_on=expires)
    override_end(customer=customer, user=maria)

    at_risk, recovered = announced()
    assert at_risk["type"] == "customer.at_risk"
    assert at_risk["data"]["health"]["band"] == "at_risk"
    assert at_risk["data"]["customer"]["health_score"] == 10
    assert recovered["type"] == "customer.recovered"
    assert recovered["data"]["health"]["previous_band"] == "at_risk"
    assert recovered["data"]["health"]["band"] == "healthy"


def test_a_breached_complaint_is_announced_once_by_the_scan(customer, alice):
    subscribe(HOOK, events=["complaint.breached"])
    late = complaint_open(customer=customer, user=alice, summary="Late delivery", severity="critical")
    resolved = complaint_open(customer=customer, user=alice, summary="Wrong invoice", severity="critical")
    complaint_acknowledge(complaint=resolved, user=alice)
    complaint_resolve(complaint=resolved, user=alice, resolution_notes="Refunded")

    assert complaint_breaches_announce() == 0  # not due yet
    with time_machine.travel(late.resolution_due_at + datetime.timedelta(minutes=3)):
        assert complaint_breaches_announce() == 1
        assert complaint_breaches_announce() == 0  # a second scan (or scheduler) finds it taken
    [event] = announced()
    assert event["type"] == "complaint.breached" and event["data"]["complaint"]["id"] == late.pk


def test_the_breach_scan_reads_nothing_while_nobody_subscribes(django_assert_num_queries):
    subscriptions()  # the table cached, as between two scans
    with django_assert_num_queries(0):
        assert complaint_breaches_announce() == 0


def answer_queries(customer, django_assert_max_num_queries):
    """The queries of a detractor's first answer, the path that announces."""
    invitation = InvitationFactory(survey=SurveyFactory(), contact__customer=customer)
    with django_assert_max_num_queries(100) as counted:
        response_record(invitation=invitation, score=2)
    return len(counted.captured_queries)


def test_announcing_to_nobody_adds_no_query_to_the_survey_answer(customer, django_assert_max_num_queries):
    subscribe(HOOK, events=["complaint.opened"])  # someone listens, not to answers
    subscriptions()  # cached, as on a busy server
    customer_event.disconnect(dispatch_uid="retention.webhooks.announce")
    try:
        without_webhooks = answer_queries(customer, django_assert_max_num_queries)
    finally:
        customer_event.connect(on_customer_event, dispatch_uid="retention.webhooks.announce")
    with_webhooks = answer_queries(customer, django_assert_max_num_queries)

    assert with_webhooks == without_webhooks
    assert not Event.objects.exists()
