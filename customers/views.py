"""Customer list, create and edit, contacts, and the public unsubscribe page."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from retention.pagination import count_about, paginate, rows_needed
from retention.ratelimit import export_rate_limited

from .access import (
    customer_for_user,
    manager_required,
    object_for_user,
    visible_customers,
)
from .audit import AuditEvent, audit_record
from .csv_io.export import export_stream
from .forms import (
    ContactForm,
    CustomerForm,
    KeyDateForm,
    PurchaseForm,
    ReassignForm,
)
from .models import Contact, Customer, KeyDate, Purchase, Team
from .selectors import assignable_users, customer_search, reassign_candidates, top_referrers
from .services import (
    StaleEdit,
    contact_save,
    contact_unsubscribe,
    customer_archive,
    customer_create,
    customer_restore,
    customer_update,
    customers_reassign,
    key_date_delete,
    key_date_save,
    purchase_add,
    purchase_delete,
)

HEALTH_CHOICES = [*Customer.HealthBand.choices, ("unknown", "Unknown")]


def customer_list(request):
    params = request.GET
    user = request.user
    customers = customer_search(user=user, params=params, rows=rows_needed(params.get("page")))
    page = paginate(customers.select_related("owner", "team"), params.get("page"))
    count_about(page, customer_search(user=user, params=params))
    querystring = params.copy()
    querystring.pop("page", None)
    # Managers tick the rows of the teams they manage and hand them to a new owner.
    managed = set(Team.objects.managed_by(user).values_list("pk", flat=True))
    for customer in page:
        customer.can_reassign = customer.team_id in managed
    return render(request, "customers/list.html", {
        "page": page,
        "today": timezone.localdate(),
        "query": params.get("q", "").strip(),
        "status": params.get("status", ""),
        "sort": params.get("sort", "name"),
        "archived": params.get("archived") == "1",
        "statuses": Customer.Status.choices,
        "teams": Team.objects.visible_to(user),
        "selected_team": params.get("team", ""),
        "owners": assignable_users(user),
        "selected_owner": params.get("owner", ""),
        "tag": params.get("tag", "").strip(),
        "health": params.get("health", ""),
        "health_bands": HEALTH_CHOICES,
        "filtered": any(params.get(key) for key in (
            "q", "status", "team", "owner", "tag", "mine", "due", "overdue", "birthdays", "health")),
        "querystring": querystring.urlencode(),
        "can_reassign": bool(managed),
        "reassign_owners": reassign_candidates(user) if managed else (),
        "list_querystring": params.urlencode(),
    })


@manager_required
@require_POST
def customer_reassign(request):
    """The list's bulk action: managers hand the ticked customers of their teams to a new owner."""
    form = ReassignForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_list_url(request.POST.get("querystring", "")))
    try:
        changed = customers_reassign(
            user=request.user, customer_ids=form.cleaned_data["customers"],
            owner=form.cleaned_data["owner"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        owner = form.cleaned_data["owner"]
        messages.success(
            request, f"{changed} customer(s) reassigned to {owner.get_full_name() or owner}."
        )
    return redirect(_list_url(form.cleaned_data["querystring"]))


def _list_url(querystring):
    """Back to the list as it was filtered; parsed and re-encoded, so only a query string."""
    query = QueryDict(querystring).urlencode()
    return reverse("customers:list") + (f"?{query}" if query else "")


def _focus_first_error(form):
    """Put the cursor where the first problem is, for whoever fixes the form by keyboard."""
    invalid = [name for name in form.fields if name in form.errors]
    if invalid:
        for field in form.fields.values():
            field.widget.attrs.pop("autofocus", None)
        form.fields[invalid[0]].widget.attrs["autofocus"] = True
    return form


def _add_service_errors(form, error):
    """A service's ValidationError shown on the form: on its field when the form has one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_http_methods(["GET", "POST"])
def customer_new(request):
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        customer = customer_create(user=request.user, **data)
        messages.success(request, f"{customer.name} was added.")
        return redirect(customer)
    return render(request, "customers/form.html", {"form": _focus_first_error(form)})


@require_http_methods(["GET", "POST"])
def customer_edit(request, pk):
    customer = customer_for_user(request.user, pk)
    form = CustomerForm(request.POST or None, instance=customer, user=request.user)
    stale_changes = None
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["version"] or customer.version
        try:
            customer, changed = customer_update(
                customer=customer, user=request.user, data=form.service_data(), version=version
            )
        except StaleEdit as stale:
            stale_changes = stale.changes
            messages.error(
                request,
                "Someone else saved this customer while you were editing. Nothing of yours was "
                "saved; review their changes below, then make yours again.",
            )
            form = CustomerForm(instance=customer_for_user(request.user, pk), user=request.user)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            if changed:
                messages.success(request, f"Saved {len(changed)} change(s) to {customer.name}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(customer)
    return render(request, "customers/form.html", {
        "form": _focus_first_error(form), "customer": customer, "stale_changes": stale_changes,
    })


@require_POST
def customer_archive_view(request, pk):
    customer = customer_for_user(request.user, pk)
    customer_archive(customer=customer, user=request.user)
    messages.success(request, f"{customer.name} was archived. It can be restored from the archive.")
    return redirect(customer)


@require_POST
def customer_restore_view(request, pk):
    customer = customer_for_user(request.user, pk)
    customer_restore(customer=customer, user=request.user)
    messages.success(request, f"{customer.name} was restored.")
    return redirect(customer)


@require_http_methods(["GET", "POST"])
def contact_new(request, pk):
    customer = customer_for_user(request.user, pk)
    form = ContactForm(request.POST or None, instance=Contact(customer=customer))
    if request.method == "POST" and form.is_valid():
        contact = contact_save(contact=form.save(commit=False))
        messages.success(request, f"{contact.name} was added.")
        return redirect(customer)
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer})


@require_http_methods(["GET", "POST"])
def contact_edit(request, pk):
    contact = object_for_user(request.user, Contact.objects.select_related("customer"), pk)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        contact_save(contact=form.save(commit=False))
        messages.success(request, f"{contact.name} was saved.")
        return redirect(contact.customer)
    return render(request, "customers/contact_form.html", {
        "form": form, "customer": contact.customer, "contact": contact,
    })


@require_http_methods(["GET", "POST"])
def purchase_new(request, pk):
    customer = customer_for_user(request.user, pk)
    form = PurchaseForm(request.POST or None, customer=customer, autofocus=True)
    if request.method == "POST" and form.is_valid():
        try:
            purchase = purchase_add(customer=customer, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, f"Purchase of {purchase.amount} {settings.CURRENCY} added.")
            return redirect(customer.get_absolute_url() + "#purchases")
    return render(request, _item_form_template(request), {
        "form": _focus_first_error(form), "customer": customer, "title": "Add a purchase",
        "submit": "Add purchase", "section": "purchases",
    })


def _item_form_template(request):
    """The form's page, or just the form when the customer page loads it in place (htmx)."""
    return "customers/_item_form.html" if request.htmx else "customers/item_form.html"


@require_http_methods(["GET", "POST"])
def purchase_delete_view(request, pk):
    purchase = object_for_user(request.user, Purchase.objects.select_related("customer"), pk)
    customer = purchase.customer
    if request.method == "POST":
        purchase_delete(purchase=purchase, user=request.user)
        messages.success(request, f"The purchase of {purchase.amount} {settings.CURRENCY} on "
                                  f"{date_format(purchase.date)} was deleted.")
        return redirect(customer.get_absolute_url() + "#purchases")
    return render(request, "customers/confirm_delete.html", {
        "customer": customer,
        "title": "Delete this purchase?",
        "what": f"{purchase.amount} {settings.CURRENCY} on {date_format(purchase.date)}"
                + (f" — {purchase.description}" if purchase.description else ""),
        "consequence": "The customer's lifetime value is recomputed without it.",
    })


@require_http_methods(["GET", "POST"])
def key_date_new(request, pk):
    customer = customer_for_user(request.user, pk)
    return _key_date_form(request, customer, KeyDate(customer=customer))


@require_http_methods(["GET", "POST"])
def key_date_edit(request, pk):
    key_date = object_for_user(request.user, KeyDate.objects.select_related("customer"), pk)
    return _key_date_form(request, key_date.customer, key_date)


def _key_date_form(request, customer, key_date):
    adding = key_date.pk is None
    form = KeyDateForm(request.POST or None, instance=key_date, customer=customer, autofocus=True)
    if request.method == "POST" and form.is_valid():
        try:
            key_date = key_date_save(key_date=form.save(commit=False))
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, f"{key_date.name} was {'added' if adding else 'saved'}.")
            return redirect(customer.get_absolute_url() + "#key-dates")
    return render(request, _item_form_template(request), {
        "form": _focus_first_error(form), "customer": customer,
        "title": "Add a key date" if adding else f"Edit {key_date.name}",
        "submit": "Add key date" if adding else "Save", "section": "key-dates",
    })


@require_http_methods(["GET", "POST"])
def key_date_delete_view(request, pk):
    key_date = object_for_user(request.user, KeyDate.objects.select_related("customer"), pk)
    customer = key_date.customer
    if request.method == "POST":
        key_date_delete(key_date=key_date)
        messages.success(request, f"{key_date.name} was deleted.")
        return redirect(customer.get_absolute_url() + "#key-dates")
    return render(request, "customers/confirm_delete.html", {
        "customer": customer,
        "title": "Delete this key date?",
        "what": f"{key_date.name}, {date_format(key_date.date)} "
                f"({key_date.get_recurrence_display().lower()})",
        "consequence": "No greeting will go out for it any more.",
    })


@require_http_methods(["GET"])
def referrers(request):
    """Top referrers: the customers who brought the most customers, and the value those brought."""
    page = paginate(top_referrers(user=request.user), request.GET.get("page"), per_page=25)
    customers = visible_customers(request.user).select_related("owner", "team").in_bulk(
        [row["referred_by"] for row in page]
    )
    offset = (page.number - 1) * 25
    page.object_list = [
        {**row, "rank": offset + n, "customer": customers[row["referred_by"]]}
        for n, row in enumerate(page.object_list, start=1)
    ]
    return render(request, "customers/referrers.html", {
        "page": page, "currency": settings.CURRENCY, "querystring": "",
    })


@login_not_required
@csrf_exempt  # RFC 8058 one-click: mail clients POST without cookies; the token is the secret.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    contact = get_object_or_404(Contact.objects.select_related("customer"), unsubscribe_token=token)
    if request.method == "POST":
        contact_unsubscribe(contact=contact)
        return render(request, "customers/unsubscribed.html", {"contact": contact})
    return render(request, "customers/unsubscribe.html", {"contact": contact})


# Export (the import's pages are in ``import_views``) ------------------------------------------


@export_rate_limited
def customer_export(request):
    """The list as it is filtered now, as CSV in the import's columns; logged with its row count."""
    customers = customer_search(user=request.user, params=request.GET)
    audit_record(AuditEvent.Action.EXPORT, f"Exported customers ({request.GET.urlencode() or 'all'})",
                 target="customers")
    response = StreamingHttpResponse(
        export_stream(customers, user=request.user, filters=request.GET.urlencode()),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="customers-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response
