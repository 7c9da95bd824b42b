"""
What the survey emails say and look like: the invitation and the reminder (the admin's wording
above the scale, every score a link) and "you asked, we did".

The wording is the programs' (``survey``, ``survey_reminder``, ``suggestion_done``), rendered in
the messaging sandbox over plain values. The HTML part reuses the shared email layout, rendered
once per batch with markers that each message fills in, escaped: a campaign writes a hundred
thousand of these.

A score link is a plain GET of ``/s/<token>/?score=N``: it shows the score and records it only
when the page posts it (``surveys/public_views.py``), so a mail scanner that follows every link
records nothing.
"""

from django.conf import settings
from django.template.loader import get_template
from django.utils.html import escape, linebreaks

# Owners and their signatures, read once per batch: the program scans' own cache.
from touchpoints.messaging.scans import _People as People
from touchpoints.messaging.unsubscribe import unsubscribe_url_for, with_footer
from touchpoints.messaging.wording import (
    TemplateProblem,
    compile_template,
    message_context,
    render_layout,
    render_template,
    subject_line,
)
from touchpoints.models import Program

from . import defaults
from .models import Invitation, Survey

TOKEN_SLOT = "\x00token\x00"
SLOTS = {"subject": "\x00subject\x00", "body_html": "\x00body\x00", "unsubscribe_url": "\x00url\x00"}


def survey_programs():
    """{key: Program} of the three survey programs, a missing row recreated from the defaults."""
    found = {p.key: p for p in Program.objects.filter(key__in=list(defaults.PROGRAMS))}
    for key, initial in defaults.PROGRAMS.items():
        if key not in found:
            found[key] = Program.objects.get_or_create(key=key, defaults=initial)[0]
    return found


class SurveyEmail:
    """
    The invitation (or reminder) of one survey with one program's wording, compiled once and
    rendered per contact: ``render(...)`` gives (subject, text, html).
    """

    def __init__(self, *, survey, program):
        self.survey = survey
        self.subject = compile_template(program.subject, label="subject")
        self.body = compile_template(program.body, label="body")
        self.layout = render_layout(SLOTS)
        self.scale_html = get_template("surveys/email/scale.html").render(
            {
                "survey": survey,
                "scores": self._scores(TOKEN_SLOT),
                "url": self._page(TOKEN_SLOT),
            }
        )
        self.scale_text = (
            "\n".join(
                f"  {score['value']}{' – ' + score['label'] if score['label'] else ''}: {score['url']}"
                for score in self._scores(TOKEN_SLOT)
            )
            + f"\n\nOr open the survey: {self._page(TOKEN_SLOT)}"
        )

    def _page(self, token):
        return f"{settings.SITE_URL}/s/{token}/"

    def _scores(self, token):
        return [
            {"value": n, "label": self.survey.score_label(n), "url": f"{self._page(token)}?score={n}"}
            for n in self.survey.score_range
        ]

    def render(self, *, token, customer_name, contact_name, owner, signature, unsubscribe_token):
        context = message_context(
            customer_name=customer_name,
            contact_name=contact_name,
            owner=owner,
            signature=signature,
            survey={"question": self.survey.question, "name": self.survey.name},
        )
        subject = subject_line(render_template(self.subject, context, label="subject"))
        text = render_template(self.body, context, label="body").strip()
        unsubscribe = unsubscribe_url_for(unsubscribe_token)
        full_text = with_footer(f"{text}\n\n{self.scale_text.replace(TOKEN_SLOT, token)}", unsubscribe)
        body_html = linebreaks(text, autoescape=True) + self.scale_html.replace(TOKEN_SLOT, escape(token))
        return (
            subject,
            full_text,
            fill_layout(self.layout, subject=subject, body_html=body_html, unsubscribe_url=unsubscribe),
        )


def compose_invitations(messages):
    """
    The composer of invitation and reminder rows decided in bulk (``touchpoints/messaging/
    composers.py``): ``{pk: (subject, text, html)}`` in the program's wording as it is now, read
    with one query for the batch's invitations.
    """
    wanted = {}
    for message in messages:
        kind, _, reference = message.occasion_key.partition(":")
        wanted[message.pk] = (kind, reference)
    by_occasion = {
        ("survey", invitation.occasion_key): invitation
        for invitation in _invitations(occasion_key__in=[r for k, r in wanted.values() if k == "survey"])
    }
    by_occasion.update({
        ("survey_reminder", str(invitation.pk)): invitation
        for invitation in _invitations(
            pk__in=[int(r) for k, r in wanted.values() if k == "survey_reminder" and r.isdigit()])
    })
    programs = survey_programs()
    emails, people, composed = {}, People(), {}
    for pk, (kind, reference) in wanted.items():
        invitation = by_occasion.get((kind, reference))
        if invitation is None or invitation.contact is None:
            continue
        if (kind, invitation.survey_id) not in emails:
            emails[kind, invitation.survey_id] = SurveyEmail(survey=invitation.survey, program=programs[kind])
        owner, signature = people.get(invitation.customer.owner_id)
        composed[pk] = emails[kind, invitation.survey_id].render(
            token=invitation.token,
            customer_name=invitation.customer.name,
            contact_name=invitation.contact.name,
            owner=owner,
            signature=signature,
            unsubscribe_token=invitation.contact.unsubscribe_token,
        )
    return composed


def _invitations(**lookup):
    return Invitation.objects.filter(**lookup).select_related("survey", "customer", "contact")


def fill_layout(layout, *, subject, body_html, unsubscribe_url):
    values = {
        "subject": escape(subject),
        "body_html": body_html.replace("\x00", ""),
        "unsubscribe_url": escape(unsubscribe_url),
    }
    for name, slot in SLOTS.items():
        layout = layout.replace(slot, values[name])
    return layout


def suggestion_done_email(
    *, program, suggestion, customer_name, contact_name, owner, signature, unsubscribe_token
):
    """(subject, text, html) telling one customer that what they asked for is done."""
    subject_template = compile_template(program.subject, label="subject")
    body_template = compile_template(program.body, label="body")
    context = message_context(
        customer_name=customer_name,
        contact_name=contact_name,
        owner=owner,
        signature=signature,
        suggestion={
            "text": suggestion.text,
            "note": suggestion.note or "it is in place now.",
            "theme": suggestion.theme,
        },
    )
    subject = subject_line(render_template(subject_template, context, label="subject"))
    text = render_template(body_template, context, label="body").strip()
    unsubscribe = unsubscribe_url_for(unsubscribe_token)
    layout = render_layout(SLOTS)
    html = fill_layout(
        layout, subject=subject, body_html=linebreaks(text, autoescape=True), unsubscribe_url=unsubscribe
    )
    # Plain text without the footer: ``outbox_enqueue`` adds it to every automated message.
    return subject, text, html


def wording_problem(program, survey=None):
    """The reason a program's wording cannot be rendered, or "" when it can."""
    try:
        SurveyEmail(
            survey=survey or Survey(name="Sample", kind=Survey.Kind.NPS, question="How likely…?"),
            program=program,
        )
    except TemplateProblem as problem:
        return str(problem)
    return ""
