"""Logging, editing and deleting touchpoints; closing follow-ups."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.access import customer_for_user, object_for_user
from retention.http import safe_next

from .forms import TouchpointForm
from .models import FollowUp, Touchpoint
from .selectors import timeline_page
from .services import followup_close, touchpoint_delete, touchpoint_log, touchpoint_update


@require_POST
def touchpoint_new(request, customer_pk):
    customer = customer_for_user(request.user, customer_pk)
    form = TouchpointForm(request.POST, customer=customer)
    if form.is_valid():
        data = dict(form.cleaned_data)
        contacts = data.pop("contacts")
        touchpoint_log(customer=customer, user=request.user, contacts=contacts, **data)
        if request.htmx:
            response = render(request, "touchpoints/_logged.html", {
                "customer": customer,
                "form": TouchpointForm(customer=customer),
                "timeline": timeline_page(customer=customer),
                "logged": True,
            })
            return response
        messages.success(request, "Touchpoint logged.")
        return redirect(customer)
    template = "touchpoints/_log_form.html" if request.htmx else "touchpoints/log.html"
    return render(request, template, {"customer": customer, "form": form})


@require_http_methods(["GET", "POST"])
def touchpoint_edit(request, pk):
    touchpoint = object_for_user(request.user, Touchpoint.objects.select_related("customer"), pk)
    customer = touchpoint.customer
    form = TouchpointForm(request.POST or None, instance=touchpoint, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in form.Meta.fields if f != "contacts"}
        touchpoint_update(touchpoint=touchpoint, data=data, contacts=form.cleaned_data["contacts"])
        messages.success(request, "Touchpoint saved.")
        return redirect(customer)
    return render(request, "touchpoints/edit.html", {
        "form": form, "customer": customer, "touchpoint": touchpoint,
    })


@require_http_methods(["GET", "POST"])
def touchpoint_delete_view(request, pk):
    touchpoint = object_for_user(request.user, Touchpoint.objects.select_related("customer"), pk)
    customer = touchpoint.customer
    if request.method == "POST":
        touchpoint_delete(touchpoint=touchpoint)
        messages.success(request, "Touchpoint deleted.")
        return redirect(customer)
    return render(request, "touchpoints/confirm_delete.html", {
        "touchpoint": touchpoint, "customer": customer,
    })


@require_POST
def followup_done(request, pk):
    follow_up = object_for_user(request.user, FollowUp.objects.select_related("customer"), pk)
    status = request.POST.get("status", FollowUp.Status.DONE)
    if status not in (FollowUp.Status.DONE, FollowUp.Status.DISMISSED):
        status = FollowUp.Status.DONE
    followup_close(follow_up=follow_up, user=request.user, status=status)
    if request.htmx:
        return render(request, "touchpoints/_followup_closed.html", {"follow_up": follow_up})
    messages.success(request, f"“{follow_up.title}” is {follow_up.get_status_display().lower()}.")
    return redirect(safe_next(request, default="today"))
