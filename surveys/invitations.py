"""
Inviting contacts to a survey: who is asked, who is skipped and why, and the invitations and their
outbox messages written set-based.

1. **Who.** A campaign's segment is the customer list's own filters (``customers.selectors.
   customer_search``) as the person who made the campaign sees them; a trigger's is found by its
   scan (``surveys/triggers.py``). The survey program's audience decides whether the primary contact
   with an email address or every contact with one is asked.
2. **Skipped, and why**: no contact with an email address, unsubscribed, surveyed within the
   fatigue window (``SURVEY_FATIGUE_DAYS``, across every campaign and trigger), or already invited
   for this occasion. Counted with one aggregate query each, for the campaign page's count before
   sending, ``survey_send --dry-run`` and the campaign's record.
3. **Written** with two ``INSERT … SELECT`` in one transaction under one lock (PostgreSQL's
   advisory lock; on SQLite every write transaction is serialised anyway), so two campaigns
   sending at once cannot both ask the same contact: the fatigue window is checked again inside
   the lock. Each invitation has a unique occasion key (``campaign:<id>:<contact>``,
   ``complaint:<id>:<contact>`` …) and an unguessable token drawn by the database; its message is
   an outbox row keyed ``survey:<occasion>``, queued on commit, whose wording is written when it
   is sent. A campaign to 100,000 contacts is written in seconds (``docs/PERFORMANCE.md``).
"""

import dataclasses
import datetime
from collections import Counter
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import NotSupportedError, connection, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    Value,
)
from django.db.models.functions import Cast, Concat
from django.http import QueryDict
from django.utils import timezone

from customers.models import Contact, Customer, new_token
from customers.selectors import customer_search, email_contact
from touchpoints.messaging.ledger import SEND_BATCH_SIZE, enqueue_on_commit, outbox_statistics_refresh
from touchpoints.messaging.policy import expires_at as latest_send_time
from touchpoints.models import OutboxMessage, Program

from .models import Invitation

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
        # The chosen contact of each customer, computed once per customer (IN skips the NULLs).
        chosen = customers.annotate(contact_pk=email_contact()).values("contact_pk")
        reachable = Contact.objects.filter(pk__in=chosen)
        no_email = customers.filter(
            ~Exists(Contact.objects.filter(customer=OuterRef("pk")).exclude(email=""))
        )
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


def invitations_write(*, contacts, survey, campaign, send_after=None, now=None):
    """
    Invite ``contacts`` (a Contact queryset, from ``contacts_planned``) to ``survey`` for
    ``campaign``; returns ``Written`` (how many were invited).

    Set-based, in one transaction under the senders' lock: one ``INSERT … SELECT`` writes the
    invitations straight from the planning query (checked again inside the lock, so a contact asked
    meanwhile by another sending is left out, and the unique occasion keys make a rerun a no-op),
    with tokens the database draws (``RandomToken``); a second writes their outbox rows, whose
    wording the sender writes when it sends them (``touchpoints/messaging/composers.py``).
    """
    stamp = now or timezone.now()
    due = send_after or stamp
    planned = contacts.order_by().annotate(
        i_survey=_typed(survey.pk, BigIntegerField()),
        i_campaign=_typed(campaign.pk, BigIntegerField()),
        i_customer=F("customer_id"),
        i_team=F("customer__team_id"),
        i_owner=F("customer__owner_id"),
        i_contact=F("pk"),
        i_occasion=F("occasion"),
        i_token=RandomToken(),
        i_created=_typed(stamp, DateTimeField()),
        i_expires=_typed(Invitation.default_expiry(survey, now=stamp), DateTimeField()),
    ).values("i_survey", "i_campaign", "i_customer", "i_team", "i_owner", "i_contact", "i_occasion",
             "i_token", "i_created", "i_expires")
    select, params = planned.query.sql_with_params()
    invitations, outbox = Invitation._meta.db_table, OutboxMessage._meta.db_table
    contact_table, customer_table = Contact._meta.db_table, Customer._meta.db_table
    user_table = get_user_model()._meta.db_table
    with transaction.atomic():
        _lock()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {invitations} (survey_id, campaign_id, customer_id, team_id, owner_id,"
                f" contact_id, occasion_key, token, created_at, expires_at)"
                f" SELECT i_survey, i_campaign, i_customer, i_team, i_owner, i_contact, i_occasion, i_token,"
                f" i_created,"
                # (WHERE true: SQLite reads ON CONFLICT after a bare FROM as a join's constraint.)
                f" i_expires FROM ({select}) planned WHERE true ON CONFLICT DO NOTHING RETURNING id",
                params,
            )
            invited = [row[0] for row in cursor.fetchall()]
            if not invited:
                return Written()
            expires = latest_send_time("survey", due, "UTC")
            cursor.execute(
                f'INSERT INTO {outbox} (occasion_key, occasion_ref, message_id, program, customer_id,'
                f' contact_id, sender_id, "to", reply_to, subject, body_text, body_html, automated,'
                f" compose_at_send, status, reason, reason_note, send_after, expires_at, attempts,"
                f" last_error, created_at)"
                f" SELECT %s || i.occasion_key, '', '', 'survey', i.customer_id, i.contact_id, owner.id,"
                f" contact.email, COALESCE(owner.email, ''), '', '', '', %s, %s, 'pending', '', '', %s, %s,"
                f" 0, '', %s"
                f" FROM {invitations} i JOIN {contact_table} contact ON contact.id = i.contact_id"
                f" JOIN {customer_table} customer ON customer.id = i.customer_id"
                f" LEFT JOIN {user_table} owner ON owner.id = customer.owner_id"
                # Under the lock, the campaign's invitations in this id range are those just written.
                f" WHERE i.campaign_id = %s AND i.id BETWEEN %s AND %s"
                f" ON CONFLICT DO NOTHING RETURNING id",
                ["survey:", True, True, due, expires, stamp, campaign.pk, min(invited), max(invited)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        outbox_statistics_refresh(len(ids))
        if survey.first_sent_at is None:
            type(survey).objects.filter(pk=survey.pk, first_sent_at__isnull=True).update(first_sent_at=stamp)
            survey.first_sent_at = stamp
        for start in range(0, len(ids), SEND_BATCH_SIZE):
            enqueue_on_commit(ids[start : start + SEND_BATCH_SIZE], due)
    return Written(invited=len(invited))


def _typed(value, field):
    """A constant of the SELECT, bound as its column's type (the drivers send it typed)."""
    return Value(value, output_field=field)


class RandomToken(Expression):
    """
    An invitation's unguessable token, drawn by the database for each row of a set-based write:
    on PostgreSQL two ``gen_random_uuid()`` (its strong random source; 244 random bits in 64 hex
    characters), on SQLite ``customers.models.new_token`` itself, registered as a SQL function.
    """

    output_field = CharField()

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"Tokens cannot be drawn by {connection.vendor} databases.")

    def as_postgresql(self, compiler, connection):
        return "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')", []

    def as_sqlite(self, compiler, connection):
        return f"{SQLITE_TOKEN_FUNCTION}()", []


SQLITE_TOKEN_FUNCTION = "retention_new_token"


def register_sqlite_token(sender, connection, **kwargs):
    """``connection_created`` receiver: SQLite draws invitation tokens through ``new_token``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_TOKEN_FUNCTION, 0, new_token, deterministic=False)


def _lock():
    """One sender of invitations at a time, for the transaction: the fatigue check and the write."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('surveys.invitations'))")
