"""
Purchases, touchpoints, promises, complaints, survey answers and health through the API: the same
effects as on the pages (value, follow-ups, the check-in clock, health), bulk requests all or
nothing, and repeats by order number adding nothing.
"""

import datetime
from decimal import Decimal

import pytest

from customers.models import Customer, CustomerChange, Purchase
from customers.tests.factories import ContactFactory, CustomerFactory, PurchaseFactory
from touchpoints.messaging.scans import programs_scan
from touchpoints.models import Complaint, OutboxMessage, Program, Promise, Touchpoint
from touchpoints.tests.factories import ComplaintFactory, PromiseFactory
from touchpoints.tests.program_customers import DAY, customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Acme")


def purchase(customer, n, **fields):
    return {"customer": customer.pk, "external_id": f"order-{n}", "date": "2026-01-05",
            "amount": "100.00", "description": f"Order {n}", **fields}


def test_a_purchase_sets_the_value_and_a_repeat_by_order_number_updates_it(api_as, alice, acme):
    client = api_as(alice)
    first = client.post("/api/v1/purchases/", purchase(acme, 1), format="json")
    assert first.status_code == 201, first.json()
    acme.refresh_from_db()
    assert acme.lifetime_value == Decimal("100.00")
    again = client.post("/api/v1/purchases/", purchase(acme, 1, amount="120.00"), format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    acme.refresh_from_db()
    assert Purchase.objects.count() == 1 and acme.lifetime_value == Decimal("120.00")
    history = CustomerChange.objects.filter(customer=acme, field="purchase").count()
    client.post("/api/v1/purchases/", purchase(acme, 1, amount="120.00"), format="json")
    assert CustomerChange.objects.filter(customer=acme, field="purchase").count() == history


def test_a_purchase_is_checked_as_on_the_page(api_as, alice, acme, charlie, south):
    client = api_as(alice)
    answer = client.post("/api/v1/purchases/", purchase(acme, 1, amount="0.00", date="2100-01-01"),
                         format="json")
    assert answer.status_code == 400
    assert answer.json() == {"date": ["A purchase cannot be in the future."],
                             "amount": ["The amount must be more than zero."]}
    theirs = CustomerFactory(team=south, owner=charlie)
    answer = client.post("/api/v1/purchases/", purchase(theirs, 2), format="json")
    assert answer.status_code == 400
    assert answer.json() == {"customer": ["No customer you can see has this id."]}
    assert not Purchase.objects.exists()


@pytest.mark.usefixtures("program_mail", "on_scan_day")
def test_an_api_purchase_brings_the_same_follow_up_as_one_typed_in(api_as, alice, north, client):
    Program.objects.filter(key="post_purchase").update(days=3)
    typed, synced = customer(north, alice, name="Typed"), customer(north, alice, name="Synced",
                                                                     email="sam@example.com")
    bought = (DAY - datetime.timedelta(days=3)).isoformat()
    client.force_login(alice)
    page = client.post(f"/customers/{typed.pk}/purchases/new/", {
        "purchase-date": bought, "purchase-amount": "50", "purchase-description": "a blue widget"})
    assert page.status_code == 302
    api = api_as(alice).post("/api/v1/purchases/", {"customer": synced.pk, "date": bought, "amount": "50",
                                                    "description": "a blue widget"}, format="json")
    assert api.status_code == 201

    programs_scan(on_date=DAY)

    messages = OutboxMessage.objects.filter(program="post_purchase")
    assert sorted(m.to for m in messages) == ["dana@example.com", "sam@example.com"]
    assert {m.body_text.count("a blue widget") for m in messages} == {1}


def test_bulk_purchases_are_all_or_nothing_with_each_items_problems(api_as, alice, acme):
    items = [purchase(acme, n) for n in range(5)]
    items[1]["amount"] = "-3"
    items[3]["customer"] = 999_999
    items[4]["external_id"] = "order-0"
    answer = api_as(alice).post("/api/v1/purchases/bulk/", items, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"items": {
        "1": {"amount": ["The amount must be more than zero."]},
        "3": {"customer": ["No customer you can see has this id."]},
        "4": {"external_id": ["Item 0 of this request has the same order number."]},
    }}
    assert not Purchase.objects.exists()


def test_a_bulk_request_repeated_adds_nothing_and_runs_a_bounded_number_of_queries(
        api_as, alice, north, django_assert_max_num_queries):
    customers = [CustomerFactory(team=north, owner=alice) for _ in range(20)]
    items = [purchase(customers[n % 20], n) for n in range(200)]
    client = api_as(alice)
    with django_assert_max_num_queries(25):
        first = client.post("/api/v1/purchases/bulk/", items, format="json")
    assert first.status_code == 200 and first.json()["created"] == 200
    assert Customer.objects.filter(health_stale=True).count() == 20
    assert Customer.objects.get(pk=customers[0].pk).lifetime_value == Decimal("1000.00")
    again = client.post("/api/v1/purchases/bulk/", items, format="json").json()
    assert (again["created"], again["updated"]) == (0, 0) and again["ids"] == first.json()["ids"]
    assert Purchase.objects.count() == 200


def test_an_order_of_another_customer_is_refused(api_as, alice, acme, north):
    other = CustomerFactory(team=north)
    PurchaseFactory(customer=other, external_id="order-1")
    answer = api_as(alice).post("/api/v1/purchases/bulk/", [purchase(acme, 1)], format="json")
    assert answer.json() == {
        "items": {"0": {"external_id": ["This order is a purchase of another customer."]}}}


def test_bulk_refuses_an_empty_or_oversized_request(api_as, alice, acme):
    client = api_as(alice)
    assert client.post("/api/v1/purchases/bulk/", [], format="json").status_code == 400
    answer = client.post("/api/v1/purchases/bulk/", [purchase(acme, n) for n in range(1001)], format="json")
    assert answer.json() == {"non_field_errors": ["At most 1,000 items a request; this one has 1,001."]}


def test_a_touchpoint_resets_the_checkin_clock_and_bulk_ones_are_all_or_nothing(api_as, alice, acme):
    contact = ContactFactory(customer=acme)
    client = api_as(alice)
    answer = client.post("/api/v1/touchpoints/", {"customer": acme.pk, "summary": "Renewal call",
                                                  "kind": "call", "contacts": [contact.pk]}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["contacts"] == [contact.pk] and answer.json()["author"] == "alice"
    acme.refresh_from_db()
    assert acme.last_contacted_at is not None

    items = [{"customer": acme.pk, "summary": f"Visit {n}", "kind": "meeting"} for n in range(3)]
    items[2]["happened_at"] = "2100-01-01T10:00:00Z"
    refused = client.post("/api/v1/touchpoints/bulk/", items, format="json")
    assert refused.json() == {"items": {"2": {"happened_at": ["A touchpoint cannot be in the future."]}}}
    assert Touchpoint.objects.count() == 1
    del items[2]["happened_at"]
    Customer.objects.filter(pk=acme.pk).update(health_stale=False)
    created = client.post("/api/v1/touchpoints/bulk/", items, format="json").json()
    assert created["created"] == 3 and Touchpoint.objects.count() == 4
    # Marked for the minute's sweep, not recomputed once a touchpoint.
    assert Customer.objects.get(pk=acme.pk).health_stale


def test_a_promise_closes_once(api_as, alice, acme):
    client = api_as(alice)
    due = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    made = client.post("/api/v1/promises/", {"customer": acme.pk, "description": "Send the quote",
                                             "due_on": due}, format="json")
    assert made.status_code == 201 and made.json()["owner"] == "alice"
    url = f"/api/v1/promises/{made.json()['id']}/close/"
    assert client.post(url, {"status": "broken"}, format="json").json()["status"] == "broken"
    again = client.post(url, {"status": "kept"}, format="json")
    assert again.status_code == 409
    assert again.json() == {"detail": "This promise is already broken: only an open promise can be closed."}
    assert Promise.objects.get().status == "broken"


def test_a_complaint_moves_along_its_path_and_refuses_a_skipped_step(api_as, alice, acme):
    client = api_as(alice)
    opened = client.post("/api/v1/complaints/", {"customer": acme.pk, "summary": "Late delivery",
                                                 "severity": "high"}, format="json")
    assert opened.status_code == 201, opened.json()
    url = f"/api/v1/complaints/{opened.json()['id']}/"
    skipped = client.post(url + "resolve/", {"resolution_notes": "Refunded"}, format="json")
    assert skipped.status_code == 409
    assert client.post(url + "acknowledge/").json()["status"] == "acknowledged"
    assert client.post(url + "resolve/", {"resolution_notes": "Refunded"}, format="json").json()[
        "status"] == "resolved"
    assert Complaint.objects.get().handled_by == alice


def test_every_resource_lists_only_what_the_user_sees(api_as, alice, charlie, maria, acme, south):
    theirs = CustomerFactory(team=south, owner=charlie)
    for owner in (acme, theirs):
        PurchaseFactory(customer=owner)
        PromiseFactory(customer=owner)
        ComplaintFactory(customer=owner)
    for resource in ("purchases", "promises", "complaints", "health"):
        def ids(user, resource=resource):
            rows = api_as(user).get(f"/api/v1/{resource}/").json()["results"]
            return {row.get("customer") for row in rows}

        assert ids(alice) == {acme.pk}, resource
        assert ids(charlie) == {theirs.pk}, resource
        assert ids(maria) == {acme.pk, theirs.pk}, resource
    assert api_as(alice).get(f"/api/v1/health/{theirs.pk}/").status_code == 404


def test_health_comes_with_its_factors(api_as, alice, acme):
    Customer.objects.filter(pk=acme.pk).update(health_score=35, health_band="at_risk",
                                               health_factors={"recency": {"score": 10, "weight": 30}})
    health = api_as(alice).get(f"/api/v1/health/{acme.pk}/").json()
    assert health == {"customer": acme.pk, "name": "Acme", "score": 35, "band": "at_risk",
                      "factors": {"recency": {"score": 10, "weight": 30}}, "computed_at": None}
    rows = api_as(alice).get("/api/v1/health/", {"band": "healthy"}).json()["results"]
    assert rows == []


def test_key_dates_are_added_changed_and_removed_as_on_the_customer_page(api_as, alice, acme, charlie, south):
    from customers.models import KeyDate

    client = api_as(alice)
    contact = ContactFactory(customer=acme, name="Ann")
    stranger = ContactFactory(customer=CustomerFactory(team=acme.team))
    refused = client.post("/api/v1/key-dates/", {"customer": acme.pk, "name": "Wedding anniversary",
                                                 "date": "2015-06-20", "contact": stranger.pk}, format="json")
    assert refused.status_code == 400 and list(refused.json()) == ["contact"]
    made = client.post("/api/v1/key-dates/", {"customer": acme.pk, "name": "Wedding anniversary",
                                               "date": "2015-06-20", "contact": contact.pk}, format="json")
    assert made.status_code == 201 and made.json()["recurrence"] == "yearly"
    url = f"/api/v1/key-dates/{made.json()['id']}/"
    assert client.patch(url, {"name": "Silver wedding"}, format="json").json()["name"] == "Silver wedding"
    assert client.get(f"/api/v1/customers/{acme.pk}/").json()["key_dates"][0]["name"] == "Silver wedding"
    assert api_as(charlie).delete(url).status_code == 404
    assert client.delete(url).status_code == 204
    assert not KeyDate.objects.exists()
