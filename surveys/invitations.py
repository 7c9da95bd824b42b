"""
Inviting contacts to a survey: who is asked, who is skipped and why, and the invitations and their
outbox messages written set-based, chunk by chunk.

1. **Who.** A campaign's segment is the customer list's own filters (``customers.selectors.
   customer_search``) as the person who made the campaign sees them; a trigger's is found by its
   scan (``surveys/triggers.py``). The survey program's audience decides whether the primary contact
   with an email address or every contact with one is asked.
2. **Skipped, and why**: no contact with an email address, unsubscribed, surveyed within the
   fatigue window (``SURVEY_FATIGUE_DAYS``, across every campaign and trigger), or already invited
   for this occasion. Counted with one aggregate query each, for the campaign page's count before
   sending, ``survey_send --dry-run`` and the campaign's record.
3. **Written** in chunks, each in one transaction under one lock (PostgreSQL's advisory lock; on
   SQLite every write transaction is serialised anyway), so two campaigns sending at once cannot
   both ask the same contact: the fatigue window is checked again inside the lock. Each invitation
   has a unique occasion key (``campaign:<id>:<contact>``, ``complaint:<id>:<contact>`` …) and an
   unguessable token; its message is an outbox row keyed ``survey:<occasion>``, queued on commit.
"""

import dataclasses
import datetime
import secrets
from collections import Counter
from itertools import islice
from types import SimpleNamespace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.http import QueryDict
from django.utils import timezone

from customers.models import Contact
from customers.selectors import customer_search
from touchpoints.messaging.ledger import SEND_BATCH_SIZE, enqueue_on_commit, ledger_stamp

# Owners and their signatures, read once per batch: the program scans' own cache.
from touchpoints.messaging.scans import _People as People
from touchpoints.models import OutboxMessage, Program

from .email import SurveyEmail, survey_programs
from .models import Invitation

CHUNK_SIZE = 2000
ROW_FIELDS = ("pk", "name", "email", "unsubscribe_token", "customer_id", "customer__name",
              "customer__owner_id", "occasion")
SEGMENT_KEYS = ("q", "status", "team", "owner", "tag", "due", "overdue", "birthdays")
# The command speaks for the installation: it sees every customer, as an admin does.
EVERYONE = SimpleNamespace(is_authenticated=True, is_active=True, is_superuser=True, pk=None)

SKIP_REASONS = {
    "no_email": "no contact with an email address",
    "unsubscribed": "unsubscribed",
    "fatigue": "surveyed within the last {days} days",
    "already": "already invited by this campaign",
}


def fatigue_days():
    return settings.SURVEY_FATIGUE_DAYS


def skip_label(reason):
    return SKIP_REASONS.get(reason, reason).format(days=fatigue_days())


def segment_params(filters):
    """The list's query string parameters of a segment, known keys only."""
    params = QueryDict(mutable=True)
    for key in SEGMENT_KEYS:
        value = (filters or {}).get(key)
        if value not in (None, ""):
            params[key] = str(value)
    return params


def segment_customers(*, user, filters):
    """The current customers of the segment, as ``user`` sees them (None: the installation)."""
    viewer = user if user is not None else EVERYONE
    return customer_search(user=viewer, params=segment_params(filters)).order_by()


def _primary_with_email():
    return Subquery(
        Contact.objects.filter(customer=OuterRef("pk"))
        .exclude(email="")
        .order_by("-is_primary", "name", "pk")
        .values("pk")[:1]
    )


def _recently_surveyed(now, contact="pk"):
    since = now - datetime.timedelta(days=fatigue_days())
    return Exists(Invitation.objects.filter(contact=OuterRef(contact), created_at__gte=since))


@dataclasses.dataclass
class Plan:
    """Who a sending would ask and who it would skip, by reason, for a set of customers."""

    customers: int
    contacts: object  # a Contact queryset: the contacts to invite
    skipped: Counter

    @property
    def invited(self):
        return self.contacts.count()


def occasion_key(prefix, *parts):
    """
    An invitation's occasion key as a SQL expression over a Contact queryset: ``prefix``, then
    each of ``parts`` (expressions, or plain strings), then the contact's id, joined by ":".
    """
    pieces = [Value(f"{prefix}:")]
    for part in parts:
        pieces += [Cast(part, CharField()) if not isinstance(part, str) else Value(part), Value(":")]
    return Concat(*pieces, Cast("pk", CharField()), output_field=CharField())


def campaign_occasion(campaign_id):
    return occasion_key(f"campaign:{campaign_id}")


def contacts_planned(*, customers, occasion, audience, now=None):
    """
    The contacts of ``customers`` (a queryset) to invite, and the counts of those skipped and why.
    ``occasion``: the invitation's occasion key (``occasion_key``), one per contact and occasion.
    """
    now = now or timezone.now()
    customer_ids = customers.values("pk")
    if audience == Program.Audience.ALL:
        reachable = Contact.objects.filter(customer__in=customer_ids).exclude(email="")
        no_email = customers.filter(
            ~Exists(Contact.objects.filter(customer=OuterRef("pk")).exclude(email=""))
        )
    else:
        primary = customers.annotate(contact_pk=_primary_with_email())
        reachable = Contact.objects.filter(
            pk__in=primary.filter(contact_pk__isnull=False).values("contact_pk")
        )
        no_email = primary.filter(contact_pk__isnull=True)
    reachable = reachable.annotate(occasion=occasion).annotate(
        invited_before=Exists(Invitation.objects.filter(occasion_key=OuterRef("occasion"))),
        surveyed_recently=_recently_surveyed(now),
    )
    counted = reachable.aggregate(
        unsubscribed=_count(Q(unsubscribed_at__isnull=False)),
        already=_count(Q(unsubscribed_at__isnull=True, invited_before=True)),
        fatigue=_count(Q(unsubscribed_at__isnull=True, invited_before=False, surveyed_recently=True)),
    )
    skipped = Counter({"no_email": no_email.count(), **counted})
    invite = reachable.filter(unsubscribed_at__isnull=True, invited_before=False, surveyed_recently=False)
    return Plan(customers=customers.count(), contacts=invite, skipped=+skipped)


def _count(condition):
    return Count("pk", filter=condition)


@dataclasses.dataclass
class Written:
    invited: int = 0
    skipped: Counter = dataclasses.field(default_factory=Counter)
    invitation_ids: list = dataclasses.field(default_factory=list)


def invitations_write(*, contacts, survey, campaign, send_after=None, now=None, written=None, email=None):
    """
    Invite ``contacts`` (a Contact queryset, from ``contacts_planned``) to ``survey``, chunk by
    chunk; returns ``Written`` (invited, and skipped because asked meanwhile by another sending).
    """
    written = written or Written()
    program = survey_programs()["survey"]
    email = email or SurveyEmail(survey=survey, program=program)
    people = People()
    # One reading of the segment, streamed (a server-side cursor on PostgreSQL): the planning
    # query runs once, not once per chunk, and memory holds one chunk at a time.
    rows = contacts.order_by("pk").values(*ROW_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(rows, CHUNK_SIZE)):
        _write_chunk(chunk, survey=survey, campaign=campaign, send_after=send_after, now=now,
                     written=written, email=email, people=people)
    return written


def _lock():
    """One sender of invitations at a time, for the transaction: the fatigue check and the write."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('surveys.invitations'))")


def _write_chunk(chunk, *, survey, campaign, send_after, now, written, email, people):
    stamp = now or timezone.now()
    expires = Invitation.default_expiry(survey, now=stamp)
    with transaction.atomic():
        _lock()
        ids = [row["pk"] for row in chunk]
        since = timezone.now() - datetime.timedelta(days=fatigue_days())
        asked = set(
            Invitation.objects.filter(
                Q(contact_id__in=ids, created_at__gte=since)
                | Q(occasion_key__in=[row["occasion"] for row in chunk])
            ).values_list("contact_id", flat=True)
        )
        fresh = [row for row in chunk if row["pk"] not in asked]
        written.skipped["fatigue"] += len(chunk) - len(fresh)
        if not fresh:
            return
        invitations = Invitation.objects.bulk_create(
            [
                Invitation(
                    survey=survey,
                    campaign=campaign,
                    customer_id=row["customer_id"],
                    contact_id=row["pk"],
                    occasion_key=row["occasion"],
                    token=secrets.token_urlsafe(24),
                    created_at=stamp,
                    expires_at=expires,
                )
                for row in fresh
            ]
        )
        messages = []
        for invitation, row in zip(invitations, fresh, strict=True):
            owner, signature = people.get(row["customer__owner_id"])
            subject, text, html = email.render(
                token=invitation.token,
                customer_name=row["customer__name"],
                contact_name=row["name"],
                owner=owner,
                signature=signature,
                unsubscribe_token=row["unsubscribe_token"],
            )
            messages.append(
                OutboxMessage(
                    occasion_key=f"survey:{invitation.occasion_key}",
                    program="survey",
                    customer_id=row["customer_id"],
                    contact_id=row["pk"],
                    sender_id=owner.pk if owner else None,
                    to=row["email"],
                    reply_to=owner.email if owner else "",
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    automated=True,
                    send_after=send_after or stamp,
                    created_at=stamp,
                    **ledger_stamp(occasion_key=f"survey:{invitation.occasion_key}", program="survey",
                                   due=send_after or stamp),
                )
            )
        sent = OutboxMessage.objects.bulk_create(messages)
        if survey.first_sent_at is None:
            type(survey).objects.filter(pk=survey.pk, first_sent_at__isnull=True).update(first_sent_at=stamp)
            survey.first_sent_at = stamp
        ids = [message.pk for message in sent]
        for start in range(0, len(ids), SEND_BATCH_SIZE):
            enqueue_on_commit(ids[start : start + SEND_BATCH_SIZE], send_after or stamp)
    written.invited += len(invitations)
    written.invitation_ids += [i.pk for i in invitations]
