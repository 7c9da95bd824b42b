import datetime

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, CustomerChange
from customers.selectors import customer_search
from customers.services import customer_update
from customers.tests.factories import ContactFactory, CustomerFactory
from retention.pagination import paginate, rows_needed

pytestmark = pytest.mark.django_db


def count_queries(action):
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


def form_data(customer, **overrides):
    data = {
        "name": customer.name,
        "status": customer.status,
        "churn_reason": customer.churn_reason,
        "customer_since": customer.customer_since.isoformat() if customer.customer_since else "",
        "owner": customer.owner_id or "",
        "team": customer.team_id,
        "timezone": customer.timezone,
        "cadence_days": customer.cadence_days,
        "cadence_max_days": customer.cadence_max_days,
        "allow_automated_checkins": "on" if customer.allow_automated_checkins else "",
        "source": customer.source,
        "external_id": customer.external_id or "",
        "needs": customer.needs,
        "interests": customer.interests,
        "tags": "",
        "version": customer.version,
    }
    data.update(overrides)
    return data


def test_it_creates_a_customer_owned_by_its_creator(client, alice, north):
    client.force_login(alice)
    response = client.post(
        "/customers/new/",
        {
            "name": "Acme Ltd",
            "status": "active",
            "team": north.pk,
            "timezone": "Europe/Berlin",
            "cadence_days": 30,
            "cadence_max_days": 45,
            "tags": "vip; Enterprise, vip",
        },
    )
    customer = Customer.objects.get(name="Acme Ltd")
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()
    assert customer.owner == alice
    assert sorted(t.name for t in customer.tags.all()) == ["Enterprise", "vip"]
    assert customer.next_checkin_due == customer.local_today() + datetime.timedelta(days=30)
    assert customer.changes.filter(field="created").exists()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": ""}, "name", "This field is required"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Not a known time zone"),
        ({"cadence_days": 60, "cadence_max_days": 30}, "cadence_max_days", "at least the check-in cadence"),
        ({"status": "churned"}, "churn_reason", "Say why the customer churned"),
    ],
)
def test_it_refuses_bad_input_with_a_clear_message(client, alice, north, overrides, field, message):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, name="Acme Ltd")
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    customer.refresh_from_db()
    assert customer.name == "Acme Ltd" and customer.version == 1


def test_an_owner_outside_the_team_is_refused(client, alice, charlie, north, south):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    response = client.post(f"/customers/{customer.pk}/edit/", form_data(customer, owner=charlie.pk))
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors


def test_an_edit_records_history_and_only_changed_fields(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, name="Acme Ltd")
    client.post(
        f"/customers/{customer.pk}/edit/",
        form_data(customer, name="Acme GmbH", cadence_days=14, cadence_max_days=20),
    )
    customer.refresh_from_db()
    assert customer.name == "Acme GmbH" and customer.version == 2
    changes = {c.field: (c.old_value, c.new_value) for c in CustomerChange.objects.filter(customer=customer)}
    assert changes == {
        "name": ("Acme Ltd", "Acme GmbH"),
        "cadence_days": ("30", "14"),
        "cadence_max_days": ("45", "20"),
    }
    assert customer.next_checkin_due == customer.customer_since + datetime.timedelta(days=14)


def test_a_stale_edit_is_refused_and_overwrites_nothing(client, alice, bob, north):
    customer = CustomerFactory(team=north, owner=alice, name="Acme Ltd")
    stale_form = form_data(customer, name="Alice's name")
    customer_update(customer=customer, user=bob, data={"name": "Bob's name"}, version=1)

    client.force_login(alice)
    response = client.post(f"/customers/{customer.pk}/edit/", stale_form)

    customer.refresh_from_db()
    assert customer.name == "Bob's name"
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else saved this customer" in page
    assert "Bob&#x27;s name" in page


def test_archive_takes_a_customer_out_of_the_list_and_restore_brings_it_back(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, name="Acme Ltd")

    def listed(url):
        return [c.name for c in client.get(url).context["page"]]

    client.post(f"/customers/{customer.pk}/archive/")
    assert listed("/customers/") == []
    assert listed("/customers/?archived=1") == ["Acme Ltd"]
    assert client.get(customer.get_absolute_url()).status_code == 200  # history stays reachable

    client.post(f"/customers/{customer.pk}/restore/")
    assert listed("/customers/") == ["Acme Ltd"]
    assert list(customer.changes.values_list("field", "new_value")) == [
        ("archived", "no"),
        ("archived", "yes"),
    ]


def test_archive_needs_a_post(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    assert client.get(f"/customers/{customer.pk}/archive/").status_code == 405
    customer.refresh_from_db()
    assert customer.archived_at is None


@pytest.mark.parametrize(
    "birthday, stored",
    [
        ("1980-02-29", (1980, 2, 29)),
        ("--03-14", (None, 3, 14)),
        ("", (None, None, None)),
    ],
)
def test_a_contact_keeps_a_birthday_with_or_without_its_year(client, alice, north, birthday, stored):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    response = client.post(
        f"/customers/{customer.pk}/contacts/new/",
        {
            "name": "Dana Doe",
            "email": "dana@example.com",
            "birthday": birthday,
            "is_primary": "on",
        },
    )
    assert response.status_code == 302
    contact = customer.contacts.get()
    assert (contact.birthday_year, contact.birthday_month, contact.birthday_day) == stored


@pytest.mark.parametrize("birthday", ["1981-02-29", "14/03/1980", "--13-01", "3000-01-01"])
def test_a_wrong_birthday_is_refused(client, alice, north, birthday):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    response = client.post(f"/customers/{customer.pk}/contacts/new/", {"name": "Dana", "birthday": birthday})
    assert response.status_code == 200 and "birthday" in response.context["form"].errors
    assert not customer.contacts.exists()


def test_one_primary_contact_at_a_time(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice)
    first = ContactFactory(customer=customer, is_primary=True)
    client.post(f"/customers/{customer.pk}/contacts/new/", {"name": "New Primary", "is_primary": "on"})
    first.refresh_from_db()
    assert not first.is_primary
    assert customer.contacts.get(is_primary=True).name == "New Primary"


def test_the_list_searches_contacts_and_pages_without_counting(
    client, alice, north, django_assert_max_num_queries
):
    client.force_login(alice)
    for n in range(60):
        CustomerFactory(team=north, owner=alice, name=f"Customer {n:02d}")
    target = CustomerFactory(team=north, owner=alice, name="Zeta")
    ContactFactory(customer=target, email="needle@example.com")

    assert [c.name for c in client.get("/customers/?q=needle").context["page"]] == ["Zeta"]
    with django_assert_max_num_queries(8):
        first = client.get("/customers/")
    assert len(first.context["page"]) == 50 and first.context["page"].has_next
    second = client.get("/customers/?page=2")
    assert len(second.context["page"]) == 11 and not second.context["page"].has_next


def test_list_query_count_does_not_grow_with_the_page(client, alice, north):
    client.force_login(alice)
    CustomerFactory.create_batch(3, team=north, owner=alice)
    few = count_queries(lambda: client.get("/customers/"))
    CustomerFactory.create_batch(40, team=north, owner=alice)
    assert count_queries(lambda: client.get("/customers/")) == few


@pytest.fixture
def searchable(alice, north, south):
    """Customers matching "ber" by name, by a contact, by both, or not at all, in both teams."""
    rows = []
    for n in range(45):
        team = north if n % 5 else south
        name = f"Bergmann {n:02d}" if n % 3 == 0 else f"Acme {n:02d}"
        customer = CustomerFactory(
            team=team, owner=alice, name=name, lifetime_value=(n * 37) % 11 * 100,
            customer_since=datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 7),
            next_checkin_due=datetime.date(2026, 3, 1) + datetime.timedelta(days=n % 4),
        )
        if n % 4 == 0:
            ContactFactory(customer=customer, email=f"hilde.ber{n}@example.com")
        rows.append(customer)
    return rows


@pytest.mark.parametrize("sort", ["name", "-name", "value", "due", "customer_since", "-last_contact"])
def test_a_search_page_holds_the_rows_of_one_search_in_its_order(client, alice, maria, searchable, sort):
    for user in (alice, maria):
        params = QueryDict(f"q=ber&sort={sort}")
        everything = [c.pk for c in customer_search(user=user, params=params)]  # one query, all rows
        assert len(everything) > 12
        for number in (1, 2, 3):
            # Asked for the first rows only, the search runs its halves apart: same rows, same order.
            rows = customer_search(user=user, params=params, rows=rows_needed(number, per_page=5))
            page = paginate(rows, number, per_page=5)
            assert [c.pk for c in page] == everything[(number - 1) * 5 : number * 5]
            assert page.has_next == (len(everything) > number * 5)
        client.force_login(user)
        listed = client.get("/customers/", {"q": "ber", "sort": sort}).context["page"]
        assert [c.pk for c in listed] == everything[:50]


def test_later_pages_keep_the_order_and_the_related_rows(client, alice, north, django_assert_max_num_queries):
    client.force_login(alice)
    for n in range(120):
        CustomerFactory(team=north, owner=alice, name=f"Customer {n:03d}")
    with django_assert_max_num_queries(9):  # the page's ids, then its rows
        page = client.get("/customers/?page=2").context["page"]
    assert [c.name for c in page] == [f"Customer {n:03d}" for n in range(50, 100)]
    assert all(c.owner == alice for c in page) and page.has_next and page.has_previous
    last = client.get("/customers/?page=3").context["page"]
    assert len(last) == 20 and not last.has_next
