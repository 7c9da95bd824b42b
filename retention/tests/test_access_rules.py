"""
Who a manager manages has one home, ``customers.access.managed_members``: whose Today they may
open, the people Today offers them, the rows of the records page and whom they may hand customers
to all come from it and must name the same people.
"""

import pytest
from django.http import Http404

from customers.access import managed_members, member_for_user
from customers.selectors import reassign_candidates
from customers.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def openable(viewer, people):
    """The people whose Today ``viewer`` may open."""
    found = set()
    for person in people:
        try:
            found.add(member_for_user(viewer, pk=str(person.pk)))
        except Http404:
            pass
    return found


@pytest.fixture
def people(alice, bob, charlie, maria, admin_user, nobody, north, south):
    gone = UserFactory(username="gone", is_active=False)
    north.members.add(gone)
    wes = UserFactory(username="wes")
    TeamFactory(name="West", members=[wes])
    sam = UserFactory(username="sam")
    south.managers.add(sam)
    return {"alice": alice, "bob": bob, "charlie": charlie, "maria": maria, "admin": admin_user,
            "nobody": nobody, "gone": gone, "wes": wes, "sam": sam}


@pytest.mark.parametrize("viewer, expected", [
    ("maria", {"alice", "bob", "charlie"}),
    ("sam", {"charlie"}),
    ("admin", {"alice", "bob", "charlie", "wes"}),
    ("alice", set()),
])
def test_whose_today_a_manager_may_open_is_whom_every_page_offers(client, people, viewer, expected):
    user = people[viewer]
    client.force_login(user)

    def names(users):
        return {u.username for u in users} - {user.username}

    assert names(openable(user, people.values())) == expected
    assert names(managed_members(user)) == expected
    assert names(reassign_candidates(user)) == expected
    assert names(client.get("/today/").context["team_members"]) == expected
    records = client.get("/records/")
    if expected:
        assert names(row["user"] for row in records.context["rows"]) == expected
    else:
        assert records.status_code == 404


def test_anyone_may_open_their_own_today_and_only_by_a_name_or_id_that_exists(alice, north):
    assert member_for_user(alice) == alice
    assert member_for_user(alice, username="alice") == alice
    assert member_for_user(alice, pk="") == alice
    for wrong in ({"pk": "abc"}, {"pk": "999999"}, {"username": "nobody-here"}):
        with pytest.raises(Http404):
            member_for_user(alice, **wrong)
