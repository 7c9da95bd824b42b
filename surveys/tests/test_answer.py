"""The public survey page: tokens, one click, amending, double submits, the rate limit, escaping."""

import datetime
import secrets
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from conftest import require_or_skip
from surveys.answers import response_record
from surveys.models import Response
from surveys.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def test_a_customer_answers_from_the_link_and_adds_a_comment(client):
    invitation = InvitationFactory()
    page = client.get(f"/s/{invitation.token}/")
    assert page.status_code == 200 and invitation.survey.question in page.content.decode()

    response = client.post(f"/s/{invitation.token}/", {"score": "9", "comment": "Great service"})

    assert "Thank you" in response.content.decode()
    answer = Response.objects.get()
    assert (answer.score, answer.category, answer.comment) == (9, "promoter", "Great service")
    invitation.refresh_from_db()
    assert invitation.answered_at is not None


def test_fetching_every_score_link_records_nothing(client):
    invitation = InvitationFactory()
    for score in range(0, 11):
        page = client.get(f"/s/{invitation.token}/?score={score}")
        assert page.status_code == 200
        assert f"Send my score: {score}" in page.content.decode()
    client.get(f"/s/{invitation.token}/")
    invitation.refresh_from_db()
    assert not Response.objects.exists()
    assert invitation.answered_at is None and invitation.opened_at is None


def test_one_click_records_the_score_then_the_comment_amends_it(client):
    invitation = InvitationFactory()
    clicked = client.post(f"/s/{invitation.token}/", {"step": "score", "score": "4"})
    assert clicked.status_code == 302 and clicked["Location"] == f"/s/{invitation.token}/?recorded=1"
    assert Response.objects.get().score == 4

    page = client.get(clicked["Location"])
    assert "your score is recorded" in page.content.decode()
    client.post(f"/s/{invitation.token}/", {"score": "7", "comment": "Delivery was late twice"})

    answer = Response.objects.get()
    assert (answer.score, answer.category, answer.comment) == (7, "passive", "Delivery was late twice")
    assert answer.updated_at is not None
    assert "You answered 7" in client.get(f"/s/{invitation.token}/").content.decode()


def test_a_second_click_in_the_email_amends_and_keeps_the_comment(client):
    invitation = InvitationFactory()
    client.post(f"/s/{invitation.token}/", {"score": "3", "comment": "Slow support"})
    client.post(f"/s/{invitation.token}/", {"step": "score", "score": "8"})
    answer = Response.objects.get()
    assert (answer.score, answer.comment) == (8, "Slow support")


def test_a_double_submit_makes_one_response(client):
    invitation = InvitationFactory()
    for _ in range(3):
        client.post(f"/s/{invitation.token}/", {"score": "10", "comment": "Brilliant"})
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_tabs_at_once_make_one_response():
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent transactions")
    invitation = InvitationFactory()
    barrier = threading.Barrier(4)
    errors = []

    def answer(score):
        try:
            barrier.wait()
            response_record(invitation=invitation, score=score, comment=f"tab {score}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(score,)) for score in (2, 5, 8, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Response.objects.filter(invitation=invitation).count() == 1


def test_an_expired_link_is_refused_with_410(client):
    invitation = InvitationFactory(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(f"/s/{invitation.token}/", {"score": "9"})
    assert response.status_code == 410 and "closed" in response.content.decode()
    assert client.get(f"/s/{invitation.token}/?score=9").status_code == 410
    assert not Response.objects.exists()


def test_an_answered_link_can_no_longer_be_amended_once_expired(client):
    invitation = InvitationFactory()
    client.post(f"/s/{invitation.token}/", {"score": "9", "comment": "Fine"})
    invitation.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    invitation.save(update_fields=["expires_at"])
    refused = client.post(f"/s/{invitation.token}/", {"score": "1"})
    assert refused.status_code == 410 and "Your answer, 9, reached us" in refused.content.decode()
    assert Response.objects.get().score == 9


@pytest.mark.parametrize("mangle", [lambda t: t[:-1], lambda t: t + "x", lambda t: t.upper(), lambda t: "1"])
def test_a_tampered_link_is_not_found_and_tells_nothing(client, mangle):
    invitation = InvitationFactory()
    response = client.post(f"/s/{mangle(invitation.token)}/", {"score": "9"})
    assert response.status_code == 404
    assert invitation.customer.name not in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("score", ["11", "-1", "", "nine"])
def test_an_out_of_range_score_is_refused(client, score):
    invitation = InvitationFactory()
    response = client.post(f"/s/{invitation.token}/", {"score": score})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Response.objects.exists()


def test_tokens_carry_at_least_128_bits():
    tokens = {InvitationFactory().token for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) >= 22 for t in tokens)  # base64: 6 bits a character


def test_the_survey_page_needs_the_csrf_token_it_gives(db):
    invitation = InvitationFactory()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(f"/s/{invitation.token}/", {"score": "9"}).status_code == 403
    assert not Response.objects.exists()


def test_script_typed_in_a_comment_renders_as_text(client):
    invitation = InvitationFactory()
    evil = '<script>alert("x")</script>'
    client.post(f"/s/{invitation.token}/", {"score": "2", "comment": evil})
    page = client.get(f"/s/{invitation.token}/").content.decode()
    assert evil not in page and "&lt;script&gt;" in page


@pytest.fixture
def shared_cache(settings):
    """The real cache the workers share (Redis in CI); a limit of 5 a minute."""
    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        require_or_skip("the rate limit is tested on the Redis cache every worker shares")
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 5
    return cache


def test_the_public_pages_answer_429_past_the_limit_per_client(shared_cache):
    # A client address of its own, so no earlier run's counter is in its window.
    client = Client(
        REMOTE_ADDR=f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    )
    invitation = InvitationFactory()
    statuses = [client.get(f"/s/{invitation.token}/?score=9").status_code for _ in range(5)]
    limited = client.get(f"/s/{invitation.token}/")
    assert statuses == [200] * 5
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    # The unsubscribe page counts in the same window; another client does not.
    assert client.get(f"/u/{invitation.contact.unsubscribe_token}/").status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.1" if client.defaults["REMOTE_ADDR"] != "192.0.2.1" else "192.0.2.2")
    assert other.get(f"/s/{invitation.token}/").status_code == 200
    assert not Response.objects.exists()
