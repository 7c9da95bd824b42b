"""An admin revokes anyone's API token in the Django admin; it is refused at the next request."""

import pytest

from customers.audit import AuditEvent
from retention.api.models import ApiToken
from retention.api.tokens import api_token_create

pytestmark = pytest.mark.django_db


def test_an_admin_revokes_a_token_in_the_admin(client, admin_user, alice, north):
    token, secret = api_token_create(user=alice, name="Old laptop")
    client.force_login(admin_user)
    listing = client.get("/admin/api/apitoken/")
    assert listing.status_code == 200 and "Old laptop" in listing.content.decode()
    assert token.key_hash not in listing.content.decode()

    client.post("/admin/api/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(summary__contains="revoked", actor=admin_user).exists()
    refused = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert refused.status_code == 401


def test_the_admin_neither_makes_nor_deletes_tokens(client, admin_user, alice):
    token, _ = api_token_create(user=alice, name="Sync")
    client.force_login(admin_user)
    assert client.get("/admin/api/apitoken/add/").status_code == 403
    assert client.post(f"/admin/api/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
