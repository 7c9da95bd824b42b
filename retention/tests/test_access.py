"""
Who can reach what: the URL sweeps for login and CSRF, and the visibility rule through the
customer's pages. (Other teams' objects and the pages of a role, route by route:
test_access_sweep.py.)

The sweeps walk the URL patterns themselves, so a new page cannot slip through without a login
or a CSRF check.
"""

import pytest
from django.test import Client

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.tests.factories import FollowUpFactory, TouchpointFactory

from .routes import project_routes

pytestmark = pytest.mark.django_db

# Pages anyone may open: the customer-facing ones, login and the health check.
PUBLIC = {"login", "healthz", "favicon", "unsubscribe", "surveys:answer", "password_reset",
          "password_reset_done", "password_reset_confirm", "password_reset_complete", "feeds:feed"}
# The API's schema and docs are public like any API's documentation; the data behind it is not.
PUBLIC |= {"api:schema", "api:docs"}
# RFC 8058 one-click unsubscribe is POSTed by mail clients without cookies: its token is the secret.
CSRF_EXEMPT = {"unsubscribe"}


def test_the_sweep_sees_the_pages():
    names = {route.name for route in project_routes()}
    assert {"today", "dashboard", "customer_detail", "customers:list", "touchpoints:new"} <= names


def test_anonymous_users_are_sent_to_login_everywhere_but_public_pages(client):
    for route in project_routes():
        if route.name in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(route.example_url(1))
            if route.path.startswith("api/v1/"):  # a program, not a person: 401, no login page
                assert response.status_code == 401, (method, route.path)
                assert response["WWW-Authenticate"] == 'Bearer realm="api"', (method, route.path)
                continue
            assert response.status_code == 302, (method, route.path)
            assert response["Location"].startswith("/accounts/login/"), (method, route.path)


def test_admin_asks_for_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_public_pages_answer_without_login(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/u/not-a-real-token/").status_code == 404
    assert client.get("/s/not-a-real-token/").status_code == 404


def test_every_post_is_refused_without_a_csrf_token(alice, north):
    customer = CustomerFactory(team=north, owner=alice)
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(alice)
    for route in project_routes():
        if route.name in CSRF_EXEMPT:
            continue
        response = csrf_client.post(route.example_url(customer.pk), {"summary": "x"})
        assert response.status_code in (403, 405), (route.path, response.status_code)
    login = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "alice"})
    assert login.status_code == 403


@pytest.fixture
def norths_things(north, alice):
    customer = CustomerFactory(team=north, owner=alice)
    return {
        "customer": customer,
        "contact": ContactFactory(customer=customer),
        "touchpoint": TouchpointFactory(customer=customer),
        "follow_up": FollowUpFactory(customer=customer),
    }


def customer_urls(things):
    c, contact, tp, fu = (things[k] for k in ("customer", "contact", "touchpoint", "follow_up"))
    return {
        "get": [f"/customers/{c.pk}/", f"/customers/{c.pk}/edit/", f"/customers/{c.pk}/contacts/new/",
                f"/customers/contacts/{contact.pk}/edit/", f"/touchpoints/{tp.pk}/edit/",
                f"/touchpoints/{tp.pk}/delete/"],
        "post": [f"/customers/{c.pk}/edit/", f"/customers/{c.pk}/archive/",
                 f"/customers/{c.pk}/restore/", f"/customers/{c.pk}/contacts/new/",
                 f"/customers/contacts/{contact.pk}/edit/", f"/touchpoints/customers/{c.pk}/log/",
                 f"/touchpoints/{tp.pk}/edit/", f"/touchpoints/{tp.pk}/delete/",
                 f"/touchpoints/follow-ups/{fu.pk}/close/"],
    }


def test_an_outsider_gets_404_on_every_page_and_action(client, charlie, south, norths_things):
    client.force_login(charlie)
    urls = customer_urls(norths_things)
    for url in urls["get"]:
        assert client.get(url).status_code == 404, url
    for url in urls["post"]:
        assert client.post(url, {"name": "Hijacked", "summary": "x", "kind": "call"}).status_code == 404, url

    customer = norths_things["customer"]
    customer.refresh_from_db()
    assert customer.name != "Hijacked" and customer.archived_at is None
    assert customer.touchpoints.count() == 1
    assert customer.follow_ups.open().count() == 1


def test_teammates_see_each_others_customers(client, bob, norths_things):
    client.force_login(bob)
    for url in customer_urls(norths_things)["get"]:
        assert client.get(url).status_code == 200, url


def test_a_manager_of_two_teams_sees_both(client, maria, north, south, alice, charlie):
    a = CustomerFactory(team=north, owner=alice, name="Northwind")
    b = CustomerFactory(team=south, owner=charlie, name="Southwind")
    client.force_login(maria)
    assert client.get(a.get_absolute_url()).status_code == 200
    assert client.get(b.get_absolute_url()).status_code == 200
    listing = client.get("/customers/").content.decode()
    assert "Northwind" in listing and "Southwind" in listing


def test_a_user_in_no_team_sees_no_customer(client, nobody, north, alice):
    customer = CustomerFactory(team=north, owner=alice, name="Northwind")
    client.force_login(nobody)
    assert client.get(customer.get_absolute_url()).status_code == 404
    assert "Northwind" not in client.get("/customers/").content.decode()
    assert "Northwind" not in client.get("/dashboard/").content.decode()


def test_an_admin_sees_every_customer(client, admin_user, north, alice):
    customer = CustomerFactory(team=north, owner=alice)
    client.force_login(admin_user)
    assert client.get(customer.get_absolute_url()).status_code == 200


def test_the_list_shows_only_visible_customers(client, charlie, south, north, alice):
    CustomerFactory(team=north, owner=alice, name="Northwind")
    CustomerFactory(team=south, owner=charlie, name="Southwind")
    client.force_login(charlie)
    listing = client.get("/customers/").content.decode()
    assert "Southwind" in listing and "Northwind" not in listing
