"""
The customer's own pages: create and edit (history, stale edits), archive and restore, contacts,
what an outsider gets on each page and action, and the page's query count.

The list is in ``test_list.py``; the status lifecycle in ``test_status.py``.
"""

import datetime
from decimal import Decimal

import pytest

from customers.models import Customer, CustomerChange
from customers.services import customer_update, purchase_add
from customers.tests.factories import ContactFactory, CustomerFactory, KeyDateFactory
from customers.tests.helpers import count_queries, form_data

pytestmark = pytest.mark.django_db


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


def test_the_website_is_kept_as_an_address_shown_as_a_safe_link(client, alice, north):
    client.force_login(alice)
    base = {"name": "Acme Ltd", "status": "active", "team": north.pk, "timezone": "UTC",
            "cadence_days": 30, "cadence_max_days": 45}
    refused = client.post("/customers/new/", {**base, "website": "javascript:alert(1)"})
    assert refused.status_code == 200 and "Enter a web address" in refused.content.decode()
    assert not Customer.objects.filter(name="Acme Ltd").exists()

    client.post("/customers/new/", {**base, "website": "www.acme.example/about"})
    customer = Customer.objects.get(name="Acme Ltd")
    assert customer.website == "https://www.acme.example/about" and customer.website_domain == "acme.example"
    page = client.get(customer.get_absolute_url()).content.decode()
    assert '<a href="https://www.acme.example/about" rel="noopener noreferrer nofollow"' in page

    client.post(f"/customers/{customer.pk}/edit/", form_data(customer, website="https://shop.example"))
    customer.refresh_from_db()
    assert customer.website_domain == "shop.example"


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
    customer.refresh_from_db()
    assert customer.owner == alice and customer.version == 1 and not customer.changes.exists()


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


def test_an_outsider_gets_404_on_every_new_page_and_action(client, charlie, alice, bob, north, south):
    customer = CustomerFactory(team=north, owner=alice, name="North's")
    purchase = purchase_add(customer=customer, user=alice, date=datetime.date(2026, 1, 5),
                            amount=Decimal("10.00"))
    key_date = KeyDateFactory(customer=customer)
    client.force_login(charlie)

    gets = [f"/customers/{customer.pk}/purchases/new/", f"/customers/purchases/{purchase.pk}/delete/",
            f"/customers/{customer.pk}/key-dates/new/", f"/customers/key-dates/{key_date.pk}/edit/",
            f"/customers/key-dates/{key_date.pk}/delete/"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = {
        f"/customers/{customer.pk}/purchases/new/": {"purchase-date": "2026-01-06", "purchase-amount": "5"},
        f"/customers/purchases/{purchase.pk}/delete/": {},
        f"/customers/{customer.pk}/key-dates/new/": {"key_date-name": "X", "key_date-date": "2026-01-01",
                                                     "key_date-recurrence": "once"},
        f"/customers/key-dates/{key_date.pk}/edit/": {"key_date-name": "Hijacked",
                                                      "key_date-date": "2026-01-01",
                                                      "key_date-recurrence": "once"},
        f"/customers/key-dates/{key_date.pk}/delete/": {},
        "/customers/reassign/": {"customers": [customer.pk], "owner": bob.pk},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 404, url

    customer.refresh_from_db()
    key_date.refresh_from_db()
    assert customer.purchases.count() == 1 and customer.lifetime_value == Decimal("10.00")
    assert key_date.name != "Hijacked" and customer.key_dates.count() == 1
    assert customer.owner == alice


def test_the_customer_page_runs_a_bounded_number_of_queries(
    client, alice, bob, north, django_assert_max_num_queries
):
    client.force_login(alice)
    customer = CustomerFactory(team=north, owner=alice, status="prospect")

    def grow(n):
        contacts = ContactFactory.create_batch(n, customer=customer)
        for i in range(n):
            purchase_add(customer=customer, user=alice, date=datetime.date(2025, 1, 1 + i),
                         amount=Decimal("10"))
            KeyDateFactory(customer=customer, contact=contacts[i])
            CustomerFactory(team=north, referred_by=customer)

    grow(1)
    customer.refresh_from_db()
    customer_update(customer=customer, user=bob, data={"status": "active"}, version=customer.version)
    customer.referred_by = CustomerFactory(team=north)
    customer.save(update_fields=["referred_by"])
    few = count_queries(lambda: client.get(customer.get_absolute_url()))
    grow(15)
    with django_assert_max_num_queries(few):
        response = client.get(customer.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["purchases"]) == 10 and response.context["referrals"]["count"] == 16
    assert few <= 21  # the whole page: every app's panels and the health history (forms load on demand)
