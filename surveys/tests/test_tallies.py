"""The results' tallies, kept by PostgreSQL: always what counting the rows afresh gives."""

import pytest
from django.db import connection

from customers.models import Customer
from customers.tests.factories import ContactFactory, CustomerFactory
from surveys import tallies
from surveys.answers import response_record
from surveys.campaigns import campaign_create, campaign_send
from surveys.models import AnswerTally, Invitation, InvitationTally, Response
from surveys.results import survey_results
from surveys.tests.factories import SurveyFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite counts the rows themselves"),
]


def kept():
    """Both tallies as the triggers keep them, without the groups counted down to nothing."""
    answers = {(t.team_id, t.owner_id, t.kind, t.score, t.category, t.month, t.campaign_id): t.answers
               for t in AnswerTally.objects.exclude(answers=0)}
    invitations = {(t.team_id, t.owner_id, t.campaign_id): (t.sent, t.opened, t.answered)
                   for t in InvitationTally.objects.exclude(sent=0)}
    return answers, invitations


def counted_afresh():
    for tally in tallies.SOURCES:
        tallies.recount(tally)
    return kept()


def assert_kept_true():
    before = kept()
    assert before == counted_afresh()
    return before


@pytest.fixture
def sent(north, south, alice, charlie, maria):
    """A campaign to four North and two South customers (one INSERT … SELECT), two North ones answered."""
    for team, owner, n in ((north, alice, 4), (south, charlie, 2)):
        for _ in range(n):
            ContactFactory(customer=CustomerFactory(team=team, owner=owner), is_primary=True)
    campaign = campaign_send(campaign=campaign_create(user=maria, survey=SurveyFactory(), name="Spring",
                                                      filters={}))
    invitations = list(Invitation.objects.filter(campaign=campaign, team=north).order_by("pk"))
    response_record(invitation=invitations[0], score=10, comment="Great")
    response_record(invitation=invitations[1], score=3)
    return campaign, invitations


def test_a_campaign_and_its_answers_are_counted_as_written(sent, north, alice):
    campaign, invitations = sent
    answers, invitation_counts = assert_kept_true()
    assert sum(invitation_counts[key][0] for key in invitation_counts) == 6
    assert invitation_counts[north.pk, alice.pk, campaign.pk] == (4, 2, 2)
    assert sorted(answers.values()) == [1, 1]


def test_an_amended_score_an_opened_invitation_and_a_deleted_answer_move_the_counts(sent):
    campaign, invitations = sent
    response_record(invitation=invitations[0], score=6)  # an amendment: promoter to detractor
    Invitation.objects.filter(pk=invitations[2].pk).update(opened_at=invitations[2].created_at)
    assert_kept_true()
    Response.objects.filter(invitation=invitations[1]).delete()
    answers, _ = assert_kept_true()
    assert [(key[2], key[3]) for key in answers] == [("nps", 6)]


def test_a_customer_moved_to_another_book_takes_its_counts_along(sent, south, charlie, maria):
    campaign, invitations = sent
    Customer.objects.filter(pk=invitations[0].customer_id).update(team=south, owner=charlie)
    answers, invitation_counts = assert_kept_true()
    assert invitation_counts[south.pk, charlie.pk, campaign.pk] == (3, 1, 1)
    results = survey_results(user=charlie)
    assert (results["funnel"]["sent"], results["by_kind"]["nps"].promoters) == (3, 1)


def test_the_results_read_the_tallies(sent, maria):
    campaign, invitations = sent
    AnswerTally.objects.filter(score=10).update(answers=5)  # what the page shows comes from here
    assert survey_results(user=maria)["by_kind"]["nps"].promoters == 5
    tallies.recount(tallies.ANSWERS)
    assert survey_results(user=maria)["by_kind"]["nps"].promoters == 1


@pytest.mark.django_db(transaction=True)
def test_emptied_tables_empty_their_tallies(sent):
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE surveys_response, surveys_invitation CASCADE")
    assert kept() == ({}, {})


def test_a_new_time_zone_counts_the_months_afresh(sent, settings):
    month_of = AnswerTally.objects.values_list("month", flat=True)
    assert set(month_of) == {Response.objects.first().created_at.date().replace(day=1)}
    AnswerTally.objects.update(answers=0)  # what a recount puts right
    settings.TIME_ZONE = "Pacific/Kiritimati"
    tallies.install()
    assert sorted(AnswerTally.objects.values_list("answers", flat=True)) == [1, 1]
