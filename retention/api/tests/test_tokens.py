"""
API tokens: kept hashed, shown once, refused at once when revoked, expired, unknown or of an
inactive user; ``last_used_at`` written at most once a minute; the command and the profile page.

The API's own views are written elsewhere: the authentication is tried on a tiny DRF view of this
module's own URL configuration, with DRF's settings reduced to this authentication.
"""

import datetime
import hashlib

import pytest
import time_machine
from django.contrib.auth.decorators import login_not_required
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from customers.audit import AuditEvent
from retention.api.models import ApiToken
from retention.api.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


class WhoAmI(APIView):
    authentication_classes = []  # set in the fixture below, from the real settings' class
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.username, "token": request.auth.pk})


# The project's pages, and the tiny API view beside them.
urlpatterns = [path("whoami/", login_not_required(WhoAmI.as_view())), path("", include("retention.urls"))]


@pytest.fixture(autouse=True)
def api_settings(settings):
    settings.ROOT_URLCONF = __name__
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["retention.api.authentication.TokenAuthentication"],
        "DEFAULT_THROTTLE_CLASSES": [],
    }
    from retention.api.authentication import TokenAuthentication

    WhoAmI.authentication_classes = [TokenAuthentication]


def call(secret, header=None):
    return APIClient().get("/whoami/", HTTP_AUTHORIZATION=header or f"Bearer {secret}")


def test_it_authenticates_a_token_as_its_user(alice):
    token, secret = api_token_create(user=alice, name="Sync")
    response = call(secret)
    assert response.status_code == 200
    assert response.json() == {"username": "alice", "token": token.pk}


def test_it_finds_the_token_and_its_user_in_one_query(alice):
    token, secret = api_token_create(user=alice, name="Sync")
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=datetime.datetime.now(datetime.UTC))
    with CaptureQueriesContext(connection) as queries:
        assert call(secret).status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_it_keeps_only_a_hash_of_the_secret(alice):
    token, secret = api_token_create(user=alice, name="Sync")
    assert secret.startswith("rtn_") and len(secret) >= 4 + 43  # 32 random bytes, base64
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in str(row)
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == secret[:12]


@pytest.mark.parametrize("header, detail", [
    ("Bearer rtn_not-a-token", "Invalid token."),
    ("Bearer", "Malformed Authorization header"),
    ("Bearer two parts", "Malformed Authorization header"),
])
def test_it_refuses_an_unknown_or_malformed_token(alice, header, detail):
    response = call(None, header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["detail"].startswith(detail)


def test_it_refuses_a_revoked_token_at_once(alice):
    token, secret = api_token_create(user=alice, name="Sync")
    assert call(secret).status_code == 200
    api_token_revoke(token=token)
    response = call(secret)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked."}


def test_it_refuses_an_expired_token(alice):
    token, secret = api_token_create(user=alice, name="Sync", expires_in_days=30)
    with time_machine.travel(token.expires_at - datetime.timedelta(seconds=1)):
        assert call(secret).status_code == 200
    with time_machine.travel(token.expires_at):
        response = call(secret)
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has expired."}


def test_it_refuses_the_token_of_an_inactive_user(alice):
    _, secret = api_token_create(user=alice, name="Sync")
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    response = call(secret)
    assert response.status_code == 401
    assert response.json() == {"detail": "The user of this token is inactive."}


def test_without_a_bearer_header_it_leaves_the_request_anonymous(alice):
    response = APIClient().get("/whoami/", HTTP_AUTHORIZATION="Basic YWxpY2U6eA==")
    assert response.status_code == 401  # IsAuthenticated refuses; no token was tried


def test_it_notes_the_last_use_at_most_once_a_minute(alice):
    token, secret = api_token_create(user=alice, name="Sync")
    start = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        call(secret)
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(seconds=59), tick=False):
        with CaptureQueriesContext(connection) as queries:
            call(secret)
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        call(secret)
    token.refresh_from_db()
    assert token.last_used_at == start + datetime.timedelta(seconds=61)


# The command -----------------------------------------------------------------------------------


def test_the_command_prints_only_a_token_that_authenticates(alice, capsys):
    call_command("api_token_create", "alice", "--name", "Nightly export", "--expires-in-days", "90")
    out, err = capsys.readouterr()
    secret = out.strip()
    assert out == secret + "\n" and secret.startswith("rtn_")
    assert "shown only now" in err and "Nightly export" in err
    assert call(secret).json()["username"] == "alice"
    token = ApiToken.objects.get(user=alice)
    assert token.name == "Nightly export"
    assert datetime.timedelta(days=89) < token.expires_at - token.created_at <= datetime.timedelta(days=90)


@pytest.mark.parametrize("username", ["nobody-here", "alice"])
def test_the_command_refuses_an_unknown_or_inactive_user(alice, username):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="No user|inactive"):
        call_command("api_token_create", username)
    assert not ApiToken.objects.exists()


def test_the_command_exits_1_for_an_unknown_user(capsys):
    with pytest.raises(SystemExit) as exit_:
        from django.core.management import ManagementUtility
        ManagementUtility(["manage.py", "api_token_create", "nobody-here"]).execute()
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert not out and "No user “nobody-here”" in err


# The profile page ------------------------------------------------------------------------------


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_profile_makes_a_token_and_shows_its_secret_once(client, alice):
    signed_in(client, alice)
    response = client.post("/accounts/profile/tokens/new/", {"name": "Accounting sync",
                                                              "expires_in_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert secret in response.content.decode()
    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.prefix) == ("Accounting sync", secret[:12])
    assert token.expires_at is not None
    assert call(secret).status_code == 200
    profile = client.get("/accounts/profile/").content.decode()
    assert "Accounting sync" in profile and token.prefix in profile
    assert secret not in profile
    assert AuditEvent.objects.filter(summary__contains="“Accounting sync”").count() == 1


def test_the_profile_refuses_a_token_without_a_name(client, alice):
    response = signed_in(client, alice).post("/accounts/profile/tokens/new/", {"name": "  "})
    assert response.status_code == 200
    assert "Give the token a name." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_profile_revokes_a_token_after_confirming(client, alice):
    token, secret = api_token_create(user=alice, name="Old script")
    signed_in(client, alice)
    url = f"/accounts/profile/tokens/{token.pk}/revoke/"
    confirm = client.get(url)
    assert confirm.status_code == 200 and "Revoke the API token “Old script”?" in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None
    assert client.post(url).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert call(secret).status_code == 401
    assert "Revoked" in client.get("/accounts/profile/").content.decode()


def test_another_users_token_cannot_be_revoked(client, alice, bob):
    token, secret = api_token_create(user=alice, name="Alice's")
    signed_in(client, bob)
    url = f"/accounts/profile/tokens/{token.pk}/revoke/"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert "Alice's" not in client.get("/accounts/profile/").content.decode()
