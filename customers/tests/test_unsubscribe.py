import pytest
from django.test import Client

from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_get_shows_a_confirmation_and_changes_nothing(client):
    contact = ContactFactory()
    response = client.get(f"/u/{contact.unsubscribe_token}/")
    assert response.status_code == 200 and "Unsubscribe from automated email?" in response.content.decode()
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None


def test_one_click_post_works_without_cookies_or_csrf():
    contact = ContactFactory()
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(f"/u/{contact.unsubscribe_token}/",
                                {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None


def test_unsubscribing_twice_keeps_the_first_date(client):
    contact = ContactFactory()
    client.post(f"/u/{contact.unsubscribe_token}/")
    contact.refresh_from_db()
    first = contact.unsubscribed_at
    client.post(f"/u/{contact.unsubscribe_token}/")
    contact.refresh_from_db()
    assert contact.unsubscribed_at == first


def test_a_bad_token_gets_a_friendly_404(client):
    ContactFactory()
    response = client.post("/u/nope/")
    assert response.status_code == 404
