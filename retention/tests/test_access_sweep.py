"""
The access sweep: every route, read from the URL resolver, keeps another team's objects and the
pages of a role to those who may see them.

- Every route that names an object by id (any ``<int:…>`` parameter) or a person by username
  answers 404 to an outsider from another team for every object and person of a team's book
  (built through the services), GET and POST, and changes nothing in the database.
- Every route whose view is marked ``@manager_required`` answers 404 to an account manager, and
  every route marked ``@admin_required`` to an account manager and to a manager, GET and POST,
  and changes nothing.

A new route is swept without anyone editing this file, and fails it, naming the route, if it
forgets the rule. Not swept: the public pages reached by a token (``/s/<token>/``, ``/u/<token>/``:
the token is the secret, tested in surveys/tests/test_answer.py and
customers/tests/test_unsubscribe.py) and the Django admin (``/admin/``: its own permissions).
"""

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client

from customers.access import ADMIN, MANAGER
from customers.models import Customer
from customers.tests.factories import UserFactory

from .routes import project_routes

pytestmark = pytest.mark.django_db

# What the database holds of the product; auth is included, sessions are not (logging in writes one).
TABLES_OF = ("auth", "customers", "touchpoints", "surveys", "api", "webhooks", "feeds")


def post_data(book):
    """What a form of any of the swept pages could be sent: enough to change something if let in."""
    return {
        "name": "Taken over", "summary": "Taken over", "description": "Taken over", "kind": "call",
        "outcome": "reached", "status": "broken", "severity": "low", "reason": "Taken over",
        "resolution_notes": "Taken over", "subject": "Taken over", "body": "Taken over",
        "action": "send", "contacts": [book["contact"].pk], "until": "2099-01-01",
        "due_on": "2099-01-01", "date": "2020-01-01", "amount": "1.00", "recurrence": "once",
        "opened_at": "2020-01-01T10:00", "happened_at": "2020-01-01T10:00", "enabled": "1",
        "email": "taken@example.com", "customers": ",".join(map(str, book["ids"])), "owner": "",
    }


def snapshot():
    """Every row of every table of the product, to compare before and after."""
    return {
        model._meta.db_table: list(model._base_manager.order_by("pk").values_list())
        for label in TABLES_OF
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }


def changed_tables(before, after):
    return sorted(table for table in before if before[table] != after[table])


def client_of(user):
    client = Client()
    client.force_login(user)
    return client


def swept_urls(route, book):
    """The route once for each id of the book (ids and usernames both, where it has both)."""
    kinds = set(route.parameters.values())
    if "int" in kinds:
        for pk in book["ids"]:
            yield route.url(**{name: pk if kind == "int" else "alice"
                               for name, kind in route.parameters.items()})
    elif route.parameters.get("username") == "str":
        for username in book["people"]:
            yield route.url(username=username)


def object_routes():
    return [
        route for route in project_routes()
        if "int" in route.parameters.values() or route.parameters.get("username") == "str"
    ]


@pytest.fixture
def sam(south):
    """A manager of South only: an outsider to North with every power a manager has."""
    sam = UserFactory(username="sam", first_name="Sam", last_name="South")
    south.managers.add(sam)
    return sam


@pytest.mark.parametrize("outsider", ["charlie", "sam"])
def test_every_route_to_an_object_answers_404_to_another_team_and_changes_nothing(
    request, book, admin_user, outsider
):
    routes = object_routes()
    assert {"customer_detail", "customers:edit", "touchpoints:edit", "touchpoints:meeting_notes",
            "customers:import_preview", "outbox_retry", "today_of"} <= {r.name for r in routes}
    as_outsider, as_admin = client_of(request.getfixturevalue(outsider)), client_of(admin_user)
    data = post_data(book)
    before = snapshot()

    answered, not_allowed = [], set()
    for route in routes:
        for url in swept_urls(route, book):
            for method in ("get", "post"):
                response = getattr(as_outsider, method)(url, data if method == "post" else None)
                if response.status_code == 405:
                    not_allowed.add((route, method))
                elif response.status_code != 404:
                    answered.append(f"{method.upper()} {url} ({route.name}): {response.status_code}")

    assert not answered, f"{outsider} of another team was answered:\n" + "\n".join(answered)
    assert not changed_tables(before, snapshot()), f"{outsider}'s requests changed these tables"
    assert not mail.outbox
    # A method the route never takes tells nothing about the object: the admin is refused it too.
    for route, method in sorted(not_allowed, key=lambda pair: (pair[0].path, pair[1])):
        url = next(swept_urls(route, book))
        assert getattr(as_admin, method)(url).status_code == 405, f"{method.upper()} {url} ({route.name})"


def test_the_sweep_reaches_every_page_it_sweeps(book, alice, admin_user):
    """Each swept page that shows something opens for someone of the team: the 404s are not for everyone."""
    insiders = [client_of(alice), client_of(admin_user)]
    unreached = []
    for route in object_routes():
        for url in swept_urls(route, book):
            statuses = {client.get(url).status_code for client in insiders}
            if statuses - {404} or statuses == {405}:  # opened, or a page that takes no GET
                break
        else:
            unreached.append(route.name)
    assert not unreached, "no one of the team could open: " + ", ".join(unreached)


def test_a_page_of_a_role_answers_404_to_anyone_without_it(book, alice, maria):
    routes = [route for route in project_routes() if route.role]
    assert {"records", "customers:reassign"} <= {r.name for r in routes}
    without = {MANAGER: [alice], ADMIN: [alice, maria]}
    data = post_data(book)
    clients = {user: client_of(user) for user in (alice, maria)}
    before = snapshot()

    answered = []
    for route in routes:
        urls = list(swept_urls(route, book)) or [route.example_url(book["ids"][0])]
        for user in without[route.role]:
            for url in urls:
                for method in ("get", "post"):
                    response = getattr(clients[user], method)(url, data if method == "post" else None)
                    if response.status_code != 404:
                        answered.append(f"{method.upper()} {url} ({route.name}, {route.role} only) "
                                        f"as {user.username}: {response.status_code}")

    assert not answered, "\n".join(answered)
    assert not changed_tables(before, snapshot())
    assert Customer.objects.get(name="Northwind").owner == alice
