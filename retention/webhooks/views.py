"""
The Webhooks pages (admins only): the endpoints, registering and changing one, switching it off
and on, a test event, a new secret, removing one, and each endpoint's delivery log.

A secret is shown once: the page that made it keeps it in the session until the endpoint's page
shows it (and drops it), so a reload neither registers a second endpoint nor shows it again.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import admin_required
from retention.pagination import paginate

from . import services
from .delivery import MAX_ATTEMPTS
from .events import CATALOGUE
from .forms import EndpointForm
from .models import Endpoint

DELIVERIES_PER_PAGE = 25
NOT_SAVED = "Nothing was saved: please correct the errors below."


def _secret_key(endpoint_pk):
    return f"webhook-secret-{endpoint_pk}"


@admin_required
@require_GET
def endpoint_list(request):
    endpoints = list(Endpoint.objects.order_by("-enabled", "url", "pk"))
    return render(request, "webhooks/list.html", {
        "endpoints": endpoints, "failing": [e for e in endpoints if e.failing],
    })


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            endpoint, secret = services.endpoint_create(user=request.user, **form.cleaned_data)
            request.session[_secret_key(endpoint.pk)] = secret
            messages.success(request, f"The endpoint {endpoint.url} was added.")
            return redirect("webhooks:detail", pk=endpoint.pk)
        messages.error(request, NOT_SAVED)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": None})


@admin_required
@require_GET
def endpoint_detail(request, pk):
    endpoint = get_object_or_404(Endpoint.objects.select_related("created_by"), pk=pk)
    secret = request.session.pop(_secret_key(endpoint.pk), None)
    deliveries = (endpoint.deliveries.select_related("event").defer("event__body")
                  .order_by("-created_at", "-pk"))
    response = render(request, "webhooks/detail.html", {
        "endpoint": endpoint, "secret": secret,
        "page": paginate(deliveries, request.GET.get("page"), per_page=DELIVERIES_PER_PAGE),
        "catalogue": [(name, CATALOGUE.get(name, "")) for name in endpoint.events],
        "max_attempts": MAX_ATTEMPTS,
    })
    if secret:
        patch_cache_control(response, no_store=True)
    return response


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {"url": endpoint.url, "description": endpoint.description, "events": endpoint.events}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
            messages.success(request, "The endpoint was saved.")
            return redirect("webhooks:detail", pk=endpoint.pk)
        messages.error(request, NOT_SAVED)
    return render(request, "webhooks/form.html", {"form": form, "endpoint": endpoint})


@admin_required
@require_POST
def endpoint_switch(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    services.endpoint_switch(endpoint=endpoint, enabled=enabled)
    if enabled:
        messages.success(request, "The endpoint is on: events that waited are on their way.")
    else:
        messages.success(request, "The endpoint is off: its events wait until it is on again.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@admin_required
@require_POST
def endpoint_test(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if not endpoint.enabled:
        messages.error(request, "Switch the endpoint on to send it a test event.")
    else:
        services.endpoint_send_test(endpoint=endpoint)
        messages.success(request, "A test event is on its way: its delivery shows below.")
    return redirect("webhooks:detail", pk=endpoint.pk)


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_rotate(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if request.method == "POST":
        request.session[_secret_key(endpoint.pk)] = services.endpoint_rotate_secret(endpoint=endpoint)
        messages.success(request, "A new secret was made; the old one no longer signs anything.")
        return redirect("webhooks:detail", pk=endpoint.pk)
    return render(request, "webhooks/confirm.html", {
        "endpoint": endpoint, "action": "rotate",
        "title": "Make a new secret?",
        "text": "Deliveries from now on are signed with the new secret, and the receiver must "
                "check them with it: update it there as soon as you have copied it.",
        "button": "Make a new secret", "button_class": "btn-primary",
    })


@admin_required
@require_http_methods(["GET", "POST"])
def endpoint_delete(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if request.method == "POST":
        services.endpoint_delete(endpoint=endpoint)
        messages.success(request, f"The endpoint {endpoint.url} was removed.")
        return redirect("webhooks:list")
    return render(request, "webhooks/confirm.html", {
        "endpoint": endpoint, "action": "delete",
        "title": "Remove this endpoint?",
        "text": "It receives nothing more, and its delivery log goes with it; events still waiting "
                "for it are not sent. To pause it instead, switch it off.",
        "button": "Remove", "button_class": "btn-danger",
    })
