"""
Storing the health score: the nightly scan leaves every customer exactly as the one-customer
recompute does, on a varied book built through the services; snapshots on change only; saves;
the recompute when something happens to a customer; overrides and their expiry.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Contact, Customer
from customers.services import (
    contact_save,
    contact_unsubscribe,
    customer_create,
    customer_update,
    purchase_add,
)
from retention.health.nightly import health_scan_start, health_slice
from retention.health.overrides import override_set
from retention.health.recompute import health_recompute, health_scan, health_sweep
from retention.models import BookDay, HealthOverride, HealthScan, HealthSnapshot
from surveys.models import Invitation, Response
from surveys.services import invitation_create, response_record
from surveys.tests.factories import SurveyFactory
from touchpoints.services import (
    complaint_acknowledge,
    complaint_open,
    promise_close,
    promise_create,
    touchpoint_log,
)

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def ago(days, hours=0):
    return NOW - datetime.timedelta(days=days, hours=hours)


def new(alice, north, name, **fields):
    fields.setdefault("customer_since", TODAY - datetime.timedelta(days=400))
    fields.setdefault("timezone", "UTC")
    return customer_create(user=alice, team=north, name=name, owner=alice, **fields)


def answer(customer, contact, score, days, survey, comment=""):
    invitation = invitation_create(survey=survey, customer=customer, contact=contact)
    response = response_record(invitation=invitation, score=score, comment=comment)
    Response.objects.filter(pk=response.pk).update(created_at=ago(days))
    Invitation.objects.filter(pk=invitation.pk).update(created_at=ago(days + 1), answered_at=ago(days))


def contact_of(customer, name="Olga", email="olga@example.com"):
    return contact_save(contact=Contact(customer=customer, name=name, email=email), make_primary=True)


@pytest.fixture
def varied_book(alice, bob, maria, north, south, charlie):
    """A book where every factor, and the lack of each, turns up somewhere."""
    nps = SurveyFactory(name="NPS", kind="nps")
    csat = SurveyFactory(name="CSAT", kind="csat", question="How satisfied are you?")
    book = {}
    book["unknown"] = new(alice, north, "Nothing Known", customer_since=None)
    fresh = book["fresh"] = new(alice, north, "Fresh Contact")
    touchpoint_log(customer=fresh, user=alice, kind="call", summary="Hello", happened_at=ago(3))
    unhappy = book["unhappy"] = new(alice, north, "Unhappy Detractor")
    olga = contact_of(unhappy)
    touchpoint_log(customer=unhappy, user=alice, kind="meeting", summary="Review", happened_at=ago(70))
    answer(unhappy, olga, 9, 200, nps)
    answer(unhappy, olga, 3, 20, nps, "support too slow")
    complaining = book["complaining"] = new(bob, north, "Complaining Co")
    touchpoint_log(customer=complaining, user=bob, kind="call", summary="Call", happened_at=ago(10))
    breached = complaint_open(customer=complaining, user=bob, summary="Invoice twice", severity="high",
                              opened_at=ago(5))
    complaint_acknowledge(complaint=breached, user=bob)
    complaint_open(customer=complaining, user=bob, summary="Late", severity="low", opened_at=ago(1))
    promising = book["promising"] = new(alice, north, "Promises Ltd")
    promise_create(customer=promising, user=alice, description="Send revised quote",
                   due_on=TODAY - datetime.timedelta(days=5))
    broken = promise_create(customer=promising, user=alice, description="Call back",
                            due_on=TODAY - datetime.timedelta(days=30))
    promise_close(promise=broken, user=alice, status="broken")
    buying = book["buying"] = new(alice, north, "Buying Less")
    touchpoint_log(customer=buying, user=alice, kind="visit", summary="Visit", happened_at=ago(50))
    for days, amount in [(20, "400"), (120, "1000"), (160, "900"), (300, "700")]:
        purchase_add(customer=buying, user=alice, date=TODAY - datetime.timedelta(days=days),
                     amount=Decimal(amount))
    quiet = book["quiet"] = new(alice, north, "Quiet Unsubscribed")
    for n in range(2):
        contact_unsubscribe(contact=contact_of(quiet, f"C{n}", f"c{n}@quiet.example"))
    ignored = invitation_create(survey=csat, customer=quiet, contact=None)
    Invitation.objects.filter(pk=ignored.pk).update(created_at=ago(60), expires_at=ago(30))
    touchpoint_log(customer=quiet, user=alice, kind="email", summary="Asked us", direction="inbound",
                   happened_at=ago(10))
    satisfied = book["satisfied"] = new(charlie, south, "CSAT Satisfied", timezone="Pacific/Auckland")
    answer(satisfied, contact_of(satisfied, "Sam", "sam@csat.example"), 5, 4, csat, "great")
    touchpoint_log(customer=satisfied, user=charlie, kind="call", summary="Late call",
                   happened_at=ago(30, hours=-11))  # the evening before in Auckland: 30 days local
    overridden = book["overridden"] = new(alice, north, "Overridden")
    touchpoint_log(customer=overridden, user=alice, kind="call", summary="Long ago", happened_at=ago(200))
    override_set(customer=overridden, user=maria, score=80, comment="Renewed for three years",
                 expires_on=TODAY + datetime.timedelta(days=30))
    churned = book["churned"] = new(alice, north, "Gone Churned")
    touchpoint_log(customer=churned, user=alice, kind="call", summary="Bye", happened_at=ago(2))
    health_recompute(customer_id=churned.pk)
    customer_update(customer=Customer.objects.get(pk=churned.pk), user=alice, version=1,
                    data={"status": "churned", "churn_reason": "Moved to a competitor"})
    book["prospect"] = new(alice, north, "Just A Prospect", status="prospect")
    return book


FIELDS = ("health_score", "health_band", "health_factors")


def stored(book):
    return {name: Customer.objects.filter(pk=c.pk).values(*FIELDS).get() for name, c in book.items()}


def snapshots():
    return sorted(HealthSnapshot.objects.values_list("customer_id", "date", "score", "band",
                                                     "previous_band", "saved"))


def forget_health():
    Customer.objects.update(health_score=None, health_band="", health_factors={}, health_computed_at=None)
    HealthSnapshot.objects.all().delete()


def test_the_scan_stores_what_the_one_customer_recompute_stores(varied_book):
    forget_health()
    for customer in varied_book.values():
        health_recompute(customer_id=customer.pk)
    one_by_one, one_by_one_snapshots = stored(varied_book), snapshots()

    forget_health()
    report = health_scan(batch_size=3)  # batches of three ids: rows meet across batch edges

    assert stored(varied_book) == one_by_one
    assert snapshots() == one_by_one_snapshots
    assert report.scored == 9  # all but the churned customer and the prospect
    # The book is as varied as meant: every factor known somewhere, missing somewhere.
    factors = {name: (row["health_factors"] or {}).get("factors", {}) for name, row in one_by_one.items()}
    for key in ("recency", "survey", "complaints", "promises", "purchases", "engagement"):
        known = {name for name, f in factors.items() if (f.get(key) or {}).get("score") is not None}
        assert known and known != set(factors), key
    assert one_by_one["unknown"]["health_score"] is None
    assert one_by_one["churned"] == {"health_score": None, "health_band": "", "health_factors": {}}
    assert one_by_one["overridden"]["health_score"] == 80
    assert {row["health_band"] for row in one_by_one.values()} == {"", "healthy", "watch", "at_risk"}, {
        name: (row["health_score"], row["health_band"]) for name, row in one_by_one.items()}


def test_the_scan_in_slices_for_the_workers_stores_the_same_and_the_last_slice_tallies_the_books(
        varied_book, django_capture_on_commit_callbacks):
    forget_health()
    for customer in varied_book.values():
        health_recompute(customer_id=customer.pk)
    one_by_one, one_by_one_snapshots = stored(varied_book), snapshots()
    forget_health()
    Customer.objects.filter(pk=varied_book["churned"].pk).update(health_score=77, health_band="healthy")

    with django_capture_on_commit_callbacks() as queued:  # what would go to the workers
        scan = health_scan_start(slice_ids=2)
    slices = [callback.args for callback in queued]
    ids = sorted(c.pk for c in varied_book.values())
    assert scan.slices == len(slices) == (ids[-1] - ids[0]) // 2 + 1
    assert [(low, high) for _, low, high in slices] == [
        (low, min(low + 2, ids[-1] + 1)) for low in range(ids[0], ids[-1] + 1, 2)]

    for done, (scan_id, low, high) in enumerate(reversed(slices), start=1):  # in any order
        assert not BookDay.objects.exists()  # the tally waits for every score
        health_slice(scan_id, low, high)
        scan.refresh_from_db()
        assert (scan.slices_done, scan.finished_at is None) == (done, done < len(slices))

    assert stored(varied_book) == one_by_one
    assert snapshots() == one_by_one_snapshots
    assert (scan.scored, scan.cleared) == (9, 1)
    assert BookDay.objects.filter(date=TODAY).exists()
    assert HealthScan.objects.get() == scan


def test_a_second_scan_writes_no_customer_whose_score_and_reasons_are_unchanged(varied_book):
    health_scan()

    with CaptureQueriesContext(connection) as captured:
        report = health_scan()  # the same facts at the same moment: every stored reading compares equal

    assert report.scored == 9 and report.snapshots == 0
    assert not [q for q in captured if q["sql"].lstrip().startswith("UPDATE") and "health_score" in q["sql"]]


def test_the_scan_clears_the_score_of_a_customer_who_left_the_program(varied_book):
    churned = varied_book["churned"]
    Customer.objects.filter(pk=churned.pk).update(health_score=77, health_band="healthy")
    report = health_scan()
    churned.refresh_from_db()
    assert (churned.health_score, churned.health_band, report.cleared) == (None, "", 1)


def test_a_snapshot_is_written_only_when_the_score_or_band_changes(alice, north):
    customer = new(alice, north, "Steady")
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Hi", happened_at=ago(1))
    health_recompute(customer_id=customer.pk)
    health_recompute(customer_id=customer.pk)
    health_scan()
    assert list(HealthSnapshot.objects.values_list("date", "score", "band", "previous_band")) == [
        (TODAY, 100, "healthy", "")]


def test_a_customer_back_to_healthy_from_at_risk_is_a_save(alice, north, time_machine):
    customer = new(alice, north, "Slipping Then Saved")
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Long ago", happened_at=ago(120))
    health_recompute(customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).health_band == "at_risk"

    time_machine.move_to(NOW + datetime.timedelta(days=3), tick=False)
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Saved it",
                   happened_at=timezone.now())
    health_recompute(customer_id=customer.pk)

    rows = list(HealthSnapshot.objects.order_by("date").values_list("band", "previous_band", "saved"))
    assert rows == [("at_risk", "", False), ("healthy", "at_risk", True)]


def test_logging_a_touchpoint_recomputes_the_score_at_once(alice, north, django_capture_on_commit_callbacks):
    customer = new(alice, north, "Called Today")
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Long ago", happened_at=ago(120))
    health_recompute(customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).health_band == "at_risk"

    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_log(customer=customer, user=alice, kind="call", summary="Caught up")

    customer.refresh_from_db()
    assert (customer.health_score, customer.health_band) == (100, "healthy")


def test_a_purchase_and_a_complaint_recompute_it_too(alice, north, django_capture_on_commit_callbacks):
    customer = new(alice, north, "Eventful")
    with django_capture_on_commit_callbacks(execute=True):
        complaint_open(customer=customer, user=alice, summary="Broken", severity="critical")
    customer.refresh_from_db()
    assert customer.health_factors["factors"]["complaints"]["score"] == 40
    with django_capture_on_commit_callbacks(execute=True):
        purchase_add(customer=customer, user=alice, date=TODAY, amount=Decimal("10"))
    customer.refresh_from_db()
    assert customer.health_factors["factors"]["purchases"]["score"] == 100


def test_a_survey_answer_marks_the_score_stale_and_the_sweep_recomputes_it(alice, north,
                                                                          django_capture_on_commit_callbacks):
    customer = new(alice, north, "Answered From The Inbox")
    contact = contact_of(customer)
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Hello", happened_at=ago(2))
    health_recompute(customer_id=customer.pk)
    assert Customer.objects.get(pk=customer.pk).health_factors["factors"]["survey"]["score"] is None
    nps = SurveyFactory(name="NPS", kind="nps")

    # The answer's request recomputes nothing (and queues nothing): it marks the score stale.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response_record(invitation=invitation_create(survey=nps, customer=customer, contact=contact), score=1)
    assert callbacks == []
    customer.refresh_from_db()
    assert customer.health_stale
    assert customer.health_factors["factors"]["survey"]["score"] is None  # not yet

    report = health_sweep()

    customer.refresh_from_db()
    assert report.scored == 1 and not customer.health_stale
    assert customer.health_factors["factors"]["survey"]["score"] == 10  # NPS 1 of 10
    stored = (customer.health_score, customer.health_band, customer.health_factors)
    health_recompute(customer_id=customer.pk)  # the sweep stores what the one-customer recompute does
    customer.refresh_from_db()
    assert (customer.health_score, customer.health_band, customer.health_factors) == stored
    assert health_sweep().scored == 0  # nothing left for the next minute


def test_the_sweep_takes_every_stale_customer_in_batches_and_the_scan_clears_the_marks(alice, north):
    customers = [new(alice, north, f"Stale {n}") for n in range(5)]
    Customer.objects.filter(pk__in=[c.pk for c in customers[:3]]).update(health_stale=True)

    assert health_sweep(batch_size=2).scored == 3
    assert not Customer.objects.filter(health_stale=True).exists()

    Customer.objects.filter(pk=customers[4].pk).update(health_stale=True)
    health_scan()
    assert not Customer.objects.filter(health_stale=True).exists()  # the nightly scan did it


def test_the_sweep_is_scheduled_every_minute():
    from retention.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["retention.tasks.health_sweep_task"] == 60.0


def test_one_customer_costs_a_few_queries_however_much_history(alice, north, django_assert_max_num_queries):
    customer = new(alice, north, "Busy")
    for day in range(40):
        touchpoint_log(customer=customer, user=alice, kind="call", summary="Hi", happened_at=ago(day))
        purchase_add(customer=customer, user=alice, date=TODAY - datetime.timedelta(days=day),
                     amount=Decimal("5"))
    # The weights, the customer, one query per source (9), the UPDATE, the snapshot (2), savepoints.
    with django_assert_max_num_queries(17):
        health_recompute(customer_id=customer.pk)


# Overrides ---------------------------------------------------------------------------------------


def test_an_override_sets_the_score_until_it_expires_then_ends_by_itself(alice, maria, north, time_machine):
    customer = new(alice, north, "Renewed")
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Long ago", happened_at=ago(200))
    override_set(customer=customer, user=maria, score=85, comment="Signed for three years",
                 expires_on=TODAY + datetime.timedelta(days=2))
    customer.refresh_from_db()
    assert (customer.health_score, customer.health_band) == (85, "healthy")
    assert customer.health_factors["override"]["by"] == "Maria Manager"
    assert customer.health_factors["computed"] == 0

    time_machine.move_to(NOW + datetime.timedelta(days=1), tick=False)
    health_scan()
    customer.refresh_from_db()
    assert customer.health_score == 85  # still in force the day before it expires

    time_machine.move_to(NOW + datetime.timedelta(days=2), tick=False)
    report = health_scan()
    customer.refresh_from_db()
    assert (customer.health_score, customer.health_band) == (0, "at_risk")
    assert customer.health_factors["override"] is None
    override = HealthOverride.objects.get()
    assert (override.ended_reason, report.overrides_ended) == ("expired", 1)


def test_an_override_expired_is_ignored_even_before_the_scan_closes_it(alice, maria, north, time_machine):
    customer = new(alice, north, "Lapsed")
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Fine", happened_at=ago(1))
    override_set(customer=customer, user=maria, score=10, comment="Worried",
                 expires_on=TODAY + datetime.timedelta(days=1))
    time_machine.move_to(NOW + datetime.timedelta(days=1), tick=False)
    health_recompute(customer_id=customer.pk)
    customer.refresh_from_db()
    assert customer.health_score == 100  # the factors' again: contacted yesterday
    assert HealthOverride.objects.get().ended_at is None  # the scan closes it tonight
