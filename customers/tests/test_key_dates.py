"""Key dates on the customer page: added for the customer or one of its contacts, edited, deleted."""

import datetime

import pytest

from customers.models import KeyDate
from customers.tests.factories import ContactFactory, CustomerFactory, KeyDateFactory

pytestmark = pytest.mark.django_db


def test_a_key_date_is_added_for_a_contact_of_the_customer(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    contact = ContactFactory(customer=customer, name="Dana Doe")
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {
        "key_date-name": "Wedding anniversary", "key_date-date": "2015-06-20",
        "key_date-recurrence": "yearly", "key_date-contact": contact.pk,
    })
    assert response.status_code == 302 and response["Location"].endswith("#key-dates")
    key_date = customer.key_dates.get()
    assert (key_date.name, key_date.date, key_date.recurrence, key_date.contact) == (
        "Wedding anniversary", datetime.date(2015, 6, 20), "yearly", contact)
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Wedding anniversary" in page and "20 Jun" in page


def test_a_key_date_cannot_name_another_customers_contact(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    stranger = ContactFactory(customer=CustomerFactory(team=north))
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {
        "key_date-name": "Party", "key_date-date": "2026-01-01", "key_date-recurrence": "once",
        "key_date-contact": stranger.pk,
    })
    assert response.status_code == 200 and "contact" in response.context["form"].errors
    assert not KeyDate.objects.exists()


def test_a_key_date_needs_a_name_and_a_date(client, alice, north):
    client.force_login(alice)
    customer = CustomerFactory(team=north)
    response = client.post(f"/customers/{customer.pk}/key-dates/new/", {"key_date-recurrence": "yearly"})
    assert set(response.context["form"].errors) == {"name", "date"}
    assert 'autofocus' in response.content.decode()
    assert not KeyDate.objects.exists()


def test_a_key_date_is_edited_and_deleted_after_confirmation(client, alice, north):
    client.force_login(alice)
    key_date = KeyDateFactory(customer=CustomerFactory(team=north), name="Founding day",
                              date=datetime.date(2001, 4, 2))
    response = client.post(f"/customers/key-dates/{key_date.pk}/edit/", {
        "key_date-name": "Founded", "key_date-date": "2001-04-03", "key_date-recurrence": "once",
    })
    assert response.status_code == 302
    key_date.refresh_from_db()
    assert (key_date.name, key_date.date, key_date.recurrence) == (
        "Founded", datetime.date(2001, 4, 3), "once")

    confirm = client.get(f"/customers/key-dates/{key_date.pk}/delete/")
    assert confirm.status_code == 200 and "Delete this key date?" in confirm.content.decode()
    assert KeyDate.objects.filter(pk=key_date.pk).exists()
    client.post(f"/customers/key-dates/{key_date.pk}/delete/")
    assert not KeyDate.objects.filter(pk=key_date.pk).exists()
