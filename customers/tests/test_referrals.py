"""Referrals: who referred a customer (typed on the form), whom it referred, and the top referrers."""

from decimal import Decimal

import pytest

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from customers.tests.helpers import count_queries, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer(north):
    return CustomerFactory(team=north, name="Referrer Inc", external_id="R-1")


@pytest.mark.parametrize("typed", ["R-1", "Referrer Inc", "referrer inc"])
def test_referred_by_is_typed_as_an_external_id_or_exact_name(client, alice, north, referrer, typed):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by=typed))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.referred_by == referrer
    assert customer.changes.get(field="referred_by").new_value == "Referrer Inc"


@pytest.mark.parametrize(
    "typed, message",
    [
        ("Nobody Ltd", "No customer you can see has the external id or the name “Nobody Ltd”."),
        ("Twin", "More than one customer is called “Twin”; type its external id instead."),
        ("Southern", "No customer you can see has the external id or the name “Southern”."),
        ("SELF-1", "A customer cannot refer itself."),
    ],
)
def test_referred_by_refuses_what_it_cannot_resolve(client, alice, north, south, typed, message):
    CustomerFactory(team=north, name="Twin")
    CustomerFactory(team=north, name="Twin")
    CustomerFactory(team=south, name="Southern")  # another team's: alice cannot see it
    customer = CustomerFactory(team=north, owner=alice, external_id="SELF-1")
    client.force_login(alice)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by=typed))
    assert response.status_code == 200
    assert response.context["form"].errors["referred_by"] == [message]
    customer.refresh_from_db()
    assert customer.referred_by is None and customer.version == 1


def test_an_unchanged_referrer_stays_even_when_its_name_became_ambiguous(client, alice, north):
    referrer = CustomerFactory(team=north, name="Twin")
    customer = CustomerFactory(team=north, owner=alice, referred_by=referrer)
    CustomerFactory(team=north, name="Twin")
    client.force_login(alice)
    assert client.get(f"/customers/{customer.pk}/edit/").context["form"]["referred_by"].value() == "Twin"
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, referred_by="Twin",
                                                                        needs="More seats"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.referred_by == referrer and customer.needs == "More seats"


def test_a_new_customer_can_be_created_with_its_referrer(client, alice, north, referrer):
    client.force_login(alice)
    client.post("/customers/new/", {
        "name": "Newco", "status": "prospect", "team": north.pk, "timezone": "UTC",
        "cadence_days": 30, "cadence_max_days": 45, "referred_by": "R-1",
    })
    assert Customer.objects.get(name="Newco").referred_by == referrer


def test_the_customer_page_shows_who_referred_it_and_whom_it_referred_with_their_value(
    client, alice, north, south, referrer
):
    CustomerFactory(team=north, name="Brought A", referred_by=referrer, lifetime_value=Decimal("100.50"))
    CustomerFactory(team=north, name="Brought B", referred_by=referrer, lifetime_value=Decimal("20.25"))
    CustomerFactory(team=south, name="Hidden C", referred_by=referrer, lifetime_value=Decimal("999"))
    grandchild = CustomerFactory(team=north, name="Grandchild",
                                 referred_by=Customer.objects.get(name="Brought A"))
    client.force_login(alice)

    response = client.get(referrer.get_absolute_url())
    referrals = response.context["referrals"]
    assert [c.name for c in referrals["rows"]] == ["Brought A", "Brought B"]
    assert (referrals["count"], referrals["value"]) == (2, Decimal("120.75"))
    page = response.content.decode()
    assert "Referred <strong>2</strong> customers" in page and "120.75" in page
    assert "Hidden C" not in page

    child_page = client.get(grandchild.get_absolute_url()).content.decode()
    assert "Brought A</a>" in child_page


def test_a_referrer_in_another_team_is_not_named(client, alice, north, south):
    hidden = CustomerFactory(team=south, name="Southern Secret")
    customer = CustomerFactory(team=north, referred_by=hidden)
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Southern Secret" not in page and "a customer outside your teams" in page


def test_the_edit_form_keeps_a_referrer_in_another_team_without_naming_it(client, alice, north, south):
    hidden = CustomerFactory(team=south, name="Southern Secret", external_id="SOUTH-7")
    customer = CustomerFactory(team=north, referred_by=hidden)
    client.force_login(alice)

    page = client.get(f"/customers/{customer.pk}/edit/").content.decode()
    assert "Southern Secret" not in page and "SOUTH-7" not in page
    assert "(a customer of another team)" in page

    response = client.post(f"/customers/{customer.pk}/edit/", form_data(
        customer, name="Renamed", referred_by="(a customer of another team)"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Renamed" and customer.referred_by == hidden


def test_many_referrals_are_counted_in_the_database(client, alice, north, referrer):
    for n in range(12):
        CustomerFactory(team=north, name=f"Brought {n:02d}", referred_by=referrer, lifetime_value=n)
    client.force_login(alice)
    referrals = client.get(referrer.get_absolute_url()).context["referrals"]
    assert len(referrals["rows"]) == 10 and referrals["rows"][0].name == "Brought 11"
    assert (referrals["count"], referrals["value"]) == (12, Decimal(sum(range(12))))


def test_top_referrers_ranks_by_count_then_value_among_visible_customers(client, alice, north, south):
    one_big = CustomerFactory(team=north, name="One big")
    two_small = CustomerFactory(team=north, name="Two small")
    one_small = CustomerFactory(team=north, name="One small")
    southern = CustomerFactory(team=south, name="Southern")
    CustomerFactory(team=north, referred_by=one_big, lifetime_value=Decimal("1000"))
    CustomerFactory(team=north, referred_by=two_small, lifetime_value=Decimal("10"))
    CustomerFactory(team=north, referred_by=two_small, lifetime_value=Decimal("20"))
    CustomerFactory(team=north, referred_by=one_small, lifetime_value=Decimal("5"))
    CustomerFactory(team=south, referred_by=one_small, lifetime_value=Decimal("500"))  # unseen
    CustomerFactory(team=south, referred_by=southern, lifetime_value=Decimal("70"))
    client.force_login(alice)

    response = client.get("/customers/referrers/")
    rows = [(r["rank"], r["customer"].name, r["referral_count"], r["referral_value"])
            for r in response.context["page"]]
    assert rows == [
        (1, "Two small", 2, Decimal("30")),
        (2, "One big", 1, Decimal("1000")),
        (3, "One small", 1, Decimal("5")),
    ]
    assert "Southern" not in response.content.decode()
    assert "/customers/referrers/" in client.get("/customers/").content.decode()


def test_top_referrers_pages_with_a_bounded_number_of_queries(client, alice, north):
    client.force_login(alice)

    def make_referrers(count):
        for _ in range(count):
            CustomerFactory(team=north, referred_by=CustomerFactory(team=north, owner=alice))

    make_referrers(2)
    few = count_queries(lambda: client.get("/customers/referrers/"))
    make_referrers(28)
    assert count_queries(lambda: client.get("/customers/referrers/")) == few
    first = client.get("/customers/referrers/").context["page"]
    second = client.get("/customers/referrers/?page=2").context["page"]
    assert (len(first), first.has_next, len(second), second.has_next) == (25, True, 5, False)
    assert second.object_list[0]["rank"] == 26


def test_top_referrers_says_what_to_do_when_empty(client, alice, north):
    client.force_login(alice)
    page = client.get("/customers/referrers/").content.decode()
    assert "No referrals recorded yet." in page and "Referred by" in page
