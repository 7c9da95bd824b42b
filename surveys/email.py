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
from .models import Survey

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
