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


# The one-click first answer in one statement (``answers.first_answer_record``) ------------------


def _what_an_answer_leaves(invitation, announced):
    """Everything an answer writes, by what it is rather than by its ids and times."""
    from customers.models import Customer
    from touchpoints.models import FollowUp

    invitation.refresh_from_db()
    customer = Customer.objects.get(pk=invitation.customer_id)
    answer = Response.objects.get(invitation=invitation)
    return {
        "response": (answer.customer_id, answer.survey_id, answer.campaign_id, answer.kind, answer.score,
                     answer.category, answer.comment, answer.updated_at, answer.suggestion_id,
                     answer.created_at == invitation.answered_at),
        "invitation": (invitation.answered_at is not None, invitation.opened_at == invitation.answered_at),
        "customer": (customer.last_survey_score, customer.last_survey_kind,
                     customer.last_survey_at == answer.created_at, customer.health_stale),
        "tasks": sorted(
            (task.kind, task.title, task.assignee_id, task.due_on, task.occasion_key.split(":")[0])
            for task in FollowUp.objects.filter(customer=customer)
        ),
        "announced": [(event, data["survey"]["score"]) for event, data in announced],
    }


@pytest.fixture
def announced():
    from customers.events import customer_event

    heard = []

    def listen(sender, *, event_type, customer_id, data, **kwargs):
        heard.append((event_type, data))

    customer_event.connect(listen, dispatch_uid="test.one_click")
    yield heard
    customer_event.disconnect(dispatch_uid="test.one_click")


@pytest.mark.parametrize("kind,score", [("nps", 0), ("nps", 6), ("nps", 7), ("nps", 9), ("nps", 10),
                                        ("csat", 1), ("csat", 3), ("csat", 5)])
def test_the_one_click_first_answer_leaves_what_the_long_way_leaves(client, announced, kind, score):
    from customers.tests.factories import ContactFactory, CustomerFactory
    from surveys.tests.factories import SurveyFactory

    survey = SurveyFactory(name=kind.upper(), kind=kind)
    fast, slow = (
        InvitationFactory(survey=survey, contact=ContactFactory(customer=CustomerFactory(name=name)))
        for name in ("Clicked", "Recorded")
    )
    clicked = client.post(f"/s/{fast.token}/", {"step": "score", "score": str(score)})
    assert clicked.status_code == 302 and clicked["Location"] == f"/s/{fast.token}/?recorded=1"
    fast_left = _what_an_answer_leaves(fast, announced)
    announced.clear()
    response_record(invitation=slow, score=score)
    slow_left = _what_an_answer_leaves(slow, announced)

    assert fast_left["response"][3:] == slow_left["response"][3:]
    assert fast_left["response"][1] == slow_left["response"][1] == survey.pk
    assert {k: v for k, v in fast_left.items() if k != "response"} == {
        k: v for k, v in slow_left.items() if k != "response"
    }


def test_the_one_click_first_answer_is_one_statement(client):
    from django.test.utils import CaptureQueriesContext

    invitation = InvitationFactory()
    if connection.vendor != "postgresql":
        pytest.skip("the embedded database always takes the long way")
    # The claim, the response and the latest score in one statement, inside its transaction: a
    # passive answer, which opens no task, reads and writes nothing else.
    with CaptureQueriesContext(connection) as queries:
        client.post(f"/s/{invitation.token}/", {"step": "score", "score": "8"})
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(statements) == 1, statements
    assert Response.objects.get().score == 8


def test_the_one_click_first_answer_leaves_a_later_latest_score_alone(client):
    from customers.models import Customer

    invitation = InvitationFactory()
    later = timezone.now() + datetime.timedelta(hours=1)
    Customer.objects.filter(pk=invitation.customer_id).update(
        last_survey_score=3, last_survey_kind="csat", last_survey_at=later
    )
    client.post(f"/s/{invitation.token}/", {"step": "score", "score": "10"})
    customer = Customer.objects.get(pk=invitation.customer_id)
    kept = (customer.last_survey_score, customer.last_survey_kind, customer.last_survey_at)
    assert kept == (3, "csat", later)
    assert customer.health_stale


@pytest.mark.parametrize("score", ["0", "5"])
def test_a_one_click_score_out_of_a_csat_range_is_refused_and_records_nothing(client, score):
    from surveys.tests.factories import SurveyFactory

    invitation = InvitationFactory(survey=SurveyFactory(name="CSAT", kind="csat"))
    response = client.post(f"/s/{invitation.token}/", {"step": "score", "score": score})
    if score == "0":
        assert response.status_code == 200 and "Choose a score from 1 to 5" in response.content.decode()
        assert not Response.objects.exists()
    else:
        assert response.status_code == 302 and Response.objects.get().score == 5
