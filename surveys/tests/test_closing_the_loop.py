"""What an answer sets in motion: the latest score, recovery and referral tasks, suggestions."""

import datetime

import pytest
from django.core import mail

from customers.models import Customer
from customers.services import customer_create
from customers.tests.factories import ContactFactory, CustomerFactory
from surveys.answers import next_business_day, response_record
from surveys.models import Suggestion
from surveys.suggestions import suggestion_update, suggestions_merge
from surveys.tests.factories import InvitationFactory, SurveyFactory
from touchpoints.models import FollowUp, OutboxMessage
from touchpoints.services import touchpoint_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitation(north, alice):
    customer = CustomerFactory(team=north, owner=alice, name="Northwind")
    return InvitationFactory(contact=ContactFactory(customer=customer, is_primary=True))


def test_an_answer_sets_the_latest_score_and_an_older_one_does_not(invitation):
    older = InvitationFactory(contact=ContactFactory(customer=invitation.customer))
    response_record(invitation=invitation, score=8)
    response_record(invitation=older, score=2, now=invitation.created_at - datetime.timedelta(days=1))
    customer = Customer.objects.get(pk=invitation.customer_id)
    assert (customer.last_survey_score, customer.last_survey_kind) == (8, "nps")


def test_a_detractor_opens_a_recovery_task_on_today_closed_by_a_logged_call(client, invitation, alice):
    response_record(invitation=invitation, score=3, comment="Nobody called back")
    task = FollowUp.objects.get(kind="recovery")
    assert task.assignee == alice and task.due_on == next_business_day(invitation.customer.local_today())
    client.force_login(alice)
    today = client.get("/today/").content.decode()
    assert "Unhappy customers to call" in today and "Nobody called back" in today
    assert today.index("Unhappy customers to call") < today.index("Complaints to answer")

    client.post(f"/surveys/follow-ups/{task.pk}/log/", {"kind": "call", "summary": "Apologised, fixed it"})
    task.refresh_from_db()
    assert task.status == "done" and task.closed_with.summary == "Apologised, fixed it"
    assert "Unhappy customers to call" not in client.get("/today/").content.decode()


def test_the_recovery_task_is_flagged_to_the_owners_manager(client, invitation, maria):
    response_record(invitation=invitation, score=1)
    client.force_login(maria)
    assert "Northwind" in client.get("/today/").content.decode()


def test_a_touchpoint_logged_without_the_task_leaves_it_open(invitation, alice):
    response_record(invitation=invitation, score=0)
    touchpoint_log(customer=invitation.customer, user=alice, kind="call", summary="Other business")
    assert FollowUp.objects.get(kind="recovery").status == "open"


def test_amending_a_detractor_answer_opens_no_second_task(invitation):
    for score in (2, 4, 5):
        response_record(invitation=invitation, score=score)
    assert FollowUp.objects.filter(kind="recovery").count() == 1


def test_a_business_day_follows_friday_on_monday():
    assert next_business_day(datetime.date(2026, 11, 27)) == datetime.date(2026, 11, 30)
    assert next_business_day(datetime.date(2026, 11, 24)) == datetime.date(2026, 11, 25)


def test_a_promoter_is_asked_for_a_referral_and_the_referral_is_credited(client, invitation, alice, north):
    response_record(invitation=invitation, score=10)
    ask = FollowUp.objects.get(kind="referral_ask")
    assert ask.assignee == alice and ask.customer == invitation.customer
    referred = customer_create(
        user=alice, team=north, name="Referred Ltd", owner=alice, referred_by=invitation.customer
    )
    assert referred.created_at >= ask.created_at

    client.force_login(alice)
    page = client.get("/customers/referrers/")
    row = page.context["page"].object_list[0]
    assert (row["referral_count"], row["credited_count"]) == (1, 1)


def test_a_referral_recorded_before_the_ask_is_not_credited(client, invitation, alice, north):
    customer_create(user=alice, team=north, name="Earlier Ltd", owner=alice, referred_by=invitation.customer)
    response_record(invitation=invitation, score=9)
    client.force_login(alice)
    row = client.get("/customers/referrers/").context["page"].object_list[0]
    assert (row["referral_count"], row["credited_count"]) == (1, 0)


def test_a_done_suggestion_tells_each_customer_who_asked_once(
    invitation, maria, north, alice, mail_locmem, django_capture_on_commit_callbacks
):
    other = InvitationFactory(contact=ContactFactory(customer=CustomerFactory(team=north, owner=alice)))
    response_record(invitation=invitation, score=6, comment="Invoices in English please")
    response_record(invitation=other, score=7, comment="English invoices")
    kept, duplicate = invitation.response.suggestion, other.response.suggestion
    suggestions_merge(target=kept, duplicates=[duplicate], user=maria)
    assert Suggestion.objects.get(pk=duplicate.pk).status == "merged"

    with django_capture_on_commit_callbacks(execute=True):
        told = suggestion_update(
            suggestion=kept, user=maria, status="done", note="Invoices come in English now."
        )
        suggestion_update(suggestion=kept, user=maria, status="planned")
        again = suggestion_update(suggestion=kept, user=maria, status="done")
    assert (told, again) == (2, 0)
    messages = OutboxMessage.objects.filter(program="suggestion_done")
    assert sorted(messages.values_list("contact_id", flat=True)) == sorted(
        [invitation.contact_id, other.contact_id]
    )
    assert len(mail.outbox) == 2 and "Invoices come in English now." in mail.outbox[0].body


def test_script_in_a_comment_is_text_on_every_page_and_email(
    client, invitation, maria, alice, mail_locmem, django_capture_on_commit_callbacks
):
    evil = '<script>alert("x")</script>'
    response_record(invitation=invitation, score=2, comment=evil)
    suggestion = invitation.response.suggestion
    client.force_login(maria)
    for url in (
        "/surveys/",
        f"/surveys/suggestions/{suggestion.pk}/",
        "/surveys/suggestions/",
        invitation.customer.get_absolute_url(),
        "/today/",
    ):
        page = client.get(url).content.decode()
        assert evil not in page, url
    client.force_login(alice)
    assert evil not in client.get("/today/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        suggestion_update(suggestion=suggestion, user=maria, status="done", note=evil)
    html = mail.outbox[0].alternatives[0][0]
    assert evil not in html and "&lt;script&gt;" in html
    csv = b"".join(client.get("/surveys/answers.csv").streaming_content).decode()
    assert '<script>alert(""x"")</script>' in csv  # a CSV cell is data: kept as typed


def test_survey_answers_show_on_the_customer_timeline(client, invitation, alice):
    SurveyFactory()
    response_record(invitation=invitation, score=9, comment="Quick and friendly")
    client.force_login(alice)
    page = client.get(invitation.customer.get_absolute_url(), {"kind": "surveys"}).content.decode()
    assert "Survey answer" in page and "Quick and friendly" in page


def test_overlong_text_is_refused_with_a_reason_never_cut(invitation, maria):
    """Callers other than the forms (the API, imports) get an error, and nothing is stored."""
    from django.core.exceptions import ValidationError

    from surveys.models import Answer, Question

    question = Question.objects.create(survey=invitation.survey, kind=Question.Kind.TEXT, text="What else?")
    with pytest.raises(ValidationError, match="under 2,000 characters"):
        response_record(invitation=invitation, score=8, comment="", answers={question.pk: "x" * 2001})
    assert not Answer.objects.exists() and not Customer.objects.filter(last_survey_score=8).exists()

    response_record(invitation=invitation, score=7, comment="Invoices in English please")
    suggestion = Suggestion.objects.get()
    with pytest.raises(ValidationError, match="at most 80 characters"):
        suggestion_update(suggestion=suggestion, user=maria, theme="Billing " * 11)
    assert Suggestion.objects.get().theme == ""
