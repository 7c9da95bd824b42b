"""
Pages that combine the apps, each composed here and only here: the customer page (with its
health section), Today and the user's profile; the dashboard is ``retention/dashboard/``. The
apps below never import from each other upwards (surveys → touchpoints → customers), so this is
where their pieces meet. Also ``/healthz``.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from customers.access import (
    customer_for_user,
    is_manager,
    managed_members,
    manager_required,
    member_for_user,
    referrer_visible,
)
from customers.models import Customer
from customers.selectors import customer_referrals, status_history
from customers.value import lifetime_value
from surveys.selectors import CUSTOMER_TIMELINE
from touchpoints.forms import TouchpointForm
from touchpoints.messaging.server import mail_health
from touchpoints.selectors import (
    PROMISE_RATE_DAYS,
    complaint_panel,
    complaint_records,
    promise_panel,
    promise_rates,
    timeline_filters,
    timeline_page,
)

from .api.forms import ApiTokenForm
from .celery import app as celery_app
from .feeds.models import CalendarFeed
from .forms import DigestPreferenceForm
from .health.snapshots import health_panel
from .models import DigestPreference
from .pagination import paginate
from .today import SEE_ALL_PAGE, TODAY_SECTIONS, today_lists, today_section


def home(request):
    """
    Where the work is: managers (and admins) review their teams' books on the dashboard; account
    managers start their day on Today. Logging in lands here unless ``next`` says otherwise.
    """
    return redirect("dashboard" if is_manager(request.user) else "today")


@require_GET
def customer_detail(request, pk):
    customer = customer_for_user(
        request.user, pk, Customer.objects.select_related("owner", "team", "referred_by")
    )
    follow_ups = customer.follow_ups.open().select_related("assignee")
    if request.htmx and request.GET.get("fragment") == "refresh":
        # After an action in place (``book-changed``): the check-in card and the follow-ups.
        return render(request, "retention/_customer_refresh.html", {
            "customer": customer, "checkin_state": customer.checkin_state(),
            "follow_ups": follow_ups, "currency": settings.CURRENCY,
        })
    contacts = list(customer.contacts.all())
    timeline = timeline_page(
        customer=customer, before=request.GET.get("before", ""), kind=request.GET.get("kind", ""),
        sources=CUSTOMER_TIMELINE,
    )
    context = {
        "customer": customer,
        "contacts": contacts,
        "tags": customer.tags.all(),
        "checkin_state": customer.checkin_state(),
        "follow_ups": follow_ups,
        "key_dates": customer.key_dates.select_related("contact"),
        "changes": customer.changes.select_related("user")[:10],
        "timeline": timeline,
        "timeline_kind": timeline.kind,
        "timeline_kinds": timeline_filters(CUSTOMER_TIMELINE),
    }
    if request.htmx and request.GET.get("fragment") == "timeline":
        return render(request, "touchpoints/_timeline.html", context)
    context["form"] = TouchpointForm(customer=customer, contacts=contacts)
    context.update(promise_panel(customer), **complaint_panel(customer))
    context.update({
        "currency": settings.CURRENCY,
        "value": lifetime_value(customer),
        "purchases": paginate(customer.purchases.all(), request.GET.get("purchases_page"), per_page=10),
        "status_history": status_history(customer),
        "referrer_visible": referrer_visible(request.user, customer),
        "referrals": customer_referrals(user=request.user, customer=customer),
        **health_panel(customer),
        # Asked by the page only for managers: whether this customer's team is one they manage.
        "can_override": lambda: request.user.is_superuser
        or customer.team.managers.filter(pk=request.user.pk).exists(),
    })
    return render(request, "customers/detail.html", context)


@require_GET
def today(request, username=None):
    """
    The account manager's home: what is due, most urgent first, each item actionable in place.
    Each section shows its most urgent few and how many there are; "See all" pages through them.

    ``/today/<username>/`` or ``/today/?user=<id>``: a manager opens the day of an account manager
    of a team they manage; anyone else's answers 404.
    """
    subject = member_for_user(request.user, username=username, pk=request.GET.get("user"))
    context = {**today_lists(viewer=request.user, subject=subject), **_day_of(request, subject)}
    if request.htmx and request.GET.get("fragment") == "refresh":
        # After an action in place (``book-changed``): the counts and lists it may have changed.
        return render(request, "retention/today/_refresh.html", context)
    # Read by the page only for managers (``is_manager``, from the context processor).
    context["team_members"] = managed_members(request.user)
    return render(request, "retention/today.html", context)


@require_GET
def today_all(request, section):
    """
    "See all" of one section of Today (``/today/all/<section>/``, ``?user=`` as Today, ``?page=``):
    in place of the section's first few (htmx), or as a page of its own.
    """
    if section not in TODAY_SECTIONS:
        raise Http404("No such list on Today.")
    subject = member_for_user(request.user, pk=request.GET.get("user"))
    page = request.GET.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    rows = today_section(viewer=request.user, subject=subject, name=section, page=page)
    context = {
        **_day_of(request, subject), "local_today": timezone.localdate(), "rows": rows, "page": page,
        "pages": max(1, -(-rows.total // SEE_ALL_PAGE)), "title": TODAY_SECTIONS[section],
    }
    if request.htmx:
        return render(request, "retention/today/_section.html", {**context, "see_all": True})
    return render(request, "retention/today/section.html", {**context, "see_all": True})


def _day_of(request, subject):
    """Whose day it is, and where actions in place send a browser without JavaScript back to."""
    is_own = subject == request.user
    today_url = reverse("today")
    return {
        "subject": subject, "is_own": is_own,
        "here": today_url if is_own else f"{today_url}?user={subject.pk}",
        "user_query": "" if is_own else f"user={subject.pk}",
    }


@manager_required
@require_GET
def records(request):
    """Promises kept on time and complaints, per account manager of the teams the user manages."""
    now = timezone.now()
    local_today = timezone.localdate(now)
    members = list(managed_members(request.user))
    rates = promise_rates(viewer=request.user, owners=members, today=local_today)
    complaints = complaint_records(viewer=request.user, handlers=members, now=now)
    rows = [{"user": m, "promises": rates[m.pk], "complaints": complaints[m.pk]} for m in members]
    return render(request, "retention/records.html", {
        "rows": rows, "days": PROMISE_RATE_DAYS, "local_today": local_today,
    })


@require_http_methods(["GET", "POST"])
def profile(request):
    """
    The signed-in user's own settings: the managers' weekly digest and its time zone, their API
    tokens (``retention/api/token_views.py``) and their calendar feed.
    """
    preference = DigestPreference.objects.filter(user=request.user).first() or DigestPreference(
        user=request.user)
    form = DigestPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Saved. " + (
                "The weekly digest comes on Mondays at 08:00 in " + form.cleaned_data["timezone"] + "."
                if form.cleaned_data["weekly_digest"] else "You will get no weekly digest."))
            return redirect("profile")
        messages.error(request, "Nothing was saved: please correct the errors below.")
    return render(request, "registration/profile.html", {
        "form": form, "gets_digest": is_manager(request.user),
        "api_tokens": request.user.api_tokens.all(), "api_token_form": ApiTokenForm(),
        "calendar_feed": CalendarFeed.objects.filter(user=request.user).first(),
    })


@login_not_required
@require_GET
def favicon(request):
    """
    Browsers ask for /favicon.ico whatever the pages link: the icon is the SVG. Not a permanent
    redirect: in production its address carries the file's hash, which changes with the file.
    """
    return redirect(static("favicon.svg"))


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """
    200 when the database and the broker answer, 503 when either does not. Also the mail server's
    state and the outbox's backlog (``mail``): a mail server that fails does not make the site
    unhealthy (messages wait, and go out once it answers), but monitoring should see it.
    """
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    mail = _check_mail() if checks["database"] == "ok" else {"server": "unknown"}
    return JsonResponse({"status": "ok" if healthy else "error", **checks, "mail": mail},
                        status=200 if healthy else 503)


def _check_mail():
    """The mail server as the senders last found it, and how many messages wait, since when."""
    try:
        health = mail_health()
    except Exception as error:  # the database answered a moment ago; say what failed, stay up
        return {"server": "unknown", "error": error.__class__.__name__}
    return {
        "server": "failing" if health["failing"] else "ok",
        "failing_since": health["failing_since"].isoformat() if health["failing_since"] else None,
        "last_error": health["last_error"],
        "due": health["due"],
        "oldest_due_seconds": health["oldest_due_seconds"],
    }


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

