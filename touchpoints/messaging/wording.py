"""
What the programs say: each program's settings, its wording as a sandboxed template, and the
email it becomes (subject, plain text, HTML in the shared layout), for a scan or for the preview.

Wording is a Django template that admins edit in the app. It is rendered in a sandbox: an engine
with no loaders, no libraries and only harmless built-in tags, over a context of plain values (never
model instances, so no ``{{ owner.password }}``). The plain-text part is rendered without escaping;
the HTML part is that text, escaped paragraph by paragraph, inside ``touchpoints/email/layout.html``.
"""

import dataclasses
import datetime
from email.utils import parseaddr

from django.conf import settings
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import VariableNode
from django.template.defaulttags import ForNode, WithNode
from django.template.loader import get_template
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from customers.audit import AuditEvent, audit_record

from ..models import EmailSignature, Program
from . import defaults
from .composing import from_header
from .unsubscribe import unsubscribe_url, unsubscribe_url_for, with_footer

# Which settings an admin tunes for each program (the rest do not apply to it).
TUNABLE = {
    "checkin": ["enabled", "audience", "send_hour", "subject", "body"],
    "thank_you": ["enabled", "audience", "subject", "body"],
    "birthday": ["enabled", "send_hour", "subject", "body"],
    "anniversary": ["enabled", "audience", "send_hour", "subject", "body"],
    "key_date": ["enabled", "audience", "send_hour", "subject", "body"],
    "post_purchase": ["enabled", "audience", "send_hour", "days", "subject", "body"],
    "card_reminder": ["enabled", "days"],
    "meeting_notes": ["subject"],
    # The surveys app's programs (their defaults: surveys/defaults.py).
    "survey": ["enabled", "audience", "subject", "body"],
    "survey_reminder": ["enabled", "subject", "body"],
    "suggestion_done": ["enabled", "subject", "body"],
}
PLACEHOLDERS = [
    ("contact.first_name", "the contact's first name (also contact.name)"),
    ("customer.name", "the customer's name"),
    ("owner_name", "the account manager's full name (also owner.first_name, owner.email)"),
    ("signature", "the account manager's email signature"),
    ("years", "years as a customer (anniversary)"),
    ("occasion", "the key date's name (key date greeting)"),
    ("purchase.description", "what was bought (also purchase.date, purchase.amount)"),
    ("survey.question", "the survey's question (survey invitation and reminder; the scale follows)"),
    ("suggestion.text", "what the customer suggested (also suggestion.note: what we did)"),
]


# Settings --------------------------------------------------------------------------------------


def program_settings():
    """{key: Program} for every program, creating any row that is missing with its defaults."""
    programs = {program.key: program for program in Program.objects.all()}
    for key, initial in defaults.PROGRAMS.items():
        if key not in programs:
            programs[key] = Program.objects.get_or_create(key=key, defaults=initial)[0]
    return programs


def program_update(*, program, data):
    """Save an admin's changes to a program (only the fields given); the audit log says which."""
    changed = [field for field, value in data.items() if getattr(program, field) != value]
    for field, value in data.items():
        setattr(program, field, value)
    program.full_clean()
    program.save(update_fields=list(data))
    if changed:
        names = ", ".join(program._meta.get_field(field).verbose_name for field in changed)
        audit_record(AuditEvent.Action.PROGRAM, f"“{program}” changed: {names}",
                     target=f"program {program.key}")
    return program


# The sandbox -----------------------------------------------------------------------------------


class TemplateProblem(ValueError):
    """A program's wording does not compile or does not render; the message says where."""


# Tags that only format what is in the context. Left out: include/extends (no loaders anyway),
# load, url, csrf_token, and debug (which would print the context and the loaded modules).
SAFE_TAGS = {"autoescape", "comment", "cycle", "filter", "firstof", "for", "if", "ifchanged", "lorem",
             "now", "regroup", "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio",
             "with"}


def _sandbox_engine():
    engine = Engine(loaders=[], libraries={})
    tags = Library()
    tags.tags = {name: tag for name, tag in defaulttags.register.tags.items() if name in SAFE_TAGS}
    # Instead of the default built-ins (which bring every default tag and include/extends).
    engine.template_builtins = [tags, defaultfilters.register]
    return engine


SANDBOX = _sandbox_engine()


def compile_template(source, *, label="template"):
    try:
        return Template(source, engine=SANDBOX)
    except TemplateSyntaxError as error:
        raise TemplateProblem(f"{label}: {error}") from None


def render_template(template, context, *, label="template", autoescape=False):
    try:
        return template.render(Context(context, autoescape=autoescape))
    except Exception as error:  # a filter misused by the admin: refused, never a crash mid-scan
        raise TemplateProblem(f"{label}: {error.__class__.__name__}: {error}") from None


def subject_line(text):
    """A subject as it is sent: one line, spaces collapsed, at most 300 characters."""
    return " ".join(text.split())[:300]


# The email a program's wording becomes ---------------------------------------------------------


@dataclasses.dataclass
class CompiledProgram:
    program: Program
    subject: Template
    body: Template
    layout: "EmailLayout" = dataclasses.field(default_factory=lambda: EmailLayout())

    @classmethod
    def of(cls, program):
        return cls(program, compile_template(program.subject, label="subject"),
                   compile_template(program.body, label="body"))

    def render(self, context, *, unsubscribe_url):
        """(subject, plain text, HTML) for one message; the unsubscribe footer is added by the caller."""
        subject = subject_line(render_template(self.subject, context, label="subject"))
        text = render_template(self.body, context, label="body").strip()
        return subject, text, self.layout.fill(subject=subject, text=text, unsubscribe_url=unsubscribe_url)


class EmailLayout:
    """
    The HTML part: the plain text, every paragraph escaped, inside the shared email layout
    (``touchpoints/email/layout.html``).

    The layout is rendered once, with markers where the subject, the body and the unsubscribe link
    go, and each message fills them in, escaped: a scan writes tens of thousands of messages.
    """

    SLOTS = {"subject": "\x00subject\x00", "body_html": "\x00body\x00", "unsubscribe_url": "\x00url\x00"}

    def __init__(self):
        self.html = render_layout(self.SLOTS)

    def fill(self, *, subject, text, unsubscribe_url):
        values = {
            "subject": escape(subject),
            "body_html": linebreaks(text, autoescape=True),
            "unsubscribe_url": escape(unsubscribe_url),
        }
        html = self.html
        for name, slot in self.SLOTS.items():
            html = html.replace(slot, values[name].replace("\x00", ""))
        return html


# The placeholders ------------------------------------------------------------------------------


def sender_name():
    """The installation's own name, from DEFAULT_FROM_EMAIL ("Retention <…>")."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "Your account manager"


def brand():
    """
    The installation's name and colour (``SITE_NAME``, ``BRAND_COLOR``): in the emails' header and
    on the pages customers reach from them (survey, unsubscribe).
    """
    return {"name": settings.SITE_NAME or sender_name(), "color": settings.BRAND_COLOR}


def render_layout(slots):
    """The shared email layout with its brand, and ``slots`` (markers each message fills in)."""
    return get_template("touchpoints/email/layout.html").render(
        {"brand": brand(), **{name: mark_safe(slot) for name, slot in slots.items()}})


def message_context(*, customer_name, contact_name, owner, signature="", **extra):
    """The placeholders a program's wording may use, as plain values."""
    if owner is not None:
        full_name = owner.get_full_name() or owner.username
        owner_values = {"first_name": owner.first_name or full_name, "last_name": owner.last_name,
                        "get_full_name": full_name, "full_name": full_name, "email": owner.email}
    else:
        full_name = sender_name()
        owner_values = {"first_name": full_name, "last_name": "", "get_full_name": full_name,
                        "full_name": full_name, "email": ""}
    first_name = contact_name.split()[0] if contact_name.strip() else ""
    return {
        "contact": {"first_name": first_name, "name": contact_name},
        "customer": {"name": customer_name},
        "owner": owner_values,
        "owner_name": full_name,
        "signature": signature,
        **extra,
    }


def sample_context():
    """Stand-in values for checking that wording renders before it is saved."""
    return message_context(
        customer_name="Example Ltd", contact_name="Dana Example", owner=None,
        signature="Example Ltd\n+1 555 0100", years=3, occasion="Founding day",
        purchase={"description": "a sample order", "date": datetime.date(2026, 1, 1), "amount": "100.00"},
        purchases=[{"description": "a sample order", "date": datetime.date(2026, 1, 1), "amount": "100.00"}],
        touchpoint={"summary": "Quarterly review"},
    )


def unknown_placeholders(template, context):
    """
    The ``{{ … }}`` of ``template`` that ``context`` has no value for, in order. The sandbox renders
    them empty, so a typo such as ``{{ contact.frist_name }}`` would go out as a blank. Names a
    ``{% for %}`` or ``{% with %}`` binds count as known, and so does anything past a value that is
    not a placeholder's dictionary (``purchase.date.year``).
    """
    nodes = template.nodelist
    bound = {name for node in nodes.get_nodes_by_type(ForNode) for name in node.loopvars}
    bound |= {name for node in nodes.get_nodes_by_type(WithNode) for name in node.extra_context}
    unknown = []
    for node in nodes.get_nodes_by_type(VariableNode):
        variable = node.filter_expression.var
        lookups = getattr(variable, "lookups", None)  # None for a literal: {{ "text" }}
        if not lookups or lookups[0] in bound:
            continue
        value = context
        for part in lookups:
            if not isinstance(value, dict):
                break
            if part not in value:
                unknown.append(variable.var)
                break
            value = value[part]
    return list(dict.fromkeys(unknown))


# The preview -----------------------------------------------------------------------------------


def preview_context(*, customer, today=None):
    """A realistic context for the Programs page's preview, from a real customer's records."""
    today = today or customer.local_today()
    # The contact the programs would write to: the primary one with an email, else another.
    contact = (customer.contacts.exclude(email="").order_by("-is_primary", "name", "pk").first()
               or customer.primary_contact())
    owner = customer.owner
    signature = EmailSignature.objects.filter(user=owner).values_list("text", flat=True).first() or ""
    since = customer.customer_since
    years = max(1, today.year - since.year) if since else 1
    key_date = customer.key_dates.order_by("pk").first()
    purchase = customer.purchases.order_by("-date", "-pk").first()
    purchase_values = (
        {"description": purchase.description, "date": purchase.date, "amount": purchase.amount}
        if purchase else {"description": "our product", "date": today, "amount": ""}
    )
    context = message_context(
        customer_name=customer.name, contact_name=contact.name if contact else "there",
        owner=owner, signature=signature, years=years,
        occasion=key_date.name if key_date else "a special day", purchase=purchase_values,
    )
    return context, contact


def program_preview(*, subject, body, customer):
    """
    The message a program would send to ``customer`` with this wording, as the outbox would build
    it (headers, plain text with the footer, HTML), or ``{"error": …}`` when the wording is broken.
    """
    context, contact = preview_context(customer=customer)
    unsubscribe = unsubscribe_url(contact) if contact else unsubscribe_url_for("…")
    try:
        compiled = CompiledProgram(None, compile_template(subject, label="The subject"),
                                   compile_template(body, label="The body"))
        subject, text, html = compiled.render(context, unsubscribe_url=unsubscribe)
    except TemplateProblem as problem:
        return {"error": str(problem), "customer": customer, "contact": contact}
    known = sample_context()  # every placeholder some program fills in
    owner = customer.owner
    return {
        "customer": customer, "contact": contact,
        "unknown": list(dict.fromkeys(unknown_placeholders(compiled.subject, known)
                                      + unknown_placeholders(compiled.body, known))),
        "from": from_header(owner), "reply_to": owner.email if owner else "",
        "to": contact.email if contact and contact.email else "",
        "subject": subject, "text": with_footer(text, unsubscribe), "html": html,
    }
