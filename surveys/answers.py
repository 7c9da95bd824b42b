"""
Recording an answer, and everything an answer sets in motion.

One response per invitation: the first answer creates it, a later one (the comment page, a second
tab, a changed mind) amends it in place until the invitation expires. The invitation row is locked
for the transaction, so a double submit or two tabs make one response, never two. The first
one-click answer, the busiest public request, is one statement by the token
(``first_answer_record``); everything else takes ``response_record``.

Closing the loop, in the same transaction:

- the customer's latest score (``Customer.last_survey_*``), only if this answer is the latest;
- a **detractor** (NPS 0–6, CSAT 1–2) opens a recovery task for the owner, due within one
  business day, keyed ``recovery:<response>``; it closes when a touchpoint is logged against it;
- a **promoter** (NPS 9–10) opens an "ask for a referral" task, ``referral_ask:<response>``,
  unless one is already open for the customer; a referral recorded afterwards is credited to it
  (``customers.selectors.top_referrers``);
- the free text becomes a **suggestion** for managers to triage (``suggestions.py``);
- a reminder still waiting in the outbox is suppressed: no reminder after an answer;
- the customer's health score is marked stale (``Customer.health_stale``) in the same UPDATE, and
  recomputed by the minute's sweep: answers come by the thousand after a campaign, on the busiest
  public endpoint, and nobody waits on a page for that score. The timeline reads responses
  directly (``selectors.RESPONSES``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.events import EventType, customer_event_announce
from customers.models import Customer
from touchpoints.models import FollowUp, OutboxMessage

from .models import Answer, Invitation, Question, Response, Suggestion, Survey

REFERRAL_ASK_DAYS = 7
# Answers the outside world hears of (``customers.events``), by the category of ``Response.categorize``.
ANNOUNCED = {Response.Category.DETRACTOR: EventType.SURVEY_DETRACTOR,
             Response.Category.PROMOTER: EventType.SURVEY_PROMOTER}
ANSWER_MAX_LENGTH = 2000  # a further question's answer (the form says so before this does)


class AnswerRefused(Exception):
    """An invitation that can no longer be answered; ``reason`` is 'expired'."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def invitation_create(*, survey, customer, contact=None, campaign=None, occasion_key=None):
    """One invitation made by hand (tests, the demo); campaigns and triggers write theirs in bulk."""
    return Invitation.objects.create(
        survey=survey,
        customer=customer,
        contact=contact,
        campaign=campaign,
        occasion_key=occasion_key,
        expires_at=Invitation.default_expiry(survey),
    )


def invitation_opened(*, invitation, now=None):
    """The page was opened by a person (its script ran): counted once, for the results' "opened"."""
    Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
        opened_at=now or timezone.now()
    )


@transaction.atomic
def response_record(*, invitation, score, comment=None, answers=None, now=None):
    """
    Record the answer to ``invitation``, or amend the one recorded. ``comment`` None keeps the
    comment as it is (a one-click score); ``answers`` is ``{question_id: value}`` of the further
    questions, None to keep them. Raises ``AnswerRefused`` once the invitation has expired.
    """
    now = now or timezone.now()
    survey = invitation.survey
    if score not in survey.score_range:
        raise ValidationError(
            {"score": f"Choose a score from {survey.score_range[0]} to {survey.score_range[-1]}."}
        )
    category = Response.categorize(survey.kind, score)
    # The first answer, the common case, claims the invitation with one UPDATE, which locks its
    # row: of two submits at once, the second finds it answered, waits for the first to commit,
    # and amends. An invitation already answered, expired or reminded takes the longer way.
    claimed = Invitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, reminded_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now, opened_at=Coalesce("opened_at", now))
    if claimed:
        invitation.answered_at, invitation.reminded_at = now, None
        response = None
    else:
        response = _response_to_amend(invitation, now)
    # Announced when the answer becomes a detractor's or promoter's, not again as it is amended.
    announce = response is None or response.category != category
    if response is None:
        response = Response.objects.create(
            invitation=invitation,
            customer_id=invitation.customer_id,
            survey=survey,
            campaign_id=invitation.campaign_id,
            kind=survey.kind,
            score=score,
            category=category,
            comment=(comment or "").strip(),
            created_at=now,
        )
    else:
        response.score, response.category, response.updated_at = score, category, now
        fields = ["score", "category", "updated_at"]
        if comment is not None:
            response.comment = comment.strip()
            fields.append("comment")
        response.save(update_fields=fields)
    if answers is not None:
        _answers_save(response, survey, answers)
    _close_the_loop(response, invitation, now)
    if announce and category in ANNOUNCED:
        customer_event_announce(event_type=ANNOUNCED[category], customer_id=response.customer_id,
                                data=response.event_data())
    return response


def _first_answer_sql():
    invitation, survey, response, customer = (
        model._meta.db_table for model in (Invitation, Survey, Response, Customer)
    )
    return f"""
    WITH claimed AS (
        UPDATE {invitation} AS i
        SET answered_at = %(now)s, opened_at = COALESCE(i.opened_at, %(now)s)
        FROM {survey} AS s
        WHERE i.token = %(token)s AND s.id = i.survey_id
          AND i.answered_at IS NULL AND i.reminded_at IS NULL AND i.expires_at > %(now)s
          AND s.kind = ANY(%(kinds)s)
        RETURNING i.id, i.customer_id, i.team_id, i.owner_id, i.survey_id, i.campaign_id, s.kind
    ), answer AS (
        INSERT INTO {response} (invitation_id, customer_id, team_id, owner_id, survey_id, campaign_id,
                                kind, score, category, comment, created_at)
        SELECT id, customer_id, team_id, owner_id, survey_id, campaign_id, kind, %(score)s,
               CASE kind WHEN %(nps)s THEN %(nps_category)s ELSE %(csat_category)s END, '', %(now)s
        FROM claimed
        RETURNING id, invitation_id, customer_id, survey_id, campaign_id, kind, category
    ), latest AS (
        UPDATE {customer} AS c
        SET health_stale = true,
            last_survey_score =
                CASE WHEN c.last_survey_at > %(now)s THEN c.last_survey_score ELSE %(score)s END,
            last_survey_kind =
                CASE WHEN c.last_survey_at > %(now)s THEN c.last_survey_kind ELSE a.kind END,
            last_survey_at = GREATEST(c.last_survey_at, %(now)s)
        FROM answer AS a
        WHERE c.id = a.customer_id
        RETURNING c.owner_id, c.timezone
    )
    SELECT answer.*, latest.owner_id, latest.timezone FROM answer, latest
    """


FIRST_ANSWER_SQL = _first_answer_sql()


@transaction.atomic
def first_answer_record(*, token, score, now=None):
    """
    The one-click answer to an invitation nobody has answered yet, the busiest public request, in
    one statement: the invitation claimed (as ``response_record`` claims it), the response written
    and the customer's latest score set, all by the token. Then the owner's task and the announced
    event, as ``response_record`` opens them. Returns the response, or None for everything else
    (unknown, expired, answered or reminded, a score out of the survey's range), which the caller
    takes the long way (``response_record``) to answer it or say why not. PostgreSQL only (the
    embedded database takes the long way every time).
    """
    if connection.vendor != "postgresql":
        return None
    now = now or timezone.now()
    kinds = [kind for kind in Survey.Kind.values if score in Survey.range_of(kind)]
    if not kinds:
        return None
    with connection.cursor() as cursor:
        cursor.execute(FIRST_ANSWER_SQL, {
            "token": token, "score": score, "now": now, "kinds": kinds, "nps": Survey.Kind.NPS,
            "nps_category": Response.categorize(Survey.Kind.NPS, score),
            "csat_category": Response.categorize(Survey.Kind.CSAT, score),
        })
        row = cursor.fetchone()
    if row is None:
        return None
    pk, invitation_id, customer_id, survey_id, campaign_id, kind, category, owner_id, tz = row
    response = Response(
        pk=pk, invitation_id=invitation_id, customer_id=customer_id, survey_id=survey_id,
        campaign_id=campaign_id, kind=kind, score=score, category=category, created_at=now,
    )
    response._state.adding, response._state.db = False, connection.alias
    _tasks_open(response, lambda: Customer(pk=customer_id, owner_id=owner_id, timezone=tz))
    if category in ANNOUNCED:
        customer_event_announce(event_type=ANNOUNCED[category], customer_id=customer_id,
                                data=response.event_data())
    return response


def _response_to_amend(invitation, now):
    """
    The response an answer amends, with the invitation's row locked; None for an unanswered (but
    reminded) invitation, which is then marked answered. Raises ``AnswerRefused`` once expired.
    """
    expires_at, answered_at, reminded_at = (
        Invitation.objects.select_for_update()
        .filter(pk=invitation.pk)
        .values_list("expires_at", "answered_at", "reminded_at")
        .get()
    )
    if expires_at <= now:
        raise AnswerRefused("expired")
    invitation.answered_at, invitation.reminded_at = answered_at, reminded_at
    # An unanswered invitation has no response: its answer and answered_at are written together.
    if answered_at is not None:
        return Response.objects.get(invitation=invitation)
    Invitation.objects.filter(pk=invitation.pk).update(answered_at=now, opened_at=Coalesce("opened_at", now))
    invitation.answered_at = now
    return None


def _answers_save(response, survey, answers):
    questions = {q.pk: q for q in survey.questions.all()}
    for question_id, value in answers.items():
        question = questions.get(question_id)
        if question is None:
            continue
        value = str(value).strip()
        if len(value) > ANSWER_MAX_LENGTH:
            message = f"Please keep it under {ANSWER_MAX_LENGTH:,} characters."
            raise ValidationError({f"q{question.pk}": message})
        if not value:
            Answer.objects.filter(response=response, question=question).delete()
            continue
        if question.kind == Question.Kind.CHOICE and value not in question.choice_list:
            raise ValidationError({f"q{question.pk}": "Choose one of the options."})
        Answer.objects.update_or_create(response=response, question=question, defaults={"value": value})


def _close_the_loop(response, invitation, now):
    # The answer becomes the customer's latest score if it is the latest; either way the health
    # score is marked stale for the minute's sweep (``retention.health.recompute.health_sweep``).
    latest = Customer.objects.filter(pk=invitation.customer_id).filter(
        Q(last_survey_at__isnull=True) | Q(last_survey_at__lte=response.created_at)
    ).update(
        last_survey_score=response.score, last_survey_kind=response.kind, last_survey_at=response.created_at,
        health_stale=True,
    )
    if not latest:
        Customer.objects.filter(pk=invitation.customer_id).update(health_stale=True)
    _tasks_open(response, lambda: _task_customer(invitation))
    suggestion_from_answer(response=response, now=now)
    if invitation.reminded_at is not None:
        OutboxMessage.objects.filter(
            occasion_key=f"survey_reminder:{invitation.pk}", status=OutboxMessage.Status.PENDING
        ).update(status=OutboxMessage.Status.SUPPRESSED, last_error="answered before the reminder went out")


def _tasks_open(response, customer):
    """The owner's task a detractor or an NPS promoter calls for; ``customer()`` reads its customer."""
    if response.category == Response.Category.DETRACTOR:
        recovery_open(response=response, customer=customer())
    elif response.category == Response.Category.PROMOTER and response.kind == Survey.Kind.NPS:
        referral_ask_open(response=response, customer=customer())


def _task_customer(invitation):
    """The customer as a follow-up needs it (owner, time zone): the one-click answer never read it."""
    if Invitation.customer.is_cached(invitation):
        return invitation.customer
    return Customer.objects.only("owner_id", "timezone").get(pk=invitation.customer_id)


def next_business_day(day):
    """The next working day after ``day`` (Saturday and Sunday are not)."""
    day += datetime.timedelta(days=1)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def recovery_open(*, response, customer):
    """
    The owner's task to win back an unhappy customer, due within one business day: one per
    response (its occasion key), written with one INSERT that a second answer finds taken. An
    amended answer (the comment added after the one-click score) rewrites it while it is open.
    """
    label = "NPS" if response.kind == Survey.Kind.NPS else "CSAT"
    said = f": “{response.comment[:100]}”" if response.comment else ""
    wording = {
        "title": f"Call back after a low score, {label} {response.score}{said}"[:200],
        "notes": response.comment,
    }
    key = f"recovery:{response.pk}"
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                occasion_key=key,
                customer=customer,
                assignee_id=customer.owner_id,
                kind=FollowUp.Kind.RECOVERY,
                due_on=next_business_day(customer.local_today()),
                **wording,
            )
        ],
        ignore_conflicts=True,
    )
    if response.updated_at is not None:  # an amendment: the task may say what the first answer said
        FollowUp.objects.filter(occasion_key=key, status=FollowUp.Status.OPEN).update(**wording)


def referral_ask_open(*, response, customer):
    """A promoter: the owner's task to ask for a referral, unless one is already open."""
    if FollowUp.objects.open().filter(customer=customer, kind=FollowUp.Kind.REFERRAL_ASK).exists():
        return
    # One INSERT that an amended answer (its occasion key taken) leaves as it is.
    FollowUp.objects.bulk_create(
        [
            FollowUp(
                occasion_key=f"referral_ask:{response.pk}",
                customer=customer,
                assignee_id=customer.owner_id,
                kind=FollowUp.Kind.REFERRAL_ASK,
                title=f"Ask for a referral: a promoter, NPS {response.score}"[:200],
                due_on=customer.local_today() + datetime.timedelta(days=REFERRAL_ASK_DAYS),
            )
        ],
        ignore_conflicts=True,
    )


def suggestion_from_answer(*, response, now):
    """
    The free text as a suggestion: a new one for a first comment; an amended comment rewrites
    its suggestion while that is still new and only this customer's (else the managers' triage of
    it stands).
    """
    text = response.comment.strip()
    if not text:
        return None
    if response.suggestion_id is None:
        suggestion = Suggestion.objects.create(text=text, created_at=now)
        Response.objects.filter(pk=response.pk).update(suggestion=suggestion)
        response.suggestion = suggestion
        return suggestion
    Suggestion.objects.filter(pk=response.suggestion_id, status=Suggestion.Status.NEW).exclude(
        responses__in=Response.objects.exclude(pk=response.pk)
    ).update(text=text)
    return response.suggestion
