"""
Where people land: managers and admins on the dashboard, account managers on Today, ``next``
honoured; the navigation shows each role its pages; not-found and server errors are our pages.
"""

import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def login(client, user, **extra):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD, **extra})


@pytest.mark.parametrize("who, page", [("alice", "today"), ("maria", "dashboard"),
                                       ("admin_user", "dashboard")])
def test_it_lands_each_role_where_the_work_is(client, north, admin_user, request, who, page):
    user = request.getfixturevalue(who)
    assert login(client, user)["Location"] == reverse("home")
    assert client.get(reverse("home"))["Location"] == reverse(page)


def test_it_honours_next_after_login(client, north, maria):
    response = login(client, maria, next=reverse("customers:list"))
    assert response["Location"] == reverse("customers:list")


def nav_links(client, user):
    client.force_login(user)
    page = client.get(reverse("customers:list")).content.decode()
    return {name: f'href="{reverse(url)}"' in page for name, url in [
        ("Records", "records"), ("Outbox", "outbox"), ("Surveys", "surveys:results"),
        ("Programs", "programs"),
    ]}


def test_the_navigation_shows_each_role_what_it_may_use(client, north, alice, maria, admin_user):
    assert nav_links(client, alice) == {"Records": False, "Outbox": False, "Surveys": True,
                                        "Programs": False}
    assert nav_links(client, maria) == {"Records": True, "Outbox": True, "Surveys": True,
                                        "Programs": False}
    assert nav_links(client, admin_user) == {"Records": True, "Outbox": True, "Surveys": True,
                                             "Programs": True}


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


def test_an_unknown_url_answers_our_not_found_page(client, production, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()


def test_a_view_raising_not_found_answers_our_page(client, production, north, alice, charlie):
    client.force_login(charlie)  # of another team: alice's customer does not exist for him
    customer = CustomerFactory(team=north, owner=alice)
    response = client.get(reverse("customer_detail", args=[customer.pk]))
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()


def test_a_server_error_answers_our_page(client, production, north, alice, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("retention.views.today_lists", broken)
    client.raise_request_exception = False
    client.force_login(alice)
    response = client.get(reverse("today"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
