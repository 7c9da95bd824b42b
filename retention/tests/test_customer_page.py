"""
The customer page renders only what is read at once: the forms to record a promise, a complaint,
a purchase or a key date load when asked (htmx), or open on a page of their own without JavaScript.
"""

import datetime

import pytest
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(north, alice):
    customer = CustomerFactory(team=north, owner=alice, name="Acme")
    ContactFactory(customer=customer, name="Olga Owens", is_primary=True)
    return customer


def form_urls(customer):
    return {
        "promise": f"/touchpoints/customers/{customer.pk}/promises/new/",
        "complaint": f"/touchpoints/customers/{customer.pk}/complaints/new/",
        "purchase": f"/customers/{customer.pk}/purchases/new/",
        "key date": f"/customers/{customer.pk}/key-dates/new/",
    }


def test_the_page_offers_the_forms_without_rendering_them(client, alice, customer):
    client.force_login(alice)
    page = client.get(customer.get_absolute_url()).content.decode()

    for url in form_urls(customer).values():
        assert f'href="{url}" hx-get="{url}"' in page  # a link that works without JavaScript too
    assert 'name="summary"' in page  # the log form, the page's main action, is there at once
    for field in ('id="promise_description"', 'id="complaint_summary"', 'name="purchase-amount"',
                  'name="key_date-name"'):
        assert field not in page


@pytest.mark.parametrize("form, field", [
    ("promise", 'id="promise_description"'), ("complaint", 'id="complaint_summary"'),
    ("purchase", 'name="purchase-date"'), ("key date", 'name="key_date-name"'),
])
def test_each_form_loads_in_place_with_the_cursor_in_it(client, alice, customer, form, field):
    client.force_login(alice)
    url = form_urls(customer)[form]

    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    page = client.get(url).content.decode()

    assert "<html" not in fragment and "<html" in page
    assert field in fragment and field in page
    tag = next(tag for tag in fragment.split("<") if field in tag)
    assert "autofocus" in tag
    assert f'action="{url}"' in fragment
    assert f'href="{customer.get_absolute_url()}#' in fragment and ">Cancel</a>" in fragment


def test_empty_choices_read_as_words(client, alice, customer):
    client.force_login(alice)
    pages = [customer.get_absolute_url(), f"/customers/{customer.pk}/edit/",
             *(url for name, url in form_urls(customer).items() if name in ("promise", "complaint"))]
    for url in pages:
        page = client.get(url).content.decode()
        assert "---------" not in page, url
    page = client.get(customer.get_absolute_url()).content.decode()
    assert '<option value="" selected>Not set</option>' in page  # the log form's outcome and mood


def test_a_purchase_from_the_loaded_form_goes_back_to_the_page(client, alice, customer):
    client.force_login(alice)
    response = client.post(form_urls(customer)["purchase"], {
        "purchase-date": timezone.localdate() - datetime.timedelta(days=3),
        "purchase-amount": "120.00", "purchase-description": "Widgets",
    })
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url() + "#purchases"
    assert customer.purchases.get().description == "Widgets"


def test_an_outsider_cannot_load_the_forms(client, charlie, south, customer):
    client.force_login(charlie)
    for url in form_urls(customer).values():
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 404
