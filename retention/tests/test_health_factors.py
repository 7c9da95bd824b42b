"""
Each factor of the health score on constructed facts (``factors.assess`` is a pure function),
missing data left out, the weighted score and the bands; and the reasons in words.
"""

import datetime

import pytest

from retention.health.factors import assess, band_of, weighted_score
from retention.health.facts import Facts
from retention.health.reasons import action_label, reason_text
from retention.models import HealthWeights

NOW = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def at(n_days_ago):
    return NOW - datetime.timedelta(days=n_days_ago)


def facts(**fields):
    base = {"customer_id": 1, "now": NOW, "today": TODAY, "in_program": True, "cadence_days": 30,
            "cadence_max_days": 45, "last_contact_on": None, "customer_since": None}
    return Facts(**{**base, **fields})


WEIGHTS = HealthWeights()  # the defaults: 30/20/15/10/15/10, watch from 40, healthy from 70


def factor(key, **fields):
    return assess(facts(**fields), WEIGHTS).factors[key]


# Missing data --------------------------------------------------------------------------------------


def test_it_gives_no_score_to_a_customer_nothing_is_known_about():
    result = assess(facts(), WEIGHTS)
    assert result.score is None and result.band == ""
    assert all(f.score is None for f in result.factors.values())
    assert result.as_json(WEIGHTS) == {}


def test_it_leaves_missing_factors_out_instead_of_counting_them_as_bad():
    # Only contact is known, and it is fine: the score is that factor's, not dragged down.
    result = assess(facts(last_contact_on=days_ago(3)), WEIGHTS)
    assert result.factors["recency"].score == 100
    assert [k for k, f in result.factors.items() if f.score is not None] == ["recency"]
    assert result.score == 100 and result.band == "healthy"
    assert result.as_json(WEIGHTS)["factors"]["recency"]["share"] == 100


def test_it_scores_nothing_for_customers_out_of_the_program():
    assert assess(facts(in_program=False, last_contact_on=days_ago(3)), WEIGHTS).score is None


# Recency -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "score"), [
    (0, 100), (30, 100),  # within the cadence
    (31, 97), (45, 50),  # down to 50 at "overdue after" (45)
    (60, 34), (90, 0), (400, 0),  # down to 0 at twice "overdue after"
])
def test_recency_falls_from_the_cadence_to_twice_overdue_after(days, score):
    assert factor("recency", last_contact_on=days_ago(days)).score == score


def test_recency_counts_from_becoming_a_customer_when_never_contacted():
    found = factor("recency", customer_since=days_ago(47))
    assert found.score == 50 - 50 * 2 // 45  # 47 days: 2 past "overdue after" (45)
    assert found.reasons[0]["code"] == "never_contacted"
    assert reason_text(found.reasons[0], TODAY) == (
        "not contacted since becoming a customer 47 days ago, cadence 30")


def test_recency_says_how_long_and_the_cadence():
    found = factor("recency", last_contact_on=days_ago(47), customer_since=days_ago(900))
    assert reason_text(found.reasons[0], TODAY) == "no contact for 47 days, cadence 30 (last on 22 Jan)"
    assert found.action == {"kind": "log_call"}


# Survey ------------------------------------------------------------------------------------------


def answer(score, days, kind="nps", comment=""):
    return {"score": score, "kind": kind, "at": at(days), "comment": comment}


def test_survey_is_unknown_without_an_answer_in_the_last_year():
    assert factor("survey").score is None
    assert factor("survey", last_survey={**answer(2, 400)}).score is None


def test_survey_reads_the_latest_answer_from_the_customer_row():
    assert factor("survey", last_survey=answer(8, 10)).score == 80
    assert factor("survey", last_survey=answer(4, 10, kind="csat")).score == 75


def test_survey_moves_with_the_trend_from_the_answer_before():
    down = factor("survey", responses=[answer(5, 10, comment="support too slow"), answer(9, 100)])
    assert down.score == 50 - 10  # a quarter of the 40-point fall
    up = factor("survey", responses=[answer(9, 10), answer(5, 100)])
    assert up.score == 100  # 90 + 10
    csat_only = factor("survey", responses=[answer(2, 10, kind="csat"), answer(9, 100, kind="nps")])
    assert csat_only.score == 25  # answers of another kind are no trend


def test_survey_reasons_name_the_detractor_its_date_and_comment():
    found = factor("survey", responses=[answer(3, 159, comment="support too slow"), answer(8, 200)])
    texts = [reason_text(r, TODAY) for r in found.reasons]
    assert texts == ["detractor 3/10 on 2 Oct 2025: “support too slow”",
                     "satisfaction down to 3/10 from 8/10 on 22 Aug 2025"]
    assert found.action == {"kind": "log_call"}


def test_the_customer_rows_answer_wins_when_newer_than_the_responses():
    found = factor("survey", last_survey=answer(9, 2), responses=[answer(3, 20)])
    assert found.score == 100  # 9 after 3: 90, up a quarter of 60, capped at 100


# Complaints --------------------------------------------------------------------------------------


def complaint(severity="medium", opened_days=1, status="acknowledged", breached=False, pk=7):
    opened = at(opened_days)
    due = NOW - datetime.timedelta(hours=1) if breached else NOW + datetime.timedelta(days=3)
    return {"pk": pk, "summary": "Invoice sent twice", "severity": severity, "status": status,
            "opened_at": opened, "first_response_due_at": due, "resolution_due_at": due}


def test_complaints_are_unknown_without_any_in_a_year():
    assert factor("complaints").score is None


def test_complaints_cost_by_severity_and_more_past_their_target():
    assert factor("complaints", open_complaints=[complaint("low")]).score == 80
    assert factor("complaints", open_complaints=[complaint("critical")]).score == 40
    assert factor("complaints", open_complaints=[complaint("high", breached=True)]).score == 35
    two = factor("complaints", open_complaints=[complaint("critical", breached=True), complaint("high")])
    assert two.score == 0  # 80 + 45, floored at 0


def test_resolved_complaints_of_the_year_cost_a_little():
    assert factor("complaints", resolved_complaints=1).score == 95
    assert factor("complaints", resolved_complaints=9).score == 80  # 20 at most


def test_the_complaint_reason_and_action_point_at_the_worst_one():
    found = factor("complaints",
                   open_complaints=[complaint("low", pk=1), complaint("high", breached=True, pk=2)])
    assert found.action["id"] == 2 and found.action["kind"] == "resolve_complaint"
    assert reason_text(found.reasons[1], TODAY) == (
        "high complaint “Invoice sent twice” open since 9 Mar, past its target")
    assert action_label(found.action) == "Resolve the complaint “Invoice sent twice”"


# Promises ----------------------------------------------------------------------------------------


def promise(due_days_ago, pk=3, description="send revised quote"):
    return {"pk": pk, "description": description, "due_on": days_ago(due_days_ago)}


def test_promises_are_unknown_without_any():
    assert factor("promises").score is None


def test_an_open_promise_not_yet_due_costs_nothing():
    assert factor("promises", open_promises=[promise(-3)]).score == 100


def test_overdue_broken_and_late_promises_cost():
    assert factor("promises", open_promises=[promise(5)]).score == 100 - 35
    assert factor("promises", open_promises=[promise(40)]).score == 50  # 50 at most each
    assert factor("promises", broken_promises=2, late_promises=1).score == 50


def test_the_promise_reason_says_how_overdue():
    found = factor("promises", open_promises=[promise(5)])
    assert reason_text(found.reasons[0], TODAY) == "promise “send revised quote” 5 days overdue"
    assert found.action == {"kind": "keep_promise", "id": 3, "description": "send revised quote"}


# Purchases ---------------------------------------------------------------------------------------


def test_purchases_are_unknown_without_any_in_two_years():
    assert factor("purchases").score is None


def test_the_purchase_trend_compares_the_last_90_days_with_the_90_before():
    found = factor("purchases", purchases_recent=400_00, purchases_before=1_000_00, purchase_count=2,
                   first_purchase_on=days_ago(120), last_purchase_on=days_ago(10))
    trend, rhythm = 40, 100  # 10 days since the last purchase, usually every 110
    assert found.score == (trend + rhythm) // 2
    assert reason_text(found.reasons[0], TODAY) == "purchases down 60 % on the previous 90 days"


def test_the_rhythm_compares_the_time_since_the_last_purchase_with_the_usual_gap():
    found = factor("purchases", purchases_before=0, purchases_recent=0, purchase_count=5,
                   first_purchase_on=days_ago(200), last_purchase_on=days_ago(60))
    # Usually every 35 days; 60 since the last: 100 − 50 × 25 / 35.
    assert found.score == 65
    assert reason_text(found.reasons[0], TODAY) == (
        "no purchase for 60 days (last on 9 Jan); usually every 35")
    three_gaps = factor("purchases", purchase_count=5, first_purchase_on=days_ago(245),
                        last_purchase_on=days_ago(105))
    assert three_gaps.score == 0


def test_no_purchases_after_some_is_said_plainly():
    found = factor("purchases", purchases_recent=0, purchases_before=2_500_00, purchase_count=1,
                   first_purchase_on=days_ago(150), last_purchase_on=days_ago(150))
    assert found.score == 0
    assert reason_text(found.reasons[0], TODAY).startswith(
        "no purchases in the last 90 days, after 2,500 ")


# Engagement --------------------------------------------------------------------------------------


def test_engagement_is_unknown_without_signals():
    assert factor("engagement", contacts_with_email=3).score is None


def test_engagement_adds_inbound_touches_and_answers_and_takes_off_ignored_invitations():
    assert factor("engagement", inbound_touches=2).score == 80
    assert factor("engagement", invitations=3, invitations_answered=3).score == 80
    assert factor("engagement", invitations=4, invitations_ignored=4).score == 30


def test_unsubscribes_cost_engagement():
    some = factor("engagement", contacts_with_email=3, contacts_unsubscribed=1)
    every = factor("engagement", contacts_with_email=2, contacts_unsubscribed=2,
                   last_unsubscribed_on=days_ago(7))
    assert (some.score, every.score) == (40, 20)
    assert reason_text(every.reasons[0], TODAY) == (
        "every contact has unsubscribed from email (the last on 3 Mar)")


# The score and the bands ---------------------------------------------------------------------------


def test_the_score_is_the_weighted_average_of_the_known_factors_rounded_half_up():
    scores = {"recency": 50, "survey": None, "complaints": 80, "promises": None, "purchases": None,
              "engagement": None}
    assert weighted_score(scores, WEIGHTS) == round((30 * 50 + 15 * 80) / 45)  # 60
    assert weighted_score({**scores, "recency": 51}, WEIGHTS) == 61  # 60.67 → 61
    zero = HealthWeights(recency=0, complaints=0)
    assert weighted_score(scores, zero) is None


@pytest.mark.parametrize(("score", "band"), [
    (None, ""), (0, "at_risk"), (39, "at_risk"), (40, "watch"), (69, "watch"), (70, "healthy"),
    (100, "healthy"),
])
def test_band_thresholds(score, band):
    assert band_of(score, WEIGHTS) == band


def test_band_thresholds_follow_the_admins_settings():
    strict = HealthWeights(watch_from=60, healthy_from=90)
    assert [band_of(s, strict) for s in (59, 60, 89, 90)] == ["at_risk", "watch", "watch", "healthy"]


def test_reasons_are_ranked_by_what_they_cost_the_total():
    result = assess(facts(last_contact_on=days_ago(60), open_promises=[promise(2)],
                          open_complaints=[complaint("critical", breached=True)]), WEIGHTS)
    # 66 points of contact × 30, 80 of the complaint × 15, 29 of the promise × 10 (of 55).
    assert [r["code"] for r in result.reasons] == ["no_contact", "complaint_open", "promise_overdue"]
    assert [r["impact"] for r in result.reasons] == [36.0, 21.8, 5.2]
    assert result.reasons[0]["impact"] > result.reasons[1]["impact"] > result.reasons[2]["impact"]
    assert result.action == {"kind": "log_call"}  # the costliest reason's


def test_an_override_replaces_the_score_and_keeps_the_factors():
    override = {"score": 85, "comment": "Renewed for three years", "expires_on": days_ago(-20),
                "at": NOW, "by": "Maria Manager", "id": 1}
    result = assess(facts(last_contact_on=days_ago(80), override=override), WEIGHTS)
    assert (result.score, result.band, result.computed) == (85, "healthy", 12)  # recency alone
    stored = result.as_json(WEIGHTS)
    assert stored["computed"] == 12 and stored["override"]["comment"] == "Renewed for three years"
