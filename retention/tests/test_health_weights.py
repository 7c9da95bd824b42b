"""
The admin's weights and thresholds: the preview of how many customers a change moves between
bands is what saving then does; bad values are refused with a message and change nothing; only
admins reach the page. And a manager's override through its page.
"""

import datetime
from collections import Counter
from decimal import Decimal

import pytest

from customers.models import Customer
from customers.services import customer_create, purchase_add
from customers.tests.factories import UserFactory
from retention.health.recompute import health_recompute
from retention.models import HealthOverride, HealthScan, HealthWeights
from touchpoints.services import complaint_open, promise_create, touchpoint_log

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DEFAULTS = {"recency": 30, "survey": 20, "complaints": 15, "promises": 10, "purchases": 15,
            "engagement": 10, "watch_from": 40, "healthy_from": 70}


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def scored_book(alice, north):
    """Customers spread over the bands, scored with the default weights."""
    customers = []
    for n in range(12):
        customer = customer_create(user=alice, team=north, name=f"Customer {n}", owner=alice,
                                   customer_since=TODAY - datetime.timedelta(days=500), timezone="UTC")
        touchpoint_log(customer=customer, user=alice, kind="call", summary="Hi",
                       happened_at=NOW - datetime.timedelta(days=5 * n))
        if n % 3 == 0:
            complaint_open(customer=customer, user=alice, summary="Late", severity="high")
        if n % 4 == 1:
            promise_create(customer=customer, user=alice, description="Quote",
                           due_on=TODAY - datetime.timedelta(days=n))
        if n % 2:
            purchase_add(customer=customer, user=alice, date=TODAY - datetime.timedelta(days=10 * n),
                         amount=Decimal("100"))
        customers.append(customer)
    for customer in customers:
        health_recompute(customer_id=customer.pk)
    return customers


def bands():
    return dict(Customer.objects.values_list("pk", "health_band"))


def test_the_preview_counts_what_saving_then_moves(client, admin_user, scored_book,
                                                   django_capture_on_commit_callbacks):
    proposed = {**DEFAULTS, "recency": 5, "complaints": 40, "healthy_from": 60}
    before = bands()
    client.force_login(admin_user)

    preview = client.post("/health/weights/", {**proposed, "action": "preview"}).context["preview"]
    assert HealthWeights.objects.count() == 0  # nothing saved by a preview

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/health/weights/", {**proposed, "action": "save"})
    assert response.status_code == 302
    after = bands()
    moved = Counter((before[pk], after[pk]) for pk in before if before[pk] != after[pk])
    assert moved  # the change does move someone
    assert {(a, b): n for a, b, n in preview.moves} == dict(moved)
    assert preview.moved == sum(moved.values()) and preview.scored == 12
    assert [label for label, *_ in preview.by_change] == ["contact recency", "complaints", "healthy from"]
    saved = HealthWeights.objects.get()
    assert (saved.recency, saved.complaints, saved.healthy_from, saved.updated_by) == (5, 40, 60, admin_user)
    # The recompute ran on the workers (eagerly here), and the page says so.
    assert "Every score was last recomputed 10 Mar 2026, 12:00: 12 customers scored in 0 s." in " ".join(
        client.get("/health/weights/").content.decode().split())


@pytest.mark.parametrize(("started_ago", "words"), [
    (datetime.timedelta(minutes=1),
     "Every score is being recomputed: 3 of 10 parts done, 2,500 customers scored so far."),
    (datetime.timedelta(hours=2), "did not finish (3 of 10 parts done): a worker stopped."),
])
def test_the_weights_page_shows_a_recompute_under_way_or_stalled(client, admin_user, started_ago, words):
    HealthScan.objects.create(started_at=NOW - started_ago, slices=10, slices_done=3, scored=2_500)
    client.force_login(admin_user)
    assert words in " ".join(client.get("/health/weights/").content.decode().split())


def test_the_live_preview_answers_as_the_admin_types(client, admin_user, scored_book):
    client.force_login(admin_user)
    response = client.post("/health/weights/preview/", {**DEFAULTS, "watch_from": 69})
    assert response.status_code == 200
    assert "would change band" in response.content.decode()
    assert HealthWeights.objects.count() == 0


@pytest.mark.parametrize(("change", "message"), [
    ({"watch_from": 70}, "“Healthy from” must be above “watch from”."),
    ({"recency": 0, "survey": 0, "complaints": 0, "promises": 0, "purchases": 0, "engagement": 0},
     "Give at least one factor a weight above 0."),
    ({"survey": 101}, "Ensure this value is less than or equal to 100."),
    ({"survey": "many"}, "Enter a whole number."),
])
def test_bad_weights_are_refused_with_a_message_and_change_nothing(client, admin_user, scored_book,
                                                                    change, message):
    before = bands()
    client.force_login(admin_user)
    response = client.post("/health/weights/", {**DEFAULTS, **change, "action": "save"})
    assert response.status_code == 200
    assert message in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert HealthWeights.objects.count() == 0 and bands() == before


def test_only_admins_reach_the_weights(client, maria, alice, north):
    for user in (maria, alice):
        client.force_login(user)
        assert client.get("/health/weights/").status_code == 404
        assert client.post("/health/weights/", {**DEFAULTS, "action": "save"}).status_code == 404
    assert HealthWeights.objects.count() == 0


# Overrides through their page ------------------------------------------------------------------


def test_a_manager_overrides_a_score_and_removes_it(client, maria, alice, north):
    customer = customer_create(user=alice, team=north, name="Renewing", owner=alice,
                               customer_since=TODAY - datetime.timedelta(days=500), timezone="UTC")
    health_recompute(customer_id=customer.pk)
    client.force_login(maria)
    response = client.post(f"/customers/{customer.pk}/health/override/",
                           {"score": "90", "comment": "Signed for three years", "expires_on": "2026-04-01"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.health_score, customer.health_band) == (90, "healthy")
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Override by Maria Manager" in page and "Signed for three years" in page

    client.post(f"/customers/{customer.pk}/health/override/remove/")
    customer.refresh_from_db()
    assert customer.health_score == 0  # the factors' again: never contacted in 500 days
    assert HealthOverride.objects.get().ended_reason == "removed"


@pytest.mark.parametrize(("data", "message"), [
    ({"score": "120", "comment": "x", "expires_on": "2026-04-01"}, "less than or equal to 100"),
    ({"score": "50", "comment": "  ", "expires_on": "2026-04-01"}, "Say why"),
    ({"score": "50", "comment": "x", "expires_on": "2026-03-10"}, "Choose an expiry date after today."),
    ({"score": "50", "comment": "x", "expires_on": "2027-06-01"}, "An override lasts a year at most"),
])
def test_a_bad_override_is_refused_and_changes_nothing(client, maria, alice, north, data, message):
    customer = customer_create(user=alice, team=north, name="Unchanged", owner=alice, timezone="UTC")
    client.force_login(maria)
    response = client.post(f"/customers/{customer.pk}/health/override/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not HealthOverride.objects.exists()


def test_an_account_manager_cannot_override(client, alice, north):
    customer = customer_create(user=alice, team=north, name="Mine", owner=alice, timezone="UTC")
    client.force_login(alice)
    response = client.post(f"/customers/{customer.pk}/health/override/",
                           {"score": "90", "comment": "x", "expires_on": "2026-04-01"})
    assert response.status_code == 404 and not HealthOverride.objects.exists()


def test_the_override_link_is_offered_to_the_managers_of_the_customers_team_only(client, maria, alice,
                                                                               north, south, charlie):
    customer = customer_create(user=alice, team=north, name="Northern", owner=alice, timezone="UTC")
    sam = UserFactory(username="sam")
    south.managers.add(sam)
    north.members.add(sam)  # sees North's customers, manages only South
    link = f"/customers/{customer.pk}/health/override/"
    for user, offered in ((maria, True), (sam, False), (alice, False)):
        client.force_login(user)
        assert (link in client.get(f"/customers/{customer.pk}/").content.decode()) is offered, user
