"""The Webhooks pages: admins only; register with clear errors, the secret shown once, the log paged."""

import pytest
from django.test import Client

from retention.webhooks.models import Delivery, Endpoint
from touchpoints.services import complaint_open

from .conftest import ALL_EVENTS, subscribe

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hook"
DELIVERIES_PER_PAGE = 25


@pytest.fixture
def as_admin(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_it_lists_nothing_yet_and_offers_to_add(as_admin):
    page = as_admin.get("/webhooks/").content.decode()
    assert "No endpoints yet" in page and 'href="/webhooks/new/"' in page


def test_the_pages_answer_404_to_anyone_but_an_admin(alice, maria, north):
    endpoint, _ = subscribe(PUBLIC_URL)
    for user in (alice, maria):
        client = Client()
        client.force_login(user)
        for url in ("/webhooks/", "/webhooks/new/", f"/webhooks/{endpoint.pk}/",
                    f"/webhooks/{endpoint.pk}/edit/", f"/webhooks/{endpoint.pk}/delete/"):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_a_bad_registration_says_what_is_wrong_and_saves_nothing(as_admin):
    response = as_admin.post("/webhooks/new/", {"url": "https://127.0.0.1/hook", "description": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page
    assert "public addresses only" in page
    assert "Choose at least one event to send." in page
    assert not Endpoint.objects.exists()


def test_the_secret_is_shown_once_after_registering(as_admin, admin):
    response = as_admin.post("/webhooks/new/", {
        "url": PUBLIC_URL, "description": "Helpdesk", "events": ["complaint.opened", "promise.broken"]})
    endpoint = Endpoint.objects.get()
    assert response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["complaint.opened", "promise.broken"] and endpoint.created_by == admin

    first = as_admin.get(response["Location"])
    assert endpoint.secret in first.content.decode()
    assert "no-store" in first["Cache-Control"]
    again = as_admin.get(response["Location"]).content.decode()
    assert endpoint.secret not in again and "Helpdesk" in again


def test_a_new_secret_replaces_the_old_and_is_shown_once(as_admin):
    endpoint, old = subscribe(PUBLIC_URL)
    assert "Make a new secret" in as_admin.get(f"/webhooks/{endpoint.pk}/secret/").content.decode()
    as_admin.post(f"/webhooks/{endpoint.pk}/secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in as_admin.get(f"/webhooks/{endpoint.pk}/").content.decode()


def test_edit_switch_test_and_remove(as_admin):
    endpoint, _ = subscribe(PUBLIC_URL, events=["complaint.opened"])
    form = as_admin.get(f"/webhooks/{endpoint.pk}/edit/").content.decode()
    assert 'value="complaint.opened"' in form and "checked" in form
    as_admin.post(f"/webhooks/{endpoint.pk}/edit/", {"url": PUBLIC_URL, "description": "Chat",
                                                     "events": ALL_EVENTS})
    endpoint.refresh_from_db()
    assert endpoint.description == "Chat" and endpoint.events == ALL_EVENTS

    as_admin.post(f"/webhooks/{endpoint.pk}/switch/", {"enabled": "0"})
    assert not Endpoint.objects.get().enabled
    as_admin.post(f"/webhooks/{endpoint.pk}/test/")
    assert not Delivery.objects.exists()  # refused while off
    as_admin.post(f"/webhooks/{endpoint.pk}/switch/", {"enabled": "1"})
    as_admin.post(f"/webhooks/{endpoint.pk}/test/")
    assert Delivery.objects.get().event.type == "webhook.test"

    assert "Remove this endpoint?" in as_admin.get(f"/webhooks/{endpoint.pk}/delete/").content.decode()
    assert as_admin.post(f"/webhooks/{endpoint.pk}/delete/")["Location"] == "/webhooks/"
    assert not Endpoint.objects.exists()


def test_the_delivery_log_pages_in_bounded_queries(as_admin, customer, alice, django_assert_max_num_queries):
    endpoint, _ = subscribe(PUBLIC_URL, events=["complaint.opened"])
    for number in range(DELIVERIES_PER_PAGE + 3):
        complaint_open(customer=customer, user=alice, summary=f"Complaint {number}", severity="low")
    Delivery.objects.update(attempts=2, last_status_code=503, last_error="HTTP 503: busy")
    event_id = str(Delivery.objects.order_by("created_at", "pk").first().event_id)

    with django_assert_max_num_queries(8):
        first = as_admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert first.count("complaint.opened</code>") >= DELIVERIES_PER_PAGE
    assert "HTTP 503" in first and "Next →" in first and event_id not in first
    second = as_admin.get(f"/webhooks/{endpoint.pk}/?page=2").content.decode()
    assert event_id in second
