"""
The dashboard page, its CSV exports, and its actions in place: a task for a customer's owner, and
reassigning a customer (managers). Thin: the scope, the figures and the lists come from the
modules beside this one.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from customers.access import customer_for_user, manager_required
from customers.audit import AuditEvent, audit_record
from customers.models import Customer
from customers.selectors import reassign_candidates
from customers.services import customers_reassign

from ..health.risk import value_at_risk
from ..ratelimit import export_rate_limited
from .actions import owner_task_create, task_default_due
from .at_risk import at_risk_page, at_risk_summary, decorate, score_days_ago
from .cohorts import cohort_chart
from .exports import EXPORTS, export_lines
from .forms import CustomerReassignForm, OwnerTaskForm
from .kpis import dashboard_figures
from .scope import PERIODS, dashboard_scope

# Coverage shows the account managers with the lowest first; a manager of hundreds asks for all.
COVERAGE_FIRST = 20


@require_GET
def dashboard(request):
    """Customers at risk by value at risk, the figures of the period, coverage and cohorts."""
    scope = dashboard_scope(request.user, request.GET)
    at_risk = at_risk_page(scope, request.GET.get("page"))
    every = request.GET.get("coverage") == "all"
    context = {"scope": scope, "at_risk": at_risk, "periods": PERIODS,
               "at_risk_total": at_risk_summary(scope),
               # The at-risk list's pages keep the whole coverage table when it is shown.
               "at_risk_query": scope.query(coverage="all" if every else "")}
    if request.htmx and request.GET.get("fragment") == "at-risk":
        return render(request, "retention/dashboard/_at_risk.html", context)
    figures = dashboard_figures(scope)
    coverage = figures["coverage_rows"] if every else figures["coverage_rows"][:COVERAGE_FIRST]
    context.update(figures, exports=EXPORTS, coverage_shown=coverage, coverage_first=COVERAGE_FIRST, charts={
        "bands": {
            "labels": [date_format(row["date"], "MONTH_DAY_FORMAT") for row in figures["history"]],
            "healthy": [row["healthy"] for row in figures["history"]],
            "watch": [row["watch"] for row in figures["history"]],
            "at_risk": [row["at_risk"] for row in figures["history"]],
            "unknown": [row["unknown"] for row in figures["history"]],
        },
        "coverage": {
            "labels": [row["owner"].get_full_name() or row["owner"].get_username() if row["owner"]
                       else "No owner" for row in coverage],
            "coverage": [row["coverage"] or 0 for row in coverage],
        },
        "cohorts": cohort_chart(figures["cohorts"]),
    })
    return render(request, "retention/dashboard/page.html", context)


@export_rate_limited
@require_GET
def dashboard_export(request, name):
    if name not in EXPORTS:
        raise Http404
    scope = dashboard_scope(request.user, request.GET)
    audit_record(AuditEvent.Action.EXPORT, f"Exported the dashboard's {name} list",
                 target=f"dashboard {name}")
    response = StreamingHttpResponse(export_lines(name, scope), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dashboard-{name}-{scope.today:%Y-%m-%d}.csv"'
    return response


@require_http_methods(["GET", "POST"])
def owner_task(request, pk):
    """A task for the owner of a customer the user sees: the form in place (htmx) or on a page."""
    customer = customer_for_user(request.user, pk, Customer.objects.select_related("owner", "team"))
    form = OwnerTaskForm(request.POST or None, initial={
        "title": _suggested_task(customer), "due_on": task_default_due(customer)})
    if request.method == "POST" and form.is_valid():
        try:
            owner_task_create(customer=customer, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            message = (f"Task “{form.cleaned_data['title']}” is on "
                       f"{customer.owner.get_full_name() or customer.owner}'s Today, "
                       f"due {form.cleaned_data['due_on']:%Y-%m-%d}.")
            if request.htmx:
                return _row(request, customer, message=message)
            messages.success(request, message)
            return redirect(_back(request))
    context = {"customer": customer, "form": form, "back": _back(request)}
    if request.htmx:
        return render(request, "retention/dashboard/_task_form.html", context)
    return render(request, "retention/dashboard/task.html", context)


@manager_required
@require_http_methods(["GET", "POST"])
def customer_reassign(request, pk):
    """Hand one customer of a team the manager manages to another member of that team."""
    customer = customer_for_user(request.user, pk, Customer.objects.select_related("owner", "team"))
    candidates = reassign_candidates(request.user).filter(teams=customer.team_id)
    context = {"customer": customer, "candidates": candidates, "back": _back(request)}
    if request.method == "GET":
        partial = "_reassign_form" if request.htmx else "reassign"
        return render(request, f"retention/dashboard/{partial}.html", context)
    form = CustomerReassignForm(request.POST, candidates=candidates)
    error = ""
    if form.is_valid():
        owner = form.cleaned_data["owner"]
        try:
            customers_reassign(user=request.user, customer_ids=[customer.pk], owner=owner)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            customer.refresh_from_db(fields=["owner", "version"])
            message = (f"{customer.name} now belongs to {owner.get_full_name() or owner}, "
                       "and is on their Today when a check-in or task is due.")
            if request.htmx:
                return _row(request, customer, message=message)
            messages.success(request, message)
            return redirect(_back(request))
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        return _row(request, customer, error=error)
    return render(request, "retention/dashboard/reassign.html", {**context, "error": error})


# Helpers -----------------------------------------------------------------------------------------


def _row(request, customer, *, message="", error=""):
    """One row of the at-risk table, re-read with its annotations, after an action on it."""
    customer = (Customer.objects.filter(pk=customer.pk).select_related("owner", "team")
                .annotate(score_before=score_days_ago(dashboard_scope(request.user).today)).get())
    customer.value_at_risk = value_at_risk(customer.value_last_12_months, customer.health_score)
    decorate(customer)
    return render(request, "retention/dashboard/_at_risk_row.html", {
        "customer": customer, "row_message": message, "row_error": error,
    })


def _suggested_task(customer):
    from ..health.reasons import action_label

    action = (customer.health_factors or {}).get("action")
    return action_label(action) if action else f"Check in with {customer.name}"[:200]


def _add_errors(form, error):
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _back(request):
    from ..http import safe_next

    return safe_next(request, reverse("dashboard"))
