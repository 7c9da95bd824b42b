"""
The health score's pages: the admin's weights with the preview of what a change moves, a
manager's override of one customer's score, and one customer's score history as CSV.
"""

import csv

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import admin_required, customer_for_user, manager_required
from customers.models import Customer, Team

from ..models import HealthScan
from .forms import OverrideForm, WeightsForm
from .overrides import override_end, override_in_force, override_set
from .snapshots import score_history
from .weights import current_weights, weights_preview, weights_save


@admin_required
@require_http_methods(["GET", "POST"])
def weights_page(request):
    current = current_weights()
    form = WeightsForm(request.POST or None, instance=current_weights())
    preview = None
    if request.method == "POST":
        if form.is_valid():
            if request.POST.get("action") == "save":
                weights_save(data=form.cleaned_data, user=request.user)
                messages.success(request, "Weights saved. Every customer's score is being recomputed "
                                          "with them.")
                return redirect("health_weights")
            preview = weights_preview(current=current, proposed=form.proposed())
        else:
            messages.error(request, "Nothing was saved: please correct the errors below.")
    return render(request, "retention/health/weights.html", {
        "form": form, "current": current, "preview": preview, "scan": HealthScan.objects.first(),
    })


@admin_required
@require_POST
def weights_preview_view(request):
    """The preview alone, for the page to show as the admin types (htmx)."""
    form = WeightsForm(request.POST, instance=current_weights())
    preview = None
    if form.is_valid():
        preview = weights_preview(current=current_weights(), proposed=form.proposed())
    return render(request, "retention/health/_preview.html", {"form": form, "preview": preview})


def _managed_customer(request, pk):
    """A customer of a team the user manages (any, for an admin); anyone else's is 404."""
    return customer_for_user(request.user, pk, Customer.objects.filter(
        team__in=Team.objects.managed_by(request.user).values("pk")).select_related("team", "owner"))


@manager_required
@require_http_methods(["GET", "POST"])
def override_page(request, pk):
    customer = _managed_customer(request, pk)
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        override_set(customer=customer, user=request.user, **form.cleaned_data)
        messages.success(request, f"{customer.name}'s score is {form.cleaned_data['score']} until "
                                  f"{form.cleaned_data['expires_on']:%Y-%m-%d}.")
        return redirect(customer.get_absolute_url() + "#health")
    return render(request, "retention/health/override.html", {
        "customer": customer, "form": form, "override": override_in_force(customer),
    })


@manager_required
@require_POST
def override_remove(request, pk):
    customer = _managed_customer(request, pk)
    if override_end(customer=customer, user=request.user):
        messages.success(request, f"The override is removed: {customer.name}'s score is the factors' again.")
    else:
        messages.info(request, "There was no override in force.")
    return redirect(customer.get_absolute_url() + "#health")


@require_GET
def history_csv(request, pk):
    customer = customer_for_user(request.user, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="health-{customer.pk}-{timezone.localdate():%Y-%m-%d}.csv"')
    writer = csv.writer(response)
    writer.writerow(["date", "score", "band"])
    for day in score_history(customer):
        writer.writerow([day["date"].isoformat(), "" if day["score"] is None else day["score"], day["band"]])
    return response
