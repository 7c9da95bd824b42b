"""
Logging, editing and deleting touchpoints; closing follow-ups; promises, complaints, snoozed
check-ins and meeting notes.

Actions answer htmx with the fragment they change (a row of Today, a panel of the customer page)
and plain requests with a redirect, so every one of them also works without JavaScript. An action
that changed something also announces it (the ``book-changed`` event, ``HX-Trigger``): the page
it came from, composed elsewhere, then fetches again what depends on it (Today's counts, the
customer page's check-in card and follow-ups), from the partials it renders them with.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from customers.access import customer_for_user, object_for_user
from retention.http import safe_next
from retention.security import shows_email

from .checkins import checkin_snooze
from .forms import (
    ComplaintForm,
    ComplaintResolveForm,
    MeetingNotesForm,
    PromiseCloseForm,
    PromiseForm,
    QuickLogForm,
    SnoozeForm,
    TouchpointForm,
)
from .models import Complaint, FollowUp, OutboxMessage, Promise, Touchpoint
from .selectors import complaint_panel, promise_panel, timeline_filters, timeline_page
from .services import (
    TransitionRefused,
    complaint_acknowledge,
    complaint_close,
    complaint_open,
    complaint_resolve,
    followup_close,
    meeting_notes_draft,
    meeting_notes_html,
    meeting_notes_key,
    meeting_notes_not_needed,
    meeting_notes_send,
    promise_close,
    promise_create,
    touchpoint_delete,
    touchpoint_log,
    touchpoint_update,
)

# The event a page listens for (``hx-trigger="book-changed from:body"``) to refresh its counts.
BOOK_CHANGED = "book-changed"


def _changed(response):
    """``response`` to an action that changed the customer's book: the page refreshes what depends on it."""
    return trigger_client_event(response, BOOK_CHANGED)


@require_POST
def touchpoint_new(request, customer_pk):
    customer = customer_for_user(request.user, customer_pk)
    form = TouchpointForm(request.POST, customer=customer)
    if form.is_valid():
        arguments = form.log_arguments()
        touchpoint = touchpoint_log(customer=customer, user=request.user, **arguments)
        if request.htmx:
            context = {
                "customer": customer,
                "form": TouchpointForm(customer=customer),
                "timeline": timeline_page(customer=customer),
                "timeline_kinds": timeline_filters(),
                "logged": True,
                "touchpoint": touchpoint,
                # The summary cards change with the clock: swapped out of band.
                "checkin_state": customer.checkin_state(),
                "currency": settings.CURRENCY,
            }
            if "promise" in arguments:
                context.update(_promise_panel_context(customer), refresh_promises=True)
            return _changed(render(request, "touchpoints/_logged.html", context))
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
        return _changed(render(request, "touchpoints/_followup_closed.html", {"follow_up": follow_up}))
    messages.success(request, f"“{follow_up.title}” is {follow_up.get_status_display().lower()}.")
    return redirect(safe_next(request, default="today"))


# Today's in-place actions: each answers htmx with the row it replaces -------------------------


def _row(request, message, *, level="success"):
    """The Today row an action leaves behind: what was done, or why it was refused."""
    response = render(request, "touchpoints/_today_row.html", {"message": message, "level": level})
    return reswap(retarget(response, "closest li"), "outerHTML")


def _done(request, message, default="today"):
    if request.htmx:
        return _changed(_row(request, message))
    messages.success(request, message)
    return redirect(safe_next(request, default=default))


def _refused(request, error, default="today"):
    message = error.messages[0] if isinstance(error, ValidationError) else str(error)
    if request.htmx:
        return _row(request, message, level="warning")
    messages.error(request, message)
    return redirect(safe_next(request, default=default))


@require_http_methods(["GET", "POST"])
def touchpoint_quick_new(request, customer_pk):
    """Log a touch in one line: now, with the primary contact (Today's "Log call")."""
    customer = customer_for_user(request.user, customer_pk)
    initial = {}
    if request.GET.get("kind") in dict(QuickLogForm.base_fields["kind"].choices):
        initial["kind"] = request.GET["kind"]
    form = QuickLogForm(request.POST or None, initial=initial, customer=customer)
    if request.method == "POST" and form.is_valid():
        primary = customer.primary_contact()
        touchpoint = touchpoint_log(
            customer=customer, user=request.user, contacts=[primary] if primary else [],
            **form.cleaned_data,
        )
        customer.refresh_from_db(fields=["next_checkin_due"])
        message = f"{touchpoint.get_kind_display()} with {customer.name} logged: “{touchpoint.summary}”."
        if touchpoint.counts_as_contact:
            message += f" Next check-in due {customer.next_checkin_due:%Y-%m-%d}."
        return _done(request, message, default=customer)
    context = {"customer": customer, "form": form, "primary": customer.primary_contact(),
               "next": request.GET.get("next") or request.POST.get("next") or ""}
    if request.htmx:
        return render(request, "touchpoints/_quick_log_form.html", context)
    return render(request, "touchpoints/quick_log.html", context)


@require_http_methods(["GET", "POST"])
def checkin_snooze_view(request, customer_pk):
    customer = customer_for_user(request.user, customer_pk)
    form = SnoozeForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            checkin_snooze(customer=customer, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            return _refused(request, error)
        until = form.cleaned_data["until"]
        return _done(request, f"Check-in with {customer.name} snoozed to {date_format(until)}: "
                              f"{form.cleaned_data['reason']}")
    context = {"customer": customer, "form": form}
    if request.htmx:
        return render(request, "touchpoints/_snooze_form.html", context)
    return render(request, "touchpoints/snooze.html", context)


@require_POST
def promise_close_view(request, pk):
    promise = object_for_user(request.user, Promise.objects.select_related("customer"), pk)
    form = PromiseCloseForm(request.POST)
    if not form.is_valid():
        return _respond_promise(request, promise,
                                error="Choose kept, exceeded or broken, and a valid date.")
    try:
        promise_close(promise=promise, user=request.user, **form.cleaned_data)
    except TransitionRefused as error:
        return _respond_promise(request, promise, error=str(error))
    message = f"Promise “{promise.description}” to {promise.customer.name}: "
    message += promise.get_status_display().lower()
    if promise.kept_on:
        message += f" on {promise.kept_on:%Y-%m-%d}"
    return _respond_promise(request, promise, message=message + ".")


def _respond_promise(request, promise, *, message="", error=""):
    if request.POST.get("panel") == "customer":
        if not request.htmx:
            (messages.error if error else messages.success)(request, error or message)
            return redirect(promise.customer)
        return _promise_panel(request, promise.customer, error=error, message=message)
    if error:
        return _refused(request, TransitionRefused(error))
    return _done(request, message)


@require_POST
def complaint_acknowledge_view(request, pk):
    complaint = _complaint(request, pk)
    try:
        complaint_acknowledge(complaint=complaint, user=request.user)
    except TransitionRefused as error:
        return _respond_complaint(request, complaint, error=str(error))
    return _respond_complaint(
        request, complaint, message=f"Complaint “{complaint.summary}” acknowledged. "
        f"Resolve it by {timezone.localtime(complaint.resolution_due_at):%Y-%m-%d %H:%M}.")


@require_http_methods(["GET", "POST"])
def complaint_resolve_view(request, pk):
    complaint = _complaint(request, pk)
    form = ComplaintResolveForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                complaint_resolve(complaint=complaint, user=request.user, **form.cleaned_data)
            except (TransitionRefused, ValidationError) as error:
                text = error.messages[0] if isinstance(error, ValidationError) else str(error)
                return _respond_complaint(request, complaint, error=text)
            return _respond_complaint(
                request, complaint, message=f"Complaint “{complaint.summary}” resolved. "
                "A follow-up in a week asks whether it is sorted out.")
        if request.POST.get("panel") == "customer":
            return _respond_complaint(request, complaint, error="Say how it was resolved.")
    context = {"complaint": complaint, "form": form}
    if request.htmx:
        return render(request, "touchpoints/_complaint_resolve_form.html", context)
    return render(request, "touchpoints/complaint_resolve.html", context)


@require_POST
def complaint_close_view(request, pk):
    complaint = _complaint(request, pk)
    try:
        complaint_close(complaint=complaint, user=request.user)
    except TransitionRefused as error:
        return _respond_complaint(request, complaint, error=str(error))
    return _respond_complaint(request, complaint, message=f"Complaint “{complaint.summary}” closed.")


def _complaint(request, pk):
    return object_for_user(request.user, Complaint.objects.select_related("customer"), pk)


def _respond_complaint(request, complaint, *, message="", error=""):
    if request.POST.get("panel") == "customer":
        if not request.htmx:
            (messages.error if error else messages.success)(request, error or message)
            return redirect(complaint.customer)
        return _complaint_panel(request, complaint.customer, error=error, message=message)
    if error:
        return _refused(request, TransitionRefused(error))
    return _done(request, message)


# The customer page's promise and complaint panels ------------------------------------------


# A panel shows its form only when given one (opened, or sent back with errors); otherwise a
# link that loads it (htmx) or opens its page, so the customer page renders no form it may not use.


def _promise_panel_context(customer, form=None):
    return {"customer": customer, **promise_panel(customer), "promise_form": form}


def _complaint_panel_context(customer, form=None):
    return {"customer": customer, **complaint_panel(customer), "complaint_form": form}


def _promise_panel(request, customer, *, form=None, error="", message=""):
    context = {**_promise_panel_context(customer, form), "promise_error": error,
               "promise_message": message, "refresh_timeline": not error and form is None}
    if not context["refresh_timeline"]:
        return render(request, "touchpoints/_customer_promises.html", context)
    context.update(timeline=timeline_page(customer=customer), timeline_kinds=timeline_filters())
    return _changed(render(request, "touchpoints/_customer_promises.html", context))


def _complaint_panel(request, customer, *, form=None, error="", message=""):
    context = {**_complaint_panel_context(customer, form), "complaint_error": error,
               "complaint_message": message, "refresh_timeline": not error and form is None}
    if not context["refresh_timeline"]:
        return render(request, "touchpoints/_customer_complaints.html", context)
    context.update(timeline=timeline_page(customer=customer), timeline_kinds=timeline_filters())
    return _changed(render(request, "touchpoints/_customer_complaints.html", context))


@require_http_methods(["GET", "POST"])
def promise_new(request, customer_pk):
    customer = customer_for_user(request.user, customer_pk)
    form = PromiseForm(request.POST or None, customer=customer, autofocus=request.method == "GET")
    if request.method == "POST" and form.is_valid():
        promise = promise_create(customer=customer, user=request.user, **form.cleaned_data)
        message = f"Promise recorded: “{promise.description}”, due {promise.due_on:%Y-%m-%d}."
        if request.htmx:
            return _promise_panel(request, customer, message=message)
        messages.success(request, message)
        return redirect(customer)
    if request.htmx:
        return _promise_panel(request, customer, form=form)
    return render(request, "touchpoints/promise_new.html", {"customer": customer, "form": form})


@require_http_methods(["GET", "POST"])
def complaint_new(request, customer_pk):
    customer = customer_for_user(request.user, customer_pk)
    form = ComplaintForm(request.POST or None, customer=customer, autofocus=request.method == "GET")
    if request.method == "POST" and form.is_valid():
        complaint = complaint_open(customer=customer, user=request.user, **form.cleaned_data)
        message = (f"Complaint recorded. First response due by "
                   f"{timezone.localtime(complaint.first_response_due_at):%Y-%m-%d %H:%M}.")
        if request.htmx:
            return _complaint_panel(request, customer, message=message)
        messages.success(request, message)
        return redirect(customer)
    if request.htmx:
        return _complaint_panel(request, customer, form=form)
    return render(request, "touchpoints/complaint_new.html", {"customer": customer, "form": form})


# Meeting notes -------------------------------------------------------------------------------


def _meeting(request, pk):
    touchpoint = object_for_user(
        request.user, Touchpoint.objects.select_related("customer", "author"), pk
    )
    if touchpoint.kind != Touchpoint.Kind.MEETING:
        raise Http404("Only meetings have notes to send.")
    return touchpoint


@require_http_methods(["GET", "POST"])
@shows_email
def meeting_notes(request, pk):
    """
    "Send notes": a draft of the email (editable subject and body, chosen attendees), its preview,
    and sending it through the outbox. Sending twice sends once.
    """
    touchpoint = _meeting(request, pk)
    customer = touchpoint.customer
    already = OutboxMessage.objects.filter(occasion_key=meeting_notes_key(touchpoint)).first()
    if already is not None:
        if request.method == "POST":
            messages.info(request, "These notes were already sent; they go out once.")
            return redirect(customer)
        return render(request, "touchpoints/meeting_notes.html", {
            "touchpoint": touchpoint, "customer": customer, "message": already,
        })
    if request.method == "POST":
        form = MeetingNotesForm(request.POST, touchpoint=touchpoint)
    else:
        draft = meeting_notes_draft(touchpoint=touchpoint, user=request.user)
        with_email = [c.pk for c in touchpoint.contacts.all() if c.email]
        form = MeetingNotesForm(initial={**draft, "contacts": with_email}, touchpoint=touchpoint)
    if request.method == "POST" and form.is_valid() and request.POST.get("action") == "send":
        try:
            message, created = meeting_notes_send(touchpoint=touchpoint, user=request.user,
                                                  **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if created:
                names = ", ".join(c.name for c in form.cleaned_data["contacts"])
                messages.success(request, f"Meeting notes are on their way to {names}.")
            else:
                messages.info(request, "These notes were already sent; they go out once.")
            return redirect(customer)
    preview = None
    if form.is_bound:
        form.is_valid()  # the preview needs only a subject and a body
        subject, body = form.cleaned_data.get("subject"), form.cleaned_data.get("body")
    else:
        subject, body = form.initial["subject"], form.initial["body"]
    if subject and body:
        preview = {"subject": subject, "text": body,
                   "html": meeting_notes_html(touchpoint=touchpoint, user=request.user,
                                              subject=subject, body=body)}
    context = {"touchpoint": touchpoint, "customer": customer, "form": form, "preview": preview}
    if request.htmx and request.POST.get("action") == "preview":
        return render(request, "touchpoints/_meeting_notes_preview.html", context)
    return render(request, "touchpoints/meeting_notes.html", context)


@require_POST
def meeting_notes_not_needed_view(request, pk):
    touchpoint = _meeting(request, pk)
    meeting_notes_not_needed(touchpoint=touchpoint, user=request.user)
    return _done(request, f"No notes needed for “{touchpoint.summary}” with "
                          f"{touchpoint.customer.name}.", default=touchpoint.customer)
