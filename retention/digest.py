"""
The managers' weekly digest: on Monday at 08:00 in each manager's time zone, an email of the week
before in the teams they manage (every team, for an admin) — the customers who became at risk and
the value at risk they added, the saves, and overdue check-ins by account manager — with links to
the dashboard. A manager switches it off on their profile (``DigestPreference``).

It goes through the outbox like every message (program ``manager_digest``, to the manager's own
address, no customer): an hourly task (``manager_digests_send``) writes the week's message for
each manager whose Monday morning has begun (07:00 or later, local), with ``send_after`` at 08:00
local, and the occasion key ``manager_digest:<user id>:<ISO week>`` makes a rerun a no-op. A
scheduler down all Monday skips that week: a digest is about the week just begun.
"""

import datetime
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.models import Team
from touchpoints.messaging.ledger import outbox_enqueue

from .dashboard.at_risk import at_risk_customers
from .dashboard.kpis import at_risk_added, book_rows, coverage_by_owner
from .dashboard.scope import dashboard_scope
from .health.reasons import reason_text
from .health.risk import MONEY, value_at_risk_expression
from .models import DigestPreference, HealthSnapshot

PROGRAM = "manager_digest"
SEND_AT = datetime.time(8, 0)
COMPOSE_FROM = datetime.time(7, 0)
LISTED = 10  # customers listed by name; the rest are counted


def digest_zone(user):
    preference = getattr(user, "digest_preference_row", None)
    name = preference.timezone if preference else settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def digest_recipients():
    """Active managers (of a team) and admins with an address who have not switched the digest off."""
    switched_off = DigestPreference.objects.filter(user=OuterRef("pk"), weekly_digest=False)
    managers = Team.objects.filter(managers=OuterRef("pk"))
    people = (
        get_user_model().objects.filter(is_active=True).exclude(email="")
        .filter(Q(is_superuser=True) | Exists(managers)).exclude(Exists(switched_off))
        .order_by("pk")
    )
    preferences = {p.user_id: p for p in DigestPreference.objects.filter(user__in=people)}
    for person in people:
        person.digest_preference_row = preferences.get(person.pk)
        yield person


def digest_moment(user, now):
    """This week's Monday 08:00 in ``user``'s zone, if their Monday morning is under way; else None."""
    local = now.astimezone(digest_zone(user))
    if local.weekday() != 0 or local.time() < COMPOSE_FROM:
        return None
    return datetime.datetime.combine(local.date(), SEND_AT, tzinfo=local.tzinfo)


def iso_week(day):
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def manager_digests_send(*, now=None):
    """Write the digest of each manager whose Monday morning has begun; returns how many were new."""
    now = now or timezone.now()
    written = 0
    for user in digest_recipients():
        send_at = digest_moment(user, now)
        if send_at is None:
            continue
        with transaction.atomic():
            _, created = digest_enqueue(user=user, send_at=send_at)
        written += created
    return written


def digest_enqueue(*, user, send_at):
    """The outbox row of ``user``'s digest for the week of ``send_at`` (once per week)."""
    week_start = send_at.date() - datetime.timedelta(days=7)
    content = digest_content(user=user, first=week_start, last=send_at.date() - datetime.timedelta(days=1))
    return outbox_enqueue(
        occasion_key=f"{PROGRAM}:{user.pk}:{iso_week(send_at.date())}", program=PROGRAM,
        customer=None, contact=None, to=user.email, subject=content["subject"],
        body_text=render_to_string("retention/email/digest.txt", content),
        body_html=render_to_string("retention/email/digest.html", content),
        automated=True, send_after=send_at,
    )


def digest_content(*, user, first, last):
    """What the digest of ``user`` says about the days ``first`` … ``last`` (their dashboard's scope)."""
    scope = dashboard_scope(user, today=last)
    became = list(
        at_risk_added(scope, first, last).annotate(value_at_risk=value_at_risk_expression())
        .select_related("owner").order_by("-value_at_risk", "pk")[:LISTED]
    )
    totals = at_risk_added(scope, first, last).aggregate(
        n=Count("pk"), value=Sum(value_at_risk_expression(), output_field=MONEY))
    saves = list(
        scope.customers().filter(Exists(HealthSnapshot.objects.filter(
            customer=OuterRef("pk"), date__gte=first, date__lte=last, saved=True)))
        .select_related("owner").order_by("-value_last_12_months", "pk")[:LISTED]
    )
    saved_count = scope.customers().filter(Exists(HealthSnapshot.objects.filter(
        customer=OuterRef("pk"), date__gte=first, date__lte=last, saved=True))).count()
    coverage = [row for row in coverage_by_owner(scope, book_rows(scope), []) if row["overdue"]]
    at_risk_now = at_risk_customers(scope).count()
    base = settings.SITE_URL
    for customer in became:
        reasons = (customer.health_factors or {}).get("reasons") or []
        customer.reason = reason_text(reasons[0], last) if reasons else ""
        customer.url = base + customer.get_absolute_url()
    for customer in saves:
        customer.url = base + customer.get_absolute_url()
    value_added = totals["value"] or Decimal("0")
    count = totals["n"] or 0
    subject = (f"Your week: {count} customer{'s' if count != 1 else ''} became at risk"
               f" ({value_added:,.0f} {settings.CURRENCY}), {saved_count} saved")
    return {
        "user": user, "first": first, "last": last, "subject": subject, "scope": scope,
        "became": became, "became_count": count, "value_added": value_added,
        "saves": saves, "saved_count": saved_count, "coverage": coverage, "at_risk_now": at_risk_now,
        "currency": settings.CURRENCY, "dashboard_url": base + reverse("dashboard"),
        "profile_url": base + reverse("profile"),
    }
