"""
The Programs pages (admins: switch a program on or off, tune its wording with a live preview) and
the Outbox pages (managers and admins: every message, as it was sent, why one was not, the daily
counts per program, the mail server's state, and a retry for a failed message). Messages to the
team itself (no customer) belong to no team: admins alone see them.

Mounted at the site root by ``touchpoints/urls.py``'s ``root_urlpatterns``.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import admin_required, manager_required, object_for_user
from customers.models import Customer
from retention.pagination import paginate
from retention.security import shows_email

from ..models import OutboxMessage, Program
from .composing import outbox_headers
from .forms import OutboxFilterForm, ProgramForm
from .ledger import RetryRefused, outbox_retry
from .policy import DATED, PRIORITY, grace_days
from .reading import DAILY_COLUMNS, daily_range, outbox_daily_counts, outbox_filter
from .server import mail_health
from .wording import PLACEHOLDERS, program_preview, program_settings, program_update

OUTBOX_PAGE_SIZE = 50
PREVIEW_CUSTOMERS_FOUND = 8


# Programs ----------------------------------------------------------------------------------------


@admin_required
@require_GET
def program_list(request):
    programs = program_settings()
    return render(request, "touchpoints/programs.html", {
        "programs": [programs[key] for key in Program.Key.values if key in programs],
        "daily_cap": settings.OUTBOX_DAILY_CAP,
        "priority": [{"label": Program.Key(key).label, "grace": grace_days(key), "dated": key in DATED}
                     for key in PRIORITY],
    })


@admin_required
@require_POST
def program_switch(request, key):
    program = get_object_or_404(Program, key=key)
    enabled = request.POST.get("enabled") == "1"
    program_update(program=program, data={"enabled": enabled})
    messages.success(request, f"“{program}” is {'on' if enabled else 'off'}.")
    return redirect("programs")


@admin_required
@require_http_methods(["GET", "POST"])
@shows_email
def program_edit(request, key):
    program = get_object_or_404(Program, key=key)
    form = ProgramForm(request.POST or None, instance=Program.objects.get(pk=program.pk))
    if request.method == "POST":
        if form.is_valid():
            program_update(program=program, data={name: form.cleaned_data[name] for name in form.fields})
            messages.success(request, f"“{program}” was saved.")
            return redirect("program_edit", key=key)
        messages.error(request, "Nothing was saved: please correct the errors below.")
    find = request.GET.get("find", "")
    return render(request, "touchpoints/program_edit.html", {
        "program": program, "form": form, "placeholders": PLACEHOLDERS,
        "find": find, "customers_found": _customers_named(request.user, find),
        **_program_preview(request, program, form),
    })


@admin_required
@require_http_methods(["GET", "POST"])
def program_preview_view(request, key):
    """The live preview (htmx): the wording being typed, rendered for the chosen customer."""
    program = get_object_or_404(Program, key=key)
    form = ProgramForm(request.POST or None, instance=Program.objects.get(pk=program.pk))
    return render(request, "touchpoints/_program_preview.html", _program_preview(request, program, form))


@admin_required
@require_GET
def program_preview_customers(request, key):
    """The preview's customer search (htmx): the customers whose name holds what is typed."""
    program = get_object_or_404(Program, key=key)
    find = request.GET.get("find", "")
    return render(request, "touchpoints/_program_customers_found.html", {
        "program": program, "find": find, "customers_found": _customers_named(request.user, find),
    })


def _customers_named(user, text):
    text = text.strip()
    if not text:
        return []
    return list(Customer.objects.visible_to(user).current().filter(name__icontains=text)
                .order_by("name", "pk")[:PREVIEW_CUSTOMERS_FOUND])


def _program_preview(request, program, form):
    if "subject" not in form.fields or "body" not in form.fields:
        return {"preview": None}
    raw = request.POST or request.GET
    customer_id, customer = raw.get("customer", ""), None
    visible = Customer.objects.visible_to(request.user)
    if customer_id.strip():
        if customer_id.strip().isdigit():
            customer = visible.filter(pk=int(customer_id)).select_related("owner").first()
        if customer is None:
            return {"preview": {"error": f"There is no customer #{customer_id} you can see."},
                    "preview_customer_id": customer_id}
    else:
        customer = visible.current().select_related("owner").order_by("pk").first()
        if customer is None:
            return {"preview": {"error": "There is no customer to preview with yet."}}
    subject = form.data.get("subject", program.subject) if form.is_bound else program.subject
    body = form.data.get("body", program.body) if form.is_bound else program.body
    return {"preview": program_preview(subject=subject, body=body, customer=customer),
            "preview_customer_id": customer.pk}


# Outbox ------------------------------------------------------------------------------------------


@manager_required
@require_GET
def outbox_list(request):
    form = OutboxFilterForm(request.GET or None)
    visible = OutboxMessage.objects.visible_to(request.user)
    rows = visible.select_related("customer", "contact").defer("body_text", "body_html").order_by(
        "-send_after", "-pk")
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    if filters:
        rows = outbox_filter(rows, **filters)
    start, end = daily_range(filters.get("date_from"), filters.get("date_to"))
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(request, "touchpoints/outbox.html", {
        "form": form, "page": paginate(rows, request.GET.get("page"), per_page=OUTBOX_PAGE_SIZE),
        "querystring": querystring.urlencode(),
        "health": mail_health(messages=visible),
        "daily": outbox_daily_counts(visible, start=start, end=end, program=filters.get("program", "")),
        "daily_columns": DAILY_COLUMNS, "daily_start": start, "daily_end": end,
        "daily_program": Program.Key(filters["program"]).label if filters.get("program") else "",
    })


@manager_required
@require_GET
@shows_email
def outbox_detail(request, pk):
    related = OutboxMessage.objects.select_related("customer", "contact", "sender", "touchpoint",
                                                   "merged_into")
    message = object_for_user(request.user, related, pk)
    return render(request, "touchpoints/outbox_detail.html", {
        "message": message,
        "headers": outbox_headers(message) if message.status != OutboxMessage.Status.MERGED else [],
        "merged": message.merged.order_by("occasion_key").only("pk", "occasion_key", "subject")[:50],
        "health": mail_health(messages=OutboxMessage.objects.visible_to(request.user)),
    })


@manager_required
@require_POST
def outbox_retry_view(request, pk):
    message = object_for_user(request.user, OutboxMessage.objects.select_related("customer"), pk)
    try:
        outbox_retry(message=message)
    except RetryRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "The message is queued to be sent again.")
    return redirect("outbox_detail", pk=message.pk)
