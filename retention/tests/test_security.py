"""Lockouts, rate limits, password reset, idle sessions and the headers every page carries."""

import datetime
import random
import re
import time

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache

from bench.smtp_sink import free_port
from customers.tests.factories import CustomerFactory
from retention.ratelimit import KEY_PREFIX

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_counters")]

PASSWORD = "a-long-password-1"


@pytest.fixture
def alice_with_password(alice):
    alice.set_password(PASSWORD)
    alice.email = "alice@example.com"
    alice.save()
    return alice


def log_in(client, username, password, address="203.0.113.7", **headers):
    return client.post("/accounts/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, **headers)


def test_five_failed_logins_lock_the_account_with_a_clear_page_and_an_admin_can_lift_it(
        client, alice_with_password, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert log_in(client, "alice", "wrong").status_code == 200  # the form again, with its error
    locked = log_in(client, "alice", "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode() and "15 minutes" in locked.content.decode()
    # Locked: even the right password does not get in now, from anywhere.
    assert log_in(client, "alice", PASSWORD, address="198.51.100.1").status_code == 429

    AccessAttempt.objects.filter(username="alice").delete()  # what the admin's delete does
    AccessAttempt.objects.all().delete()
    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_locked_out(client, alice_with_password, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ("x1", "x2"):
        assert log_in(client, name, "wrong").status_code == 200
    assert log_in(client, "x3", "wrong").status_code == 429
    assert log_in(client, "alice", PASSWORD).status_code == 429  # same address
    assert log_in(client, "alice", PASSWORD, address="198.51.100.2").status_code == 302


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_saw(
        client, alice_with_password, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # The client cannot pick its address: a forged left-hand entry is not the one counted.
    log_in(client, "x1", "wrong", address=proxy, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.50")
    assert log_in(client, "x2", "wrong", address=proxy,
                  HTTP_X_FORWARDED_FOR="8.8.8.8, 203.0.113.50").status_code == 429
    # Another client behind the same proxy is not locked out.
    assert log_in(client, "alice", PASSWORD, address=proxy,
                  HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 302


def test_login_is_rate_limited_per_client_with_retry_after(client, settings, time_machine):
    settings.LOGIN_RATE_LIMIT_PER_MINUTE = 3
    settings.AXES_FAILURE_LIMIT = 100
    # The windows are whole minutes of the clock: start at the beginning of one, so the requests
    # cannot straddle two on a slow machine, and of one no earlier run has counted in.
    window = (int(time.time()) // 60 + random.randint(10**5, 10**6)) * 60
    time_machine.move_to(datetime.datetime.fromtimestamp(window + 1, tz=datetime.UTC))
    for _ in range(3):
        assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.9").status_code == 200
    refused = client.get("/accounts/login/", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.10").status_code == 200
    # The window's counter goes away with the window.
    redis = cache._cache.get_client(None, write=True)
    keys = list(redis.scan_iter(match=f"*{KEY_PREFIX}:login:203.0.113.9:*"))
    assert keys and all(0 < redis.ttl(key) <= 61 for key in keys)


def test_exports_are_rate_limited_per_person(client, alice, north, settings):
    settings.EXPORT_RATE_LIMIT_PER_MINUTE = 2
    CustomerFactory(team=north, owner=alice)
    client.force_login(alice)
    for _ in range(2):
        assert client.get("/customers/export/").status_code == 200
    refused = client.get("/customers/export/", REMOTE_ADDR="198.51.100.99")  # from elsewhere too
    assert refused.status_code == 429 and refused["Retry-After"]


def test_a_cache_that_fails_lets_requests_through_uncounted_and_says_so_once(client, settings, caplog):
    settings.LOGIN_RATE_LIMIT_PER_MINUTE = 1
    redis = {**settings.CACHES["default"]}
    settings.CACHES = {"default": {**redis, "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}}
    with caplog.at_level("INFO", logger="retention.ratelimit"):
        for _ in range(3):  # over the limit of one, uncounted
            assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.20").status_code == 200
        settings.CACHES = {"default": redis}  # the cache answers again: counting resumes
        assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.20").status_code == 200
        assert client.get("/accounts/login/", REMOTE_ADDR="203.0.113.20").status_code == 429
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records
            if r.name == "retention.ratelimit"] == [
        ("WARNING", "rate limits are not counted"), ("INFO", "rate limits are counted again")]


def test_password_reset_by_email_without_telling_who_has_an_account(client, alice_with_password, mail_locmem):
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    known = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]

    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    weak = client.post(form.redirect_chain[-1][0], {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200 and "too short" in weak.content.decode()
    saved = client.post(form.redirect_chain[-1][0],
                        {"new_password1": "another-long-pass-9", "new_password2": "another-long-pass-9"})
    assert saved.status_code == 302
    assert log_in(client, "alice", "another-long-pass-9").status_code == 302
    # The link is used up.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_a_session_left_idle_ends(client, alice, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(alice)
    assert client.get("/today/").status_code == 200
    session = client.session
    session["last_activity"] = int(time.time()) - 31 * 60
    session.save()
    ended = client.get("/today/")
    assert ended.status_code == 302 and ended["Location"].startswith("/accounts/login/?next=/today/")
    assert client.get("/today/").status_code == 302  # signed out, not just redirected once


def test_an_active_session_stays(client, alice, settings):
    settings.SESSION_IDLE_MINUTES = 30
    client.force_login(alice)
    session = client.session
    session["last_activity"] = int(time.time()) - 29 * 60
    session.save()
    assert client.get("/today/").status_code == 200
    assert client.session["last_activity"] >= int(time.time()) - 5  # the count starts again


def test_every_page_carries_the_security_headers(client, alice):
    client.force_login(alice)
    for url in ("/today/", "/accounts/login/", "/healthz"):
        response = client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert "camera=()" in response["Permissions-Policy"]


def test_every_page_carries_a_strict_content_security_policy(client, admin_user, north, alice):
    """Every route, as an admin sees it (whatever the status), and the public pages: scripts and
    styles from the app only; the pages showing an email allow its inline styles, never scripts."""
    from .routes import project_routes

    customer = CustomerFactory(team=north, owner=alice)
    client.force_login(admin_user)
    email_pages = {"outbox_detail", "program_edit", "touchpoints:meeting_notes"}
    checked_an_email_page = False
    for route in project_routes():
        response = client.get(route.example_url(customer.pk))
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'", route.path
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", route.path
        if route.name not in email_pages:
            assert "unsafe" not in policy["style-src"], route.path
        elif response.status_code == 200:
            assert "'unsafe-inline'" in policy["style-src"], route.path
            checked_an_email_page = True
    assert checked_an_email_page
    client.logout()
    for url in ("/accounts/login/", "/s/not-a-real-token/", "/u/not-a-real-token/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "unsafe" not in policy and "script-src 'self'" in policy, url


def test_the_brand_colour_is_a_style_with_the_requests_nonce(client, settings):
    settings.BRAND_COLOR = "#aa3300"
    response = client.get("/accounts/login/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">:root {{ --brand: #aa3300; }}</style>' in response.content.decode()
    assert 'style="' not in response.content.decode()
