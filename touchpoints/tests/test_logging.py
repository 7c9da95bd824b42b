import datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import Touchpoint
from touchpoints.services import touchpoint_log
from touchpoints.tests.factories import TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(
        team=north,
        owner=alice,
        customer_since=datetime.date(2020, 1, 1),
        next_checkin_due=datetime.date(2020, 1, 31),
    )


def log(client, customer, htmx=True, **data):
    payload = {
        "kind": "call",
        "direction": "outbound",
        "summary": "Quarterly catch-up",
        "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    payload.update(data)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/touchpoints/customers/{customer.pk}/log/", payload, headers=headers)


def test_logging_in_place_resets_the_clock_and_returns_the_fragment(client, alice, customer):
    client.force_login(alice)
    contact = ContactFactory(customer=customer)
    response = log(client, customer, contacts=[contact.pk], mood="positive", outcome="reached")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and "Logged." in page and "Quarterly catch-up" in page
    customer.refresh_from_db()
    touchpoint = customer.touchpoints.get()
    assert touchpoint.author == alice and list(touchpoint.contacts.all()) == [contact]
    assert customer.last_contacted_at == touchpoint.happened_at
    assert customer.next_checkin_due == customer.local_today() + datetime.timedelta(days=30)


def test_logging_without_htmx_redirects_to_the_customer(client, alice, customer):
    client.force_login(alice)
    response = log(client, customer, htmx=False)
    assert response.status_code == 302 and response["Location"] == customer.get_absolute_url()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"summary": ""}, "summary"),
        ({"kind": "telepathy"}, "kind"),
        ({"kind": "system"}, "kind"),
        ({"happened_at": "2999-01-01T10:00"}, "happened_at"),
        ({"duration_minutes": "-5"}, "duration_minutes"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(client, alice, customer, data, field):
    client.force_login(alice)
    response = log(client, customer, **data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    customer.refresh_from_db()
    assert not customer.touchpoints.exists() and customer.last_contacted_at is None


def test_a_contact_of_another_customer_cannot_be_attached(client, alice, customer, north):
    client.force_login(alice)
    stranger = ContactFactory(customer=CustomerFactory(team=north))
    response = log(client, customer, contacts=[stranger.pk])
    assert "contacts" in response.context["form"].errors


def test_a_note_does_not_count_as_contact(alice, customer):
    touchpoint_log(customer=customer, user=alice, kind="note", summary="Internal thought")
    customer.refresh_from_db()
    assert customer.last_contacted_at is None


def test_an_older_touchpoint_logged_late_does_not_move_the_clock_back(alice, customer):
    recent = timezone.now() - datetime.timedelta(days=1)
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Recent", happened_at=recent)
    touchpoint_log(
        customer=customer,
        user=alice,
        kind="call",
        summary="Old",
        happened_at=recent - datetime.timedelta(days=20),
    )
    customer.refresh_from_db()
    assert customer.last_contacted_at == recent


def test_editing_or_deleting_the_latest_touchpoint_recomputes_the_clock(client, alice, customer):
    client.force_login(alice)
    older = timezone.now() - datetime.timedelta(days=10)
    touchpoint_log(customer=customer, user=alice, kind="call", summary="Older", happened_at=older)
    latest = touchpoint_log(customer=customer, user=alice, kind="call", summary="Latest")

    moved = (older - datetime.timedelta(days=5)).astimezone(timezone.get_current_timezone())
    response = client.post(
        f"/touchpoints/{latest.pk}/edit/",
        {
            "kind": "call",
            "direction": "outbound",
            "summary": "Latest",
            "happened_at": moved.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.last_contacted_at == older

    first = customer.touchpoints.get(summary="Older")
    client.post(f"/touchpoints/{first.pk}/delete/")
    customer.refresh_from_db()
    assert customer.last_contacted_at.replace(second=0) == moved.replace(second=0, microsecond=0)


def test_deleting_asks_for_confirmation_first(client, alice, customer):
    client.force_login(alice)
    touchpoint = TouchpointFactory(customer=customer)
    response = client.get(f"/touchpoints/{touchpoint.pk}/delete/")
    assert response.status_code == 200 and "Delete this touchpoint?" in response.content.decode()
    assert Touchpoint.objects.filter(pk=touchpoint.pk).exists()


def test_script_typed_into_notes_renders_as_text(client, alice, customer):
    client.force_login(alice)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    fragment = log(client, customer, summary=evil, notes=evil).content.decode()
    page = client.get(customer.get_absolute_url()).content.decode()
    for html in (fragment, page):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_logging_in_place_also_refreshes_the_summary_cards(client, alice, customer):
    client.force_login(alice)
    fragment = log(client, customer).content.decode()
    customer.refresh_from_db()
    assert 'id="customer-summary" hx-swap-oob="true"' in fragment
    assert date_format(customer.next_checkin_due) in fragment
    assert "never" not in fragment.split('id="customer-summary"')[1]
