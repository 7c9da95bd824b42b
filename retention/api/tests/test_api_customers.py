"""
Customers through the API: the visibility rule of the pages, the pages' validation with their
messages, upsert by external id without duplicates, and 409 for an update based on an old version.
"""

import pytest

from customers.models import Customer
from customers.tests.factories import ContactFactory, CustomerFactory, KeyDateFactory

pytestmark = pytest.mark.django_db


def test_list_and_detail_show_what_the_user_sees_in_the_browser(api_as, alice, charlie, maria,
                                                                  admin_user, north, south):
    mine = CustomerFactory(team=north, owner=alice, name="Acme")
    ContactFactory(customer=mine, name="Ann Example", email="ann@acme.example")
    KeyDateFactory(customer=mine, name="Founding day")
    theirs = CustomerFactory(team=south, owner=charlie, name="Southwind")

    def listed(user):
        return {row["name"] for row in api_as(user).get("/api/v1/customers/").json()["results"]}

    assert listed(alice) == {"Acme"}
    assert listed(charlie) == {"Southwind"}
    assert listed(maria) == listed(admin_user) == {"Acme", "Southwind"}

    detail = api_as(alice).get(f"/api/v1/customers/{mine.pk}/").json()
    assert detail["contacts"][0]["email"] == "ann@acme.example"
    assert detail["key_dates"][0]["name"] == "Founding day"
    assert detail["owner"] == "alice" and detail["team_name"] == "North"
    assert detail["url"].endswith(f"/customers/{mine.pk}/")

    answer = api_as(alice).get(f"/api/v1/customers/{theirs.pk}/")
    assert answer.status_code == 404 and answer.json() == {"detail": "No Customer matches the given query."}


def test_the_list_takes_the_pages_filters(api_as, alice, north):
    CustomerFactory(team=north, name="Acme", status="active")
    CustomerFactory(team=north, name="Brightside", status="prospect")
    rows = api_as(alice).get("/api/v1/customers/", {"status": "prospect"}).json()["results"]
    assert [row["name"] for row in rows] == ["Brightside"]
    rows = api_as(alice).get("/api/v1/customers/", {"q": "acm"}).json()["results"]
    assert [row["name"] for row in rows] == ["Acme"]


def test_the_list_pages_with_a_cursor_through_every_customer(api_as, alice, north):
    names = {f"Customer {n:02d}" for n in range(7)}
    for name in names:
        CustomerFactory(team=north, name=name)
    client, seen, url = api_as(alice), [], "/api/v1/customers/?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [row["name"] for row in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(names)


def test_the_list_runs_the_same_queries_for_few_customers_as_for_many(
        api_as, alice, north, django_assert_max_num_queries):
    client = api_as(alice)
    for n in range(3):
        ContactFactory(customer=CustomerFactory(team=north, name=f"Few {n}"))
    with django_assert_max_num_queries(12) as few:
        client.get("/api/v1/customers/")
    for n in range(40):
        ContactFactory(customer=CustomerFactory(team=north, name=f"Many {n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/customers/").json()["results"]) == 43


def test_create_follows_the_form_rules_with_their_messages(api_as, alice, north):
    client = api_as(alice)
    answer = client.post("/api/v1/customers/", {"name": "Acme", "team": north.pk, "timezone": "Mars/Olympus"},
                         format="json")
    assert answer.status_code == 400
    assert answer.json() == {"timezone": ["Not a known time zone; use an IANA name such as Europe/Berlin."]}
    answer = client.post("/api/v1/customers/", {"name": "Acme", "team": north.pk, "status": "churned"},
                         format="json")
    assert answer.status_code == 400 and answer.json() == {"churn_reason": ["Say why the customer churned."]}
    assert not Customer.objects.exists()

    answer = client.post("/api/v1/customers/", {"name": "Acme", "team": north.pk, "tags": ["vip", "renewal"]},
                         format="json")
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert created["owner"] == "alice" and sorted(created["tags"]) == ["renewal", "vip"]
    assert created["cadence_days"] == 30 and created["status"] == "active"


def test_another_teams_team_is_refused(api_as, alice, north, south):
    answer = api_as(alice).post("/api/v1/customers/", {"name": "Acme", "team": south.pk}, format="json")
    assert answer.status_code == 400 and "team" in answer.json()
    assert not Customer.objects.exists()


def test_a_post_naming_an_external_id_on_file_updates_instead_of_duplicating(api_as, alice, north):
    client = api_as(alice)
    first = client.post("/api/v1/customers/", {"name": "Acme", "team": north.pk, "external_id": "shop-7"},
                        format="json")
    again = client.post("/api/v1/customers/", {"name": "Acme Ltd", "team": north.pk, "external_id": "shop-7"},
                        format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Customer.objects.get().name == "Acme Ltd"


def test_put_by_external_id_creates_then_updates(api_as, alice, north):
    client = api_as(alice)
    url = "/api/v1/customers/external/crm-42/"
    created = client.put(url, {"name": "Acme", "team": north.pk}, format="json")
    assert created.status_code == 201 and created.json()["external_id"] == "crm-42"
    updated = client.put(url, {"cadence_days": 14}, format="json")
    assert updated.status_code == 200, updated.json()
    assert Customer.objects.count() == 1
    customer = Customer.objects.get()
    assert (customer.name, customer.cadence_days) == ("Acme", 14)
    assert client.get(url).json()["id"] == customer.pk


def test_an_update_based_on_an_old_version_gets_409_and_changes_nothing(api_as, alice, bob, north):
    customer = CustomerFactory(team=north, name="Acme")
    version = api_as(alice).get(f"/api/v1/customers/{customer.pk}/").json()["version"]
    saved = api_as(bob).patch(f"/api/v1/customers/{customer.pk}/", {"needs": "Faster delivery",
                                                                    "version": version}, format="json")
    assert saved.status_code == 200 and saved.json()["version"] == version + 1
    stale = api_as(alice).patch(f"/api/v1/customers/{customer.pk}/", {"needs": "Cheaper",
                                                                      "version": version}, format="json")
    assert stale.status_code == 409
    assert stale.json()["changes"][0]["field"] == "needs"
    customer.refresh_from_db()
    assert customer.needs == "Faster delivery"


def test_errors_are_json_with_the_right_status(api_as, alice, north, client):
    assert client.get("/api/v1/customers/").status_code == 401
    bad = api_as(alice).post("/api/v1/customers/", "not json", content_type="application/json")
    assert bad.status_code == 400 and "detail" in bad.json()
    assert api_as(alice).get("/api/v1/customers/abc/").status_code == 404
    assert api_as(alice).delete(f"/api/v1/customers/{CustomerFactory(team=north).pk}/").status_code == 405


def test_requests_over_the_tokens_limit_get_429(api_as, alice, north, settings, fresh_rate_counters):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    client = api_as(alice)
    statuses = [client.get("/api/v1/customers/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_the_docs_are_a_page_of_the_site_read_from_the_schema(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    for resource in ("Customers", "Purchases", "Touchpoints", "Promises", "Complaints", "Survey responses",
                     "Health", "Contacts"):
        assert f">{resource}</h2>" in text, resource
    assert "/api/v1/purchases/bulk/" in text and "a list of up to 1,000 of these" in text
    assert "<code>X-Retention-Signature</code>" in text and "def verify(secret, headers, body" in text
    assert client.get("/api/schema/?format=json").json()["info"]["title"] == "Retention API"
