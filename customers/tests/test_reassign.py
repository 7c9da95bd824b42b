"""The list's bulk reassign: managers only, all or nothing, with history."""


import pytest

from customers.models import CustomerChange
from customers.tests.factories import CustomerFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_manager_reassigns_the_ticked_customers_with_history(client, maria, alice, bob, north):
    first = CustomerFactory(team=north, owner=alice, name="First")
    second = CustomerFactory(team=north, owner=None, name="Second")
    kept = CustomerFactory(team=north, owner=alice, name="Not ticked")
    client.force_login(maria)

    response = client.post("/customers/reassign/", {
        "customers": [first.pk, second.pk], "owner": bob.pk, "querystring": "status=active&page=1",
    })

    assert response.status_code == 302
    assert response["Location"] == "/customers/?status=active&page=1"
    for customer in (first, second, kept):
        customer.refresh_from_db()
    assert (first.owner, second.owner, kept.owner) == (bob, bob, alice)
    assert (first.version, second.version, kept.version) == (2, 2, 1)
    changes = CustomerChange.objects.filter(field="owner").order_by("customer__name")
    assert [(c.customer.name, c.user, c.old_value, c.new_value, c.version) for c in changes] == [
        ("First", maria, "alice", "bob", 2),
        ("Second", maria, "", "bob", 2),
    ]
    assert "2 customer(s) reassigned to Bob Baker" in client.get("/customers/").content.decode()


def test_an_account_manager_sees_no_bulk_controls_and_gets_404(client, alice, bob, north):
    customer = CustomerFactory(team=north, owner=alice)
    client.force_login(alice)
    page = client.get("/customers/").content.decode()
    assert "/customers/reassign/" not in page and 'name="customers"' not in page

    response = client.post("/customers/reassign/", {"customers": [customer.pk], "owner": bob.pk})
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.owner == alice and customer.version == 1


def test_an_owner_outside_a_customers_team_refuses_the_whole_action(
    client, maria, alice, charlie, north, south
):
    in_north = CustomerFactory(team=north, owner=None, name="North")
    in_south = CustomerFactory(team=south, owner=charlie, name="South")
    client.force_login(maria)

    response = client.post("/customers/reassign/", {"customers": [in_north.pk, in_south.pk],
                                                    "owner": alice.pk}, follow=True)

    in_north.refresh_from_db()
    in_south.refresh_from_db()
    assert (in_north.owner, in_south.owner) == (None, charlie)
    assert in_north.version == in_south.version == 1
    assert not CustomerChange.objects.filter(field="owner").exists()
    page = response.content.decode()
    assert "Alice Archer is not in South" in page and "Nothing was changed" in page


def test_customers_of_teams_the_manager_does_not_manage_are_untouched(
    client, alice, bob, charlie, north, south
):
    mona = UserFactory(username="mona")
    north.managers.add(mona)
    south.members.add(mona)  # she sees South's customers but does not manage them
    norths = CustomerFactory(team=north, owner=alice)
    souths = CustomerFactory(team=south, owner=charlie)
    client.force_login(mona)

    page = client.get("/customers/").content.decode()
    assert f'name="customers" value="{norths.pk}"' in page
    assert f'name="customers" value="{souths.pk}"' not in page

    client.post("/customers/reassign/", {"customers": [norths.pk, souths.pk], "owner": bob.pk})
    norths.refresh_from_db()
    souths.refresh_from_db()
    assert norths.owner == bob
    assert souths.owner == charlie and souths.version == 1


def test_an_outsiders_customers_cannot_be_reassigned_by_another_teams_manager(client, alice, bob, north):
    west = TeamFactory(name="West", members=[bob], managers=[UserFactory(username="wes")])
    hidden = CustomerFactory(team=north, owner=alice)
    client.force_login(west.managers.get())
    response = client.post("/customers/reassign/", {"customers": [hidden.pk], "owner": bob.pk}, follow=True)
    hidden.refresh_from_db()
    assert hidden.owner == alice
    assert "None of the ticked customers is in a team you manage" in response.content.decode()


def test_reassign_without_ticks_or_owner_says_what_is_missing(client, maria, bob, north):
    client.force_login(maria)
    response = client.post("/customers/reassign/", {"owner": bob.pk}, follow=True)
    assert "Tick the customers to reassign first." in response.content.decode()
    customer = CustomerFactory(team=north)
    response = client.post("/customers/reassign/", {"customers": [customer.pk]}, follow=True)
    assert "Choose the new owner." in response.content.decode()
