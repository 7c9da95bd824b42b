"""
The visibility rule read as a list of team ids: the same customers as the rule says, a team
change seen at once, and one read of the team ids per request however often a page asks.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Contact, Customer, Team
from customers.tests.factories import ContactFactory, CustomerFactory, TeamFactory, UserFactory
from touchpoints.models import Touchpoint
from touchpoints.tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def norths(north, alice):
    return CustomerFactory(team=north, owner=alice, name="North Ltd")


@pytest.fixture
def souths(south):
    return CustomerFactory(team=south, name="South Ltd")


def names(queryset):
    return sorted(c.name for c in queryset)


def test_it_shows_members_and_managers_their_teams_and_an_admin_everything(
    alice, charlie, maria, admin_user, nobody, norths, souths
):
    assert names(Customer.objects.visible_to(alice)) == ["North Ltd"]
    assert names(Customer.objects.visible_to(charlie)) == ["South Ltd"]
    assert names(Customer.objects.visible_to(maria)) == ["North Ltd", "South Ltd"]
    assert names(Customer.objects.visible_to(admin_user)) == ["North Ltd", "South Ltd"]
    assert names(Customer.objects.visible_to(nobody)) == []
    assert list(Team.objects.visible_to(alice).values_list("name", flat=True)) == ["North"]


def test_it_shows_nothing_to_an_inactive_user(alice, norths):
    alice.is_active = False
    assert not Customer.objects.visible_to(alice).exists()


def test_it_sees_a_team_change_at_once_on_the_same_user_object(alice, north, south, norths, souths):
    assert names(Customer.objects.visible_to(alice)) == ["North Ltd"]

    south.members.add(alice)
    assert names(Customer.objects.visible_to(alice)) == ["North Ltd", "South Ltd"]

    north.members.remove(alice)
    assert names(Customer.objects.visible_to(alice)) == ["South Ltd"]


def test_a_request_sees_the_teams_as_they_are_now(client, alice, south, souths):
    client.force_login(alice)
    assert souths.name not in client.get("/customers/").content.decode()

    south.members.add(alice)

    assert souths.name in client.get("/customers/").content.decode()
    assert client.get(souths.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("url", ["/customers/", "/customers/?q=Ltd&team=1", "/today/", "/dashboard/"])
def test_a_page_reads_the_team_ids_once(client, alice, norths, url):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    team_reads = [q for q in queries if 'FROM "customers_team" LEFT OUTER JOIN' in q["sql"]]
    assert len(team_reads) == 1


def test_what_belongs_to_a_customer_follows_the_same_rule(alice, charlie, maria, admin_user, nobody,
                                                          norths, souths):
    north_touch = TouchpointFactory(customer=norths)
    south_touch = TouchpointFactory(customer=souths)
    ContactFactory(customer=norths)

    def touchpoints(user):
        return set(Touchpoint.objects.visible_to(user))

    assert touchpoints(alice) == {north_touch}
    assert touchpoints(charlie) == {south_touch}
    assert touchpoints(maria) == touchpoints(admin_user) == {north_touch, south_touch}
    assert touchpoints(nobody) == set()


def test_another_teams_object_answers_404(client, alice, souths):
    contact = ContactFactory(customer=souths)
    client.force_login(alice)
    assert client.get(f"/customers/contacts/{contact.pk}/edit/").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_new_team_is_seen_by_its_new_member(client, norths):
    west = TeamFactory(name="West")
    wes = UserFactory(username="wes")
    westerner = CustomerFactory(team=west, name="West Ltd")
    client.force_login(wes)
    assert client.get(westerner.get_absolute_url()).status_code == 404

    west.members.add(wes)

    assert client.get(westerner.get_absolute_url()).status_code == 200
    assert client.get(norths.get_absolute_url()).status_code == 404
