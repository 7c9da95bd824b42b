"""
Pages that combine the apps, each composed here and only here: the customer page, Today and
the dashboard. The apps below never import from each other upwards (surveys → touchpoints →
customers), so this is where their pieces meet. Also ``/healthz``.
"""

import datetime

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from customers.access import customer_for_user, visible_customers
from customers.models import Contact, Customer, Team
from touchpoints.forms import TouchpointForm
from touchpoints.models import FollowUp, Touchpoint
from touchpoints.selectors import timeline_page

from .celery import app as celery_app

TODAY_LIST_SIZE = 50


def home(request):
    return redirect("today")


@require_GET
def customer_detail(request, pk):
    customer = customer_for_user(
        request.user, pk, Customer.objects.select_related("owner", "team", "referred_by")
    )
    contacts = list(customer.contacts.all())
    timeline = timeline_page(
        customer=customer, page=request.GET.get("page"), kind=request.GET.get("kind", "")
    )
    context = {
        "customer": customer,
        "contacts": contacts,
        "tags": customer.tags.all(),
        "checkin_state": customer.checkin_state(),
        "follow_ups": customer.follow_ups.open().select_related("assignee"),
        "purchases": customer.purchases.all()[:10],
        "key_dates": customer.key_dates.select_related("contact"),
        "changes": customer.changes.select_related("user")[:10],
        "timeline": timeline,
        "timeline_kind": request.GET.get("kind", ""),
        "timeline_kinds": Touchpoint.Kind.choices,
        "form": TouchpointForm(customer=customer),
    }
    if request.htmx and request.GET.get("fragment") == "timeline":
        return render(request, "touchpoints/_timeline.html", context)
    return render(request, "customers/detail.html", context)


@require_GET
def today(request):
    """The account manager's home: who to contact and what is due, most urgent first."""
    user = request.user
    local_today = timezone.localdate()
    mine = visible_customers(user).in_program().filter(owner=user)

    follow_ups = (
        FollowUp.objects.visible_to(user).open().filter(assignee=user)
        .select_related("customer").order_by("due_on", "pk")[:TODAY_LIST_SIZE]
    )
    checkins = (
        mine.filter(next_checkin_due__lte=local_today)
        .order_by("next_checkin_due", "-lifetime_value", "pk")[:TODAY_LIST_SIZE]
    )
    week = [local_today + datetime.timedelta(days=n) for n in range(7)]
    birthdays = (
        Contact.objects.filter(customer__in=mine.values("pk"))
        .filter(_birthday_within(week))
        .select_related("customer")
        .order_by("birthday_month", "birthday_day", "name")[:TODAY_LIST_SIZE]
    )
    recent = (
        Touchpoint.objects.visible_to(user).filter(author=user)
        .select_related("customer").order_by("-happened_at")[:10]
    )
    return render(request, "retention/today.html", {
        "local_today": local_today,
        "follow_ups": follow_ups,
        "checkins": [(c, c.checkin_state(local_today)) for c in checkins],
        "birthdays": [(c, _next_occurrence(c, local_today)) for c in birthdays],
        "recent": recent,
    })


@require_GET
def dashboard(request):
    """Coverage of each book the user can see, and the overdue customers worth the most."""
    local_today = timezone.localdate()
    in_program = Q(customers__archived_at__isnull=True,
                   customers__status__in=[Customer.Status.ACTIVE, Customer.Status.INACTIVE])
    teams = (
        Team.objects.filter(pk__in=Team.objects.visible_to(request.user).values("pk"))
        .annotate(
            total=Count("customers", filter=in_program),
            covered=Count("customers", filter=in_program
                          & Q(customers__next_checkin_due__gt=local_today)),
        )
        .order_by("name")
    )
    rows = []
    for team in teams:
        coverage = round(100 * team.covered / team.total) if team.total else None
        rows.append({"team": team, "total": team.total, "covered": team.covered,
                     "overdue": team.total - team.covered, "coverage": coverage})
    at_risk = (
        visible_customers(request.user).in_program()
        .filter(next_checkin_due__lte=local_today)
        .select_related("owner", "team")
        .order_by("-lifetime_value", "next_checkin_due", "pk")[:20]
    )
    chart = {
        "labels": [r["team"].name for r in rows],
        "coverage": [r["coverage"] or 0 for r in rows],
    }
    return render(request, "retention/dashboard.html", {
        "rows": rows, "at_risk": at_risk, "chart": chart, "local_today": local_today,
    })


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker answer, 503 when either does not."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks},
                        status=200 if healthy else 503)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means unhealthy; say which
        return f"error: {error.__class__.__name__}"
    return "ok"


def _check_broker():
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2,
                                   interval_max=0.2, timeout=2)
    except Exception as error:
        return f"error: {error.__class__.__name__}"
    return "ok"


def _birthday_within(days):
    """Contacts whose birthday falls on one of ``days`` (29 Feb counts on 28 Feb in other years)."""
    condition = Q(pk__in=[])
    for day in days:
        condition |= Q(birthday_month=day.month, birthday_day=day.day)
        if (day.month, day.day) == (2, 28) and not _is_leap(day.year):
            condition |= Q(birthday_month=2, birthday_day=29)
    return condition


def _is_leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _next_occurrence(contact, today):
    for year in (today.year, today.year + 1):
        month, day = contact.birthday_month, contact.birthday_day
        if (month, day) == (2, 29) and not _is_leap(year):
            day = 28
        date = datetime.date(year, month, day)
        if date >= today:
            return date
    return None
