import datetime

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import Response
from surveys.tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db


def test_a_customer_answers_once_from_the_link(client):
    invitation = InvitationFactory()
    page = client.get(f"/s/{invitation.token}/")
    assert page.status_code == 200 and invitation.survey.question in page.content.decode()

    response = client.post(f"/s/{invitation.token}/", {"score": "9", "comment": "Great service"})

    assert "Thank you" in response.content.decode()
    answer = Response.objects.get()
    assert (answer.score, answer.category, answer.comment) == (9, "promoter", "Great service")


def test_a_reused_link_changes_nothing(client):
    invitation = InvitationFactory()
    client.post(f"/s/{invitation.token}/", {"score": "3"})
    again = client.post(f"/s/{invitation.token}/", {"score": "10"})
    assert "already been answered" in again.content.decode()
    assert list(Response.objects.values_list("score", "category")) == [(3, "detractor")]


def test_an_expired_link_is_refused(client):
    invitation = InvitationFactory(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.post(f"/s/{invitation.token}/", {"score": "9"})
    assert response.status_code == 410 and "closed" in response.content.decode()
    assert not Response.objects.exists()


@pytest.mark.parametrize("mangle", [lambda t: t[:-1], lambda t: t + "x", lambda t: t.upper(), lambda t: "1"])
def test_a_tampered_link_is_not_found(client, mangle):
    invitation = InvitationFactory()
    assert client.post(f"/s/{mangle(invitation.token)}/", {"score": "9"}).status_code == 404
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
