"""The results: NPS arithmetic, who sees which answers, and a constant number of queries."""

import re

import pytest

from customers.tests.factories import ContactFactory, CustomerFactory
from surveys.answers import response_record
from surveys.results import nps, survey_results
from surveys.tests.factories import InvitationFactory, SurveyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "promoters, passives, detractors, expected",
    [
        (0, 0, 0, None),  # no answers: no NPS
        (0, 5, 0, 0),  # all passive
        (5, 0, 0, 100),
        (0, 0, 5, -100),
        (6, 3, 1, 50),
        (1, 1, 1, 0),
        (2, 0, 1, 33),
    ],
)
def test_nps_is_percent_promoters_minus_percent_detractors(promoters, passives, detractors, expected):
    assert nps(promoters, passives, detractors) == expected


def answered(team, owner, scores, survey=None):
    survey = survey or SurveyFactory()
    for score in scores:
        customer = CustomerFactory(team=team, owner=owner)
        invitation = InvitationFactory(survey=survey, contact=ContactFactory(customer=customer))
        response_record(invitation=invitation, score=score, comment=f"said {score}")


def test_results_from_constructed_answers(north, alice, maria):
    answered(north, alice, [10, 9, 9, 8, 7, 3])
    InvitationFactory(contact=ContactFactory(customer=CustomerFactory(team=north, owner=alice)))  # unanswered
    csat = SurveyFactory(name="CSAT", kind="csat", question="Satisfied?")
    answered(north, alice, [5, 4, 2, 1], survey=csat)
    results = survey_results(user=maria)
    assert results["funnel"] == {"sent": 11, "opened": 10, "answered": 10, "rate": 91}
    assert results["by_kind"]["nps"].nps == round(100 * (3 - 1) / 6)
    assert results["by_kind"]["csat"].csat == 50
    assert results["distribution"]["nps"][9] == 2 and results["distribution"]["csat"][1] == 1


def test_an_account_manager_sees_their_own_book_and_a_manager_their_teams(
    north, south, alice, bob, charlie, maria
):
    answered(north, alice, [10])
    answered(north, bob, [0, 0])
    answered(south, charlie, [5])
    assert survey_results(user=alice)["by_kind"]["nps"].total == 1
    assert survey_results(user=charlie)["by_kind"]["nps"].total == 1
    assert survey_results(user=maria)["by_kind"]["nps"].total == 4


def test_the_results_page_runs_a_constant_number_of_queries(
    client, north, alice, maria, django_assert_max_num_queries
):
    answered(north, alice, [10, 9, 6])
    client.force_login(maria)
    with django_assert_max_num_queries(20) as few:
        client.get("/surveys/")
    answered(north, alice, list(range(11)) * 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/surveys/")
    assert page.status_code == 200 and "survey-chart-data" in page.content.decode()


def test_the_csv_has_one_row_per_answer_and_neutralises_formulas(client, north, alice):
    answered(north, alice, [9])
    invitation = InvitationFactory(contact=ContactFactory(customer=CustomerFactory(team=north, owner=alice)))
    response_record(invitation=invitation, score=1, comment='=HYPERLINK("http://evil")')
    client.force_login(alice)
    lines = b"".join(client.get("/surveys/answers.csv").streaming_content).decode().splitlines()
    assert lines[0].startswith("answered_at,") and len(lines) == 3
    assert "'=HYPERLINK" in lines[1]


def _tallies(results, heading):
    groups = dict(results["groups"])[heading]
    return {str(group): {kind: tally.total for kind, tally in tallies.items() if tally.total}
            for group, tallies in groups}


def test_results_count_by_month_team_account_manager_and_campaign(
    north, south, alice, bob, charlie, admin_user
):
    from django.utils import timezone

    from surveys.models import Campaign

    answered(north, alice, [10, 9, 1])
    answered(north, bob, [8])
    answered(south, charlie, [0, 0])
    csat = SurveyFactory(name="CSAT", kind="csat", question="Satisfied?")
    campaign = Campaign.objects.create(name="Spring", survey=csat, scheduled_for=timezone.now())
    customer = CustomerFactory(team=south, owner=charlie)
    invitation = InvitationFactory(survey=csat, campaign=campaign, contact=ContactFactory(customer=customer))
    response_record(invitation=invitation, score=5)

    results = survey_results(user=admin_user)

    assert _tallies(results, "By team") == {"North": {"nps": 4}, "South": {"nps": 2, "csat": 1}}
    assert _tallies(results, "By account manager") == {
        "alice": {"nps": 3}, "bob": {"nps": 1}, "charlie": {"nps": 2, "csat": 1}
    }
    this_month = results["months"][-1]["nps"]
    assert (this_month.promoters, this_month.passives, this_month.detractors) == (2, 1, 3)
    assert results["months"][-1]["csat"].csat == 100
    assert all(not row["nps"].total for row in results["months"][:-1])
    assert [(row["campaign"].name, row["sent"], row["answered"], row["tally"].csat)
            for row in results["campaigns"]] == [("Spring", 1, 1, 100)]


@pytest.mark.parametrize("how", ["save", "update"])
def test_a_customer_moved_to_another_book_takes_its_answers_along(north, south, alice, charlie, maria, how):
    from customers.models import Customer
    from surveys.models import Invitation, Response

    answered(north, alice, [10, 3])
    moved = Customer.objects.filter(owner=alice).first()
    assert Response.objects.filter(customer=moved, team=north, owner=alice).count() == 1
    if how == "save":
        moved.team, moved.owner = south, charlie
        moved.save()
    else:
        Customer.objects.filter(pk=moved.pk).update(team=south, owner=charlie)

    assert Invitation.objects.get(customer=moved).owner == charlie
    assert Response.objects.get(customer=moved).team == south
    assert survey_results(user=alice)["by_kind"]["nps"].total == 1
    assert survey_results(user=charlie)["by_kind"]["nps"].total == 1
    assert _tallies(survey_results(user=maria), "By team") == {"North": {"nps": 1}, "South": {"nps": 1}}


def test_every_way_of_writing_an_answer_carries_the_customers_book(client, north, alice):
    from surveys.models import Invitation, Response

    customer = CustomerFactory(team=north, owner=alice)
    clicked, recorded = (InvitationFactory(contact=ContactFactory(customer=customer)) for _ in range(2))
    client.post(f"/s/{clicked.token}/", {"step": "score", "score": "9"})
    response_record(invitation=recorded, score=2)
    assert set(Invitation.objects.values_list("team_id", "owner_id")) == {(north.pk, alice.pk)}
    assert list(Response.objects.values_list("team_id", "owner_id")) == [(north.pk, alice.pk)] * 2


def test_the_team_tables_say_which_survey_each_score_and_count_belongs_to(client, north, alice, maria):
    answered(north, alice, [10, 9, 6])
    client.force_login(maria)
    html = client.get("/surveys/").content.decode()
    head = html[html.index("<thead>", html.index("By team")):]
    head = head[:head.index("</thead>")]
    groups = re.findall(r'scope="colgroup" colspan="2"[^>]*>([^<]+)</th>', head)
    columns = re.findall(r'<th scope="col" class="text-end[^"]*">([^<]+)</th>', head)
    assert groups == ["NPS", "CSAT"]
    assert columns == ["Score", "Answers", "Satisfied", "Answers"]
