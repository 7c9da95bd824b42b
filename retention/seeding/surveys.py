"""
The demo's surveys: the NPS and CSAT surveys, campaigns sent through the app's own services
(invitations and their messages in the outbox), answers with comments in plain business language
(recovery and referral tasks, suggestions, the customers' latest scores, all as an answer makes
them), and a few suggestions already triaged.

The campaigns are sent now and their history is then moved back over the past year, so the
results' NPS trend has months to show; the messages of that history are marked sent.
"""

import datetime
import random
import secrets

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from customers.models import Contact, Customer
from surveys.answers import response_record
from surveys.campaigns import campaign_create, campaign_send
from surveys.models import Invitation, Response, Suggestion, Survey
from surveys.suggestions import suggestion_update
from touchpoints.messaging.composers import compose_pending
from touchpoints.models import FollowUp, OutboxMessage

from .writers import IdAllocator, row_writer

# The surveys a demo offers, by the names scripts and the docs use: (name, kind, question).
SURVEYS = [
    ("NPS", Survey.Kind.NPS, "How likely are you to recommend us to a friend or colleague?"),
    ("CSAT", Survey.Kind.CSAT, "How satisfied are you with our service?"),
]
COMMENTS = {
    Response.Category.PROMOTER: [
        "Great support, always quick to help.",
        "The account team really knows our business.",
        "",
        "",
    ],
    Response.Category.PASSIVE: [
        "Good product, but the reporting could be better.",
        "Onboarding took longer than expected.",
        "Invoices could be clearer.",
        "",
    ],
    Response.Category.DETRACTOR: [
        "Two invoices were wrong this quarter.",
        "Support took a week to answer our last ticket.",
        "Too expensive for what we use.",
        "The reporting export keeps failing.",
    ],
}
THEMES = {
    "invoice": "Invoicing",
    "support": "Support",
    "report": "Reporting",
    "onboarding": "Onboarding",
    "expensive": "Pricing",
}
OPEN_INVITATIONS = 5
# Unhappy customers who answered this week: their recovery tasks are on Today.
FRESH_DETRACTORS = 4


def demo_surveys_ensure():
    """The demo's surveys by name, created when missing (an admin's edits are kept)."""
    return {
        name: Survey.objects.get_or_create(name=name, defaults={"kind": kind, "question": question})[0]
        for name, kind, question in SURVEYS
    }


def demo_surveys_seed(*, surveys, manager, rng, now):
    """Two campaigns, their answers and history, triaged suggestions. Returns the invitations made."""
    nps = _campaign(surveys["NPS"], manager, "Customer NPS", {"status": Customer.Status.ACTIVE})
    csat = _campaign(surveys["CSAT"], manager, "Service satisfaction", {"status": Customer.Status.INACTIVE})
    invitations = list(
        Invitation.objects.filter(campaign__in=[nps, csat])
        .select_related("survey", "customer")
        .order_by("pk")
    )
    for index, invitation in enumerate(invitations):
        fresh = index < OPEN_INVITATIONS + FRESH_DETRACTORS
        sent = now - datetime.timedelta(days=rng.randint(1, 4) if fresh else rng.randint(20, 360))
        _backdate(invitation, sent)
        if index < OPEN_INVITATIONS or (not fresh and rng.random() > 0.75):
            continue
        at_risk = fresh or invitation.customer.status == Customer.Status.INACTIVE
        if invitation.survey.kind == Survey.Kind.NPS:
            weights = [1, 1, 1, 2, 2, 3, 4, 8, 10, 10, 8] if at_risk else [0, 0, 1, 1, 1, 2, 3, 7, 12, 14, 12]
            score = rng.choice([2, 4, 5]) if fresh else rng.choices(range(11), weights)[0]
        else:
            score = rng.choice([1, 2]) if fresh else rng.choices(range(1, 6), [1, 1, 3, 8, 10])[0]
        category = Response.categorize(invitation.survey.kind, score)
        answered = min(now, sent + datetime.timedelta(hours=rng.randint(1, 96)))
        comment = rng.choice([c for c in COMMENTS[category] if c] if fresh else COMMENTS[category])
        response_record(invitation=invitation, score=score, comment=comment, now=answered)
    _triage(manager)
    _close_old_tasks(now)
    return len(invitations)


def _campaign(survey, manager, name, filters):
    campaign = campaign_create(user=manager, survey=survey, name=name, filters=filters, reminder_days=5)
    return campaign_send(campaign=campaign)


def _backdate(invitation, sent):
    """Move an invitation (and its message) back to when the demo says it was sent."""
    Invitation.objects.filter(pk=invitation.pk).update(
        created_at=sent, expires_at=sent + datetime.timedelta(days=invitation.survey.valid_days)
    )
    invitation.created_at, invitation.expires_at = (
        sent,
        sent + datetime.timedelta(days=invitation.survey.valid_days),
    )
    history = OutboxMessage.objects.filter(occasion_key=f"survey:{invitation.occasion_key}")
    if sent < timezone.now() - datetime.timedelta(days=1):
        compose_pending(list(history))  # as the sender writes it: the outbox shows what went out
        history.update(status=OutboxMessage.Status.SENT, send_after=sent, created_at=sent, sent_at=sent)
    else:
        history.update(send_after=sent, created_at=sent)


def _triage(manager):
    """Themes for every suggestion; the reporting ones planned, one invoicing one done."""
    for suggestion in Suggestion.objects.filter(theme=""):
        theme = next((label for word, label in THEMES.items() if word in suggestion.text.lower()), "General")
        Suggestion.objects.filter(pk=suggestion.pk).update(theme=theme)
    for suggestion in Suggestion.objects.filter(theme="Reporting", status=Suggestion.Status.NEW)[:3]:
        suggestion_update(suggestion=suggestion, user=manager, status=Suggestion.Status.PLANNED)
    done = Suggestion.objects.filter(theme="Invoicing", status=Suggestion.Status.NEW).first()
    if done is not None:
        suggestion_update(
            suggestion=done,
            user=manager,
            status=Suggestion.Status.DONE,
            note="Every invoice is now checked by a second person before it goes out.",
        )


def _close_old_tasks(now):
    """The recovery and referral tasks of answers long past were dealt with at the time."""
    old = Response.objects.filter(created_at__lt=now - datetime.timedelta(days=14)).values_list(
        "pk", flat=True
    )
    keys = [f"{kind}:{pk}" for pk in old for kind in ("recovery", "referral_ask")]
    FollowUp.objects.filter(occasion_key__in=keys, status=FollowUp.Status.OPEN).update(
        status=FollowUp.Status.DONE, closed_at=now
    )


# The benchmark --------------------------------------------------------------------------------

BENCH_OCCASION = "bench"
BENCH_BATCH = 5_000


def bench_surveys_seed(*, seed, customers_from, say=lambda line: None):
    """
    A year of survey history for the bench customers from id ``customers_from`` on: about 60 %
    of them were invited (their primary contact, NPS or CSAT), 40 % answered. Written with the
    bench's row writer in batches; the customers' latest scores then set-based from the answers.
    Invitations are keyed ``bench:<contact>``, so a rerun or a top-up adds only what is missing.
    """

    surveys = demo_surveys_ensure()
    rng = random.Random(seed)
    writer = row_writer()
    ids = IdAllocator([Invitation, Response])
    now = timezone.now()
    done = set(
        Invitation.objects.filter(occasion_key__startswith=f"{BENCH_OCCASION}:").values_list(
            "contact_id", flat=True
        )
    )
    contacts = (
        Contact.objects.filter(customer_id__gte=customers_from, is_primary=True, email__gt="")
        .order_by("customer_id", "pk")  # the contacts' ids depend on which batch was written first
        .values_list("pk", "customer_id")
    )
    written = 0
    batch_invitations, batch_responses = [], []
    for contact_id, customer_id in contacts.iterator(chunk_size=BENCH_BATCH):
        if contact_id in done or rng.random() >= 0.6:
            continue
        survey = surveys["NPS"] if rng.random() < 0.75 else surveys["CSAT"]
        sent = now - datetime.timedelta(days=rng.randint(1, 360), minutes=rng.randint(0, 1440))
        invitation_id = ids.take(Invitation)
        answered = sent + datetime.timedelta(hours=rng.randint(1, 96)) if rng.random() < 0.67 else None
        batch_invitations.append(
            {
                "id": invitation_id,
                "survey_id": survey.pk,
                "customer_id": customer_id,
                "contact_id": contact_id,
                "occasion_key": f"{BENCH_OCCASION}:{contact_id}",
                "token": secrets.token_urlsafe(24),
                "created_at": sent,
                "expires_at": sent + datetime.timedelta(days=survey.valid_days),
                "answered_at": answered,
                "opened_at": answered,
            }
        )
        if answered is not None:
            if survey.kind == Survey.Kind.NPS:
                score = rng.choices(range(11), [1, 1, 1, 1, 2, 2, 4, 8, 12, 14, 10])[0]
            else:
                score = rng.choices(range(1, 6), [1, 2, 3, 8, 9])[0]
            category = Response.categorize(survey.kind, score)
            batch_responses.append(
                {
                    "id": ids.take(Response),
                    "invitation_id": invitation_id,
                    "customer_id": customer_id,
                    "survey_id": survey.pk,
                    "kind": survey.kind,
                    "score": score,
                    "category": category,
                    "comment": rng.choice(COMMENTS[category]),
                    "created_at": answered,
                }
            )
        if len(batch_invitations) >= BENCH_BATCH:
            written += _bench_write(writer, ids, batch_invitations, batch_responses)
            batch_invitations, batch_responses = [], []
    written += _bench_write(writer, ids, batch_invitations, batch_responses)
    _latest_scores(customers_from)
    say(f"  survey history: {written:,} invitations, {Response.objects.count():,} answers in all")
    return written


def _bench_write(writer, ids, invitations, responses):
    with transaction.atomic():
        writer.write(Invitation, invitations)
        writer.write(Response, responses)
        ids.sync_sequences()
    return len(invitations)


def _latest_scores(customers_from):
    """Each bench customer's latest answer on the customer, as ``answers.py`` keeps it."""
    latest = Response.objects.filter(customer=OuterRef("pk")).order_by("-created_at", "-pk")
    Customer.objects.filter(pk__gte=customers_from, survey_responses__isnull=False).distinct().update(
        last_survey_score=Subquery(latest.values("score")[:1]),
        last_survey_kind=Subquery(latest.values("kind")[:1]),
        last_survey_at=Subquery(latest.values("created_at")[:1]),
    )
