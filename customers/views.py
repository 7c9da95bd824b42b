"""Customer list, create and edit, contacts, and the public unsubscribe page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from retention.pagination import paginate

from .access import customer_for_user, object_for_user, visible_customers
from .forms import ContactForm, CustomerForm
from .models import Contact, Customer, Team
from .selectors import customer_search
from .services import (
    StaleEdit,
    contact_save,
    contact_unsubscribe,
    customer_archive,
    customer_create,
    customer_restore,
    customer_update,
)

def customer_list(request):
    params = request.GET
    customers = customer_search(user=request.user, params=params)
    page = paginate(customers.select_related("owner", "team"), params.get("page"))
    querystring = params.copy()
    querystring.pop("page", None)
    return render(request, "customers/list.html", {
        "page": page,
        "query": params.get("q", "").strip(),
        "status": params.get("status", ""),
        "sort": params.get("sort", "name"),
        "archived": params.get("archived") == "1",
        "statuses": Customer.Status.choices,
        "teams": Team.objects.visible_to(request.user),
        "selected_team": params.get("team", ""),
        "querystring": querystring.urlencode(),
    })


@require_http_methods(["GET", "POST"])
def customer_new(request):
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        customer = customer_create(user=request.user, **data)
        messages.success(request, f"{customer.name} was added.")
        return redirect(customer)
    return render(request, "customers/form.html", {"form": form})


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
        else:
            if changed:
                messages.success(request, f"Saved {len(changed)} change(s) to {customer.name}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(customer)
    return render(request, "customers/form.html", {
        "form": form, "customer": customer, "stale_changes": stale_changes,
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


@login_not_required
@csrf_exempt  # RFC 8058 one-click: mail clients POST without cookies; the token is the secret.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    contact = get_object_or_404(Contact.objects.select_related("customer"), unsubscribe_token=token)
    if request.method == "POST":
        contact_unsubscribe(contact=contact)
        return render(request, "customers/unsubscribed.html", {"contact": contact})
    return render(request, "customers/unsubscribe.html", {"contact": contact})
