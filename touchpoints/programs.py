"""
The automated programs of the retention plan: which messages are due, and what they say.

Every program is a scan: set-based queries, one per customer time zone in use, find the occasions
of that zone's local date (a birthday, an anniversary, a purchase a week ago, …). Occasions are
taken in chunks; for each chunk the wording is rendered, the ``OutboxMessage`` rows are written
with ``bulk_create(ignore_conflicts=True)`` in one transaction, and their ids are queued on commit
in batches of ``outbox.SEND_BATCH_SIZE``. The unique occasion key makes a second scan (an hourly
rerun, a second scheduler, two workers at once) a no-op, so the scans may run as often as wanted.

Messages go out at the program's ``send_hour`` in the customer's own time zone: ``send_after`` is
that local time in UTC. Rows are made as soon as the local date begins; the outbox sends them when
due (the sweeper queues those due more than 15 minutes later).

Wording is a Django template that admins edit in the app. It is rendered in a sandbox: an engine
with no loaders, no libraries and only harmless built-in tags, over a context of plain values (never
model instances, so no ``{{ owner.password }}``). The plain-text part is rendered without escaping;
the HTML part is that text, escaped paragraph by paragraph, inside ``touchpoints/email/layout.html``.
"""

import dataclasses
import datetime
import functools
import importlib
import logging
import zoneinfo
from collections import defaultdict
from email.utils import parseaddr
from itertools import islice

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from customers.dates import on_day_q
from customers.models import Contact, Customer, KeyDate, Purchase, Team

from . import outbox
from .models import EmailSignature, FollowUp, OutboxMessage, Program

log = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# A purchase follow-up missed because the scheduler was down is still sent up to this many days late.
POST_PURCHASE_GRACE_DAYS = 2
THANK_YOU_WITHIN = datetime.timedelta(days=7)
# Only a new relationship is thanked: not a reactivated customer, nor a whole book imported as active.
NEW_CUSTOMER_DAYS = 30
VIP_TAG = "vip"

# The programs that send email from a scan, in the order the scans run.
EMAIL_PROGRAMS = ["checkin", "birthday", "anniversary", "key_date", "post_purchase"]
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
}
PLACEHOLDERS = [
    ("contact.first_name", "the contact's first name (also contact.name)"),
    ("customer.name", "the customer's name"),
    ("owner_name", "the account manager's full name (also owner.first_name, owner.email)"),
    ("signature", "the account manager's email signature"),
    ("years", "years as a customer (anniversary)"),
    ("occasion", "the key date's name (key date greeting)"),
    ("purchase.description", "what was bought (also purchase.date, purchase.amount)"),
]


# Settings --------------------------------------------------------------------------------------


def _default_programs():
    """The default wording, from the data migration that installs it: one source of truth."""
    migration = importlib.import_module("touchpoints.migrations.0003_default_programs_and_targets")
    return {key: {"enabled": enabled, "send_hour": hour, "days": days, "subject": subject,
                  "body": body}
            for key, enabled, hour, days, subject, body in migration.PROGRAMS}


def program_settings():
    """{key: Program} for every program, creating any row that is missing with its defaults."""
    programs = {program.key: program for program in Program.objects.all()}
    for key, defaults in _default_programs().items():
        if key not in programs:
            programs[key] = Program.objects.get_or_create(key=key, defaults=defaults)[0]
    return programs


def program_update(*, program, data):
    """Save an admin's changes to a program (only the fields given)."""
    for field, value in data.items():
        setattr(program, field, value)
    program.full_clean()
    program.save(update_fields=list(data))
    return program


# Rendering -------------------------------------------------------------------------------------


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
        subject = render_template(self.subject, context, label="subject")
        subject = " ".join(subject.split())[:300]
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
        self.html = get_template("touchpoints/email/layout.html").render(
            {name: mark_safe(slot) for name, slot in self.SLOTS.items()})

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


def sender_name():
    """The installation's own name, from DEFAULT_FROM_EMAIL ("Retention <…>")."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[0] or "Your account manager"


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
        touchpoint={"summary": "Quarterly review"},
    )


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
    unsubscribe = outbox.unsubscribe_url(contact) if contact else outbox.unsubscribe_url_for("…")
    try:
        compiled = CompiledProgram(None, compile_template(subject, label="The subject"),
                                   compile_template(body, label="The body"))
        subject, text, html = compiled.render(context, unsubscribe_url=unsubscribe)
    except TemplateProblem as problem:
        return {"error": str(problem), "customer": customer, "contact": contact}
    owner = customer.owner
    sender = settings.DEFAULT_FROM_EMAIL  # as outbox.build_email makes it
    if owner is not None and owner.get_full_name():
        sender = f"{owner.get_full_name()} <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>"
    return {
        "customer": customer, "contact": contact,
        "from": sender, "reply_to": owner.email if owner else "",
        "to": contact.email if contact and contact.email else "",
        "subject": subject, "text": text + outbox.UNSUBSCRIBE_FOOTER.format(url=unsubscribe),
        "html": html,
    }


# Occasions -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Occasion:
    """One message a scan decided on, before it is rendered."""

    program: str
    key: str
    customer_id: int
    contact_id: int | None
    send_after: datetime.datetime
    extra: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)


def zones_in_use():
    return list(Customer.objects.in_program().order_by().values_list("timezone", flat=True).distinct())


def local_dates(*, on_date=None, now=None):
    """{time zone: its local date} for every time zone a customer in the program is in."""
    now = now or timezone.now()
    return {tz: on_date or now.astimezone(zoneinfo.ZoneInfo(tz)).date() for tz in zones_in_use()}


def zone_groups(dates):
    """
    {local date: [time zones]}: the zones that share a local date are scanned in one query. At any
    moment the world spans at most three dates, so a program runs one to three queries.
    """
    groups = defaultdict(list)
    for tz, day in dates.items():
        groups[day].append(tz)
    return dict(groups)


@functools.lru_cache(maxsize=4096)
def send_time(local_date, tz, hour):
    """``hour``:00 on ``local_date`` in ``tz``, as an aware UTC datetime."""
    local = datetime.datetime.combine(local_date, datetime.time(hour), tzinfo=zoneinfo.ZoneInfo(tz))
    return local.astimezone(datetime.UTC)


# The month and day fields each kind of yearly date is matched on (customers.dates).
BIRTHDAY = ("birthday_month", "birthday_day")
ANNIVERSARY = ("customer_since__month", "customer_since__day")
KEY_DATE = ("date__month", "date__day")


def _primary_contact(customer_ref="pk"):
    """
    The primary contact with an email, else the first other contact with one. Only ever in the
    SELECT list: computed for the rows found, never as a filter over every customer.
    """
    return Subquery(
        Contact.objects.filter(customer=OuterRef(customer_ref)).exclude(email="")
        .order_by("-is_primary", "name", "pk").values("pk")[:1]
    )


def _in_zones(zones):
    return Customer.objects.in_program().filter(timezone__in=zones)


def _stream(queryset, fields):
    return queryset.order_by("pk").values_list(*fields).iterator(chunk_size=CHUNK_SIZE)


def checkin_occasions(dates, program):
    """Customers past their cadence whose team and own settings allow the automated email."""
    teams = Team.objects.filter(automated_checkins=True).values("pk")
    for day, zones in zone_groups(dates).items():
        rows = (
            _in_zones(zones).filter(next_checkin_due__lte=day, team__in=teams, allow_automated_checkins=True)
            .annotate(contact_pk=_primary_contact())
        )
        for pk, tz, contact_pk, due in _stream(rows, ["pk", "timezone", "contact_pk", "next_checkin_due"]):
            yield Occasion("checkin", f"checkin:{pk}:{due.isoformat()}", pk, contact_pk,
                           send_time(day, tz, program.send_hour))


def birthday_occasions(dates, program):
    for day, zones in zone_groups(dates).items():
        rows = (
            Contact.objects.filter(on_day_q(*BIRTHDAY, day), customer__in=_in_zones(zones).values("pk"))
            .exclude(email="")
        )
        for pk, customer_id, tz in _stream(rows, ["pk", "customer_id", "customer__timezone"]):
            yield Occasion("birthday", f"birthday:{pk}:{day.year}", customer_id, pk,
                           send_time(day, tz, program.send_hour))


def anniversary_occasions(dates, program):
    for day, zones in zone_groups(dates).items():
        rows = (
            _in_zones(zones).filter(on_day_q(*ANNIVERSARY, day), customer_since__year__lt=day.year)
            .annotate(contact_pk=_primary_contact())
        )
        for pk, tz, contact_pk, since in _stream(rows, ["pk", "timezone", "contact_pk", "customer_since"]):
            yield Occasion("anniversary", f"anniversary:{pk}:{day.year}", pk, contact_pk,
                           send_time(day, tz, program.send_hour), {"years": day.year - since.year})


def key_date_occasions(dates, program):
    """Yearly key dates on their month and day (from their first date on), one-off ones on the day."""
    for day, zones in zone_groups(dates).items():
        rows = (
            KeyDate.objects.filter(customer__in=_in_zones(zones).values("pk"))
            .filter(Q(recurrence=KeyDate.Recurrence.ONCE, date=day)
                    | Q(on_day_q(*KEY_DATE, day), recurrence=KeyDate.Recurrence.YEARLY, date__lte=day))
            .annotate(primary_pk=_primary_contact("customer_id"))
        )
        for pk, customer_id, tz, contact_id, primary_pk, name in _stream(
            rows, ["pk", "customer_id", "customer__timezone", "contact_id", "primary_pk", "name"]
        ):
            # A key date of one contact is theirs alone, whoever the program's audience.
            yield Occasion("key_date", f"key_date:{pk}:{day.year}", customer_id, contact_id or primary_pk,
                           send_time(day, tz, program.send_hour),
                           {"occasion": name, "own_contact": contact_id is not None})


def post_purchase_occasions(dates, program):
    for day, zones in zone_groups(dates).items():
        bought_on = day - datetime.timedelta(days=program.days)
        earliest = bought_on - datetime.timedelta(days=POST_PURCHASE_GRACE_DAYS)
        rows = (
            Purchase.objects.filter(date__range=(earliest, bought_on),
                                    customer__in=_in_zones(zones).values("pk"))
            .annotate(contact_pk=_primary_contact("customer_id"))
        )
        for pk, customer_id, tz, contact_pk, description, date, amount in _stream(
            rows, ["pk", "customer_id", "customer__timezone", "contact_pk", "description", "date", "amount"]
        ):
            purchase = {"description": description or "your purchase", "date": date, "amount": amount}
            yield Occasion("post_purchase", f"post_purchase:{pk}", customer_id, contact_pk,
                           send_time(day, tz, program.send_hour), {"purchase": purchase})


def thank_you_occasions(*, now=None):
    """
    Customers who became active in the last week and have not been thanked for it.

    Not tied to a local date or hour: the promise is "within the hour", so it runs every
    10 minutes and its messages are due at once.
    """
    now = now or timezone.now()
    thanked = OutboxMessage.objects.filter(
        program="thank_you", customer=OuterRef("pk"), created_at__gte=OuterRef("status_changed_at")
    )
    rows = (
        Customer.objects.current()
        .filter(status=Customer.Status.ACTIVE, status_changed_at__gte=now - THANK_YOU_WITHIN,
                status_changed_at__lte=now)
        .filter(Q(customer_since__isnull=True)
                | Q(customer_since__gte=(now - datetime.timedelta(days=NEW_CUSTOMER_DAYS)).date()))
        .filter(~Exists(thanked))
        .annotate(contact_pk=_primary_contact())
    )
    for pk, contact_pk, changed_at in _stream(rows, ["pk", "contact_pk", "status_changed_at"]):
        key = f"thank_you:{pk}:{changed_at.astimezone(datetime.UTC).date().isoformat()}"
        yield Occasion("thank_you", key, pk, contact_pk, now)


def for_audience(occasions, program):
    """
    Who gets a message about the customer: as decided (the primary contact), or, with the "every
    contact" audience, each of the customer's contacts with an email, one occasion each (its key
    names the contact). Contacts are read once per batch, not per occasion. Birthdays are always
    for their own contact and never pass through here.
    """
    if program.audience != Program.Audience.ALL:
        yield from occasions
        return
    occasions = iter(occasions)
    while batch := list(islice(occasions, CHUNK_SIZE)):
        contacts = defaultdict(list)
        for pk, customer_id in (
            Contact.objects.filter(customer_id__in={o.customer_id for o in batch}).exclude(email="")
            .order_by("-is_primary", "name", "pk").values_list("pk", "customer_id")
        ):
            contacts[customer_id].append(pk)
        for occasion in batch:
            if occasion.extra.get("own_contact"):
                yield occasion
                continue
            for contact_id in contacts[occasion.customer_id]:
                yield dataclasses.replace(occasion, key=f"{occasion.key}:contact{contact_id}",
                                          contact_id=contact_id)


OCCASIONS = {
    "checkin": checkin_occasions,
    "birthday": birthday_occasions,
    "anniversary": anniversary_occasions,
    "key_date": key_date_occasions,
    "post_purchase": post_purchase_occasions,
}


# Turning occasions into outbox rows ------------------------------------------------------------


@dataclasses.dataclass
class ScanReport:
    """What a scan did, per program: messages queued, suppressed, already decided before."""

    counts: dict = dataclasses.field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    lines: list = dataclasses.field(default_factory=list)

    def add(self, program, what, n=1):
        self.counts[program][what] += n

    def as_dict(self):
        return {program: dict(counts) for program, counts in self.counts.items()}

    def summary(self):
        parts = []
        for program, counts in self.counts.items():
            detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            parts.append(f"{program}: {detail or 'nothing due'}")
        return "; ".join(parts) or "no program enabled"


class _People:
    """Owners and their signatures, loaded once per scan (there are few of them)."""

    def __init__(self):
        self.cache = {}

    def get(self, user_id):
        if user_id not in self.cache:
            user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
            signature = ""
            if user is not None:
                signature = EmailSignature.objects.filter(user=user).values_list(
                    "text", flat=True).first() or ""
            self.cache[user_id] = (user, signature)
        return self.cache[user_id]


def materialize(occasions, compiled, *, report, people=None, dry_run=False):
    """Render and write the outbox rows for ``occasions`` (one program), chunk by chunk."""
    people = people or _People()
    occasions = iter(occasions)
    while chunk := list(islice(occasions, CHUNK_SIZE)):
        _materialize_chunk(chunk, compiled, report=report, people=people, dry_run=dry_run)


def _materialize_chunk(chunk, compiled, *, report, people, dry_run):
    program = chunk[0].program
    keys = [occasion.key for occasion in chunk]
    decided = set(OutboxMessage.objects.filter(occasion_key__in=keys)
                  .values_list("occasion_key", flat=True))
    fresh = [occasion for occasion in chunk if occasion.key not in decided]
    report.add(program, "already decided", len(chunk) - len(fresh))
    if not fresh:
        return
    # Plain values, not model instances: a heavy day renders tens of thousands of messages.
    customers = {row["pk"]: row for row in Customer.objects.filter(
        pk__in={o.customer_id for o in fresh}).values("pk", "name", "owner_id", "timezone")}
    contacts = {row["pk"]: row for row in Contact.objects.filter(
        pk__in={o.contact_id for o in fresh if o.contact_id}).values(
        "pk", "name", "email", "unsubscribed_at", "unsubscribe_token")}
    stamp = timezone.now()
    rows = []
    for occasion in fresh:
        customer, contact = customers.get(occasion.customer_id), contacts.get(occasion.contact_id)
        if customer is None or contact is None or not contact["email"]:
            report.add(program, "without email")
            continue
        owner, signature = people.get(customer["owner_id"])
        context = message_context(customer_name=customer["name"], contact_name=contact["name"], owner=owner,
                                  signature=signature, **occasion.extra)
        unsubscribe = outbox.unsubscribe_url_for(contact["unsubscribe_token"])
        try:
            subject, text, html = compiled.render(context, unsubscribe_url=unsubscribe)
        except TemplateProblem as problem:
            # Wording is checked when saved; should it still fail, one row must not stop the scan.
            log.error("program %s: cannot render %s: %s", program, occasion.key, problem)
            report.add(program, "not rendered")
            continue
        suppressed = contact["unsubscribed_at"] is not None
        if dry_run:
            local = occasion.send_after.astimezone(zoneinfo.ZoneInfo(customer["timezone"]))
            report.lines.append(
                f"{'suppress' if suppressed else 'would send'}  {occasion.key}  to {contact['email']}  "
                f"customer {customer['pk']} {customer['name']}  at {local:%Y-%m-%d %H:%M} "
                f"{customer['timezone']}  “{subject}”"
            )
        rows.append(OutboxMessage(
            occasion_key=occasion.key, program=program, customer_id=customer["pk"],
            contact_id=contact["pk"], sender_id=owner.pk if owner else None, to=contact["email"],
            reply_to=owner.email if owner else "", subject=subject,
            body_text=text + outbox.UNSUBSCRIBE_FOOTER.format(url=unsubscribe), body_html=html,
            automated=True, send_after=occasion.send_after, created_at=stamp,
            status=OutboxMessage.Status.SUPPRESSED if suppressed else OutboxMessage.Status.PENDING,
        ))
    if dry_run:
        report.add(program, "would be queued", sum(r.status == "pending" for r in rows))
        report.add(program, "would be suppressed", sum(r.status == "suppressed" for r in rows))
        return
    with transaction.atomic():
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this scan created: a concurrent scan queues its own.
        created = list(
            OutboxMessage.objects.filter(occasion_key__in=[r.occasion_key for r in rows], created_at=stamp)
            .values_list("pk", "status", "send_after")
        )
        pending = defaultdict(list)
        for pk, status, send_after in created:
            report.add(program, "suppressed" if status == "suppressed" else "queued")
            if status == OutboxMessage.Status.PENDING:
                pending[send_after].append(pk)
        for send_after, ids in pending.items():
            for start in range(0, len(ids), outbox.SEND_BATCH_SIZE):
                outbox.enqueue_on_commit(ids[start:start + outbox.SEND_BATCH_SIZE], send_after)
        report.add(program, "lost to a concurrent scan", len(rows) - len(created))


# The scans -------------------------------------------------------------------------------------


def programs_scan(*, on_date=None, now=None, dry_run=False, programs=None, report=None):
    """
    Run every enabled program's scan for the local date in each customer time zone (``on_date``
    for all of them if given), including the card reminders. Returns a ``ScanReport``.
    """
    report = report or ScanReport()
    settings_by_key = program_settings()
    dates = local_dates(on_date=on_date, now=now)
    people = _People()
    for key in programs or EMAIL_PROGRAMS:
        program = settings_by_key[key]
        if not program.enabled:
            continue
        report.add(key, "queued", 0)
        try:
            compiled = CompiledProgram.of(program)
        except TemplateProblem as problem:
            log.error("program %s is not sent: its wording does not compile: %s", key, problem)
            report.add(key, "wording broken")
            continue
        occasions = for_audience(OCCASIONS[key](dates, program), program)
        materialize(occasions, compiled, report=report, people=people, dry_run=dry_run)
    if programs is None or "card_reminder" in programs:
        card_reminders(dates, settings_by_key["card_reminder"], report=report, dry_run=dry_run)
    return report


def thank_you_scan(*, now=None, dry_run=False, report=None):
    report = report or ScanReport()
    program = program_settings()["thank_you"]
    if program.enabled:
        report.add("thank_you", "queued", 0)
        materialize(for_audience(thank_you_occasions(now=now), program),
                    CompiledProgram.of(program), report=report, dry_run=dry_run)
    return report


# Card reminders: follow-ups for the owner, not email --------------------------------------------


def card_worthy():
    """Customers worth a physical card: tagged VIP, or lifetime value of CARD_WORTHY_VALUE or more."""
    vip = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag__name__iexact=VIP_TAG)
    return Q(Exists(vip)) | Q(lifetime_value__gte=settings.CARD_WORTHY_VALUE)


def card_reminders(dates, program, *, report, dry_run=False):
    """
    Remind owners ``program.days`` ahead of the birthdays and anniversaries of card-worthy
    customers, with a follow-up (kind "card") keyed ``card:contact<id>:<date>`` or
    ``card:customer<id>:<date>``, so a rerun opens none twice.

    The day's birthdays and anniversaries are found first (an index and a few hundred rows), and
    only their customers are checked for being worth a card.
    """
    if not program.enabled:
        return
    report.add("card_reminder", "opened", 0)
    for day, zones in zone_groups(dates).items():
        target = day + datetime.timedelta(days=program.days)
        birthdays = list(
            Contact.objects.filter(on_day_q(*BIRTHDAY, target), customer__in=_in_zones(zones).values("pk"))
            .values_list("pk", "name", "customer_id", "customer__name", "customer__owner_id")
        )
        anniversaries = list(
            _in_zones(zones).filter(on_day_q(*ANNIVERSARY, target),
                                    customer_since__year__lt=target.year)
            .values_list("pk", "name", "owner_id", "customer_since")
        )
        candidates = {row[2] for row in birthdays} | {row[0] for row in anniversaries}
        worthy = set()
        for start in range(0, len(candidates), CHUNK_SIZE):
            ids = sorted(candidates)[start:start + CHUNK_SIZE]
            worthy.update(Customer.objects.filter(card_worthy(), pk__in=ids).values_list("pk", flat=True))
        follow_ups = [
            FollowUp(customer_id=customer_id, assignee_id=owner_id, kind=FollowUp.Kind.CARD,
                     due_on=day, occasion_key=f"card:contact{pk}:{target.isoformat()}",
                     title=f"Send a birthday card to {name} ({customer_name}) for {target.day} {target:%B}")
            for pk, name, customer_id, customer_name, owner_id in birthdays if customer_id in worthy
        ]
        for pk, name, owner_id, since in anniversaries:
            if pk in worthy:
                years = target.year - since.year
                follow_ups.append(FollowUp(
                    customer_id=pk, assignee_id=owner_id, kind=FollowUp.Kind.CARD, due_on=day,
                    occasion_key=f"card:customer{pk}:{target.isoformat()}",
                    title=f"Send an anniversary card to {name}: {years} year{'s' if years != 1 else ''} "
                          f"on {target.day} {target:%B}",
                ))
        _open_card_reminders(follow_ups, report=report, dry_run=dry_run)


def _open_card_reminders(follow_ups, *, report, dry_run):
    for start in range(0, len(follow_ups), CHUNK_SIZE):
        chunk = follow_ups[start:start + CHUNK_SIZE]
        taken = set(FollowUp.objects.filter(occasion_key__in=[f.occasion_key for f in chunk])
                    .values_list("occasion_key", flat=True))
        fresh = [f for f in chunk if f.occasion_key not in taken]
        report.add("card_reminder", "already opened", len(chunk) - len(fresh))
        if dry_run:
            report.lines.extend(f"card reminder  {f.occasion_key}  customer {f.customer_id}  {f.title}"
                                for f in fresh)
            report.add("card_reminder", "would be opened", len(fresh))
            continue
        FollowUp.objects.bulk_create(fresh, ignore_conflicts=True)
        report.add("card_reminder", "opened", len(fresh))
