"""
Workflows of the touchpoints app: logging contact with customers (and the check-in clock),
follow-ups, promises, complaints and meeting notes. The check-in scan and snoozing a check-in are
in ``touchpoints.checkins``; messages to customers go through ``touchpoints.messaging``.

State changes (a promise closed, a complaint moved on) are conditional UPDATEs on the current
status: of two concurrent clicks one wins and the other is refused with ``TransitionRefused``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from customers.checkin import next_checkin_due_recompute
from customers.events import EventType, customer_activity_recorded, customer_event_announce
from customers.history import actor as _actor
from customers.models import Customer
from customers.services import customer_record_contact, customer_reset_contact

from .messaging.ledger import outbox_enqueue
from .models import (
    Complaint,
    ComplaintTarget,
    EmailSignature,
    FollowUp,
    Program,
    Promise,
    Touchpoint,
)


@transaction.atomic
def touchpoint_log(*, customer, user, kind, summary, happened_at=None, contacts=(), promise=None,
                   follow_up=None, **fields):
    """
    Record a touchpoint; a contact resets the customer's check-in clock in the same transaction.

    ``promise`` (optional): ``{"description", "due_on", "contact"}`` of a promise made during it.
    ``follow_up`` (optional): an open follow-up of this customer the touchpoint was logged
    against (a recovery call, a referral ask); it is closed as done, with this touchpoint.
    """
    if follow_up is not None and follow_up.customer_id != customer.pk:
        raise ValidationError("The follow-up belongs to another customer.")
    touchpoint = Touchpoint(
        customer=customer, author=user if user and user.is_authenticated else None, kind=kind,
        summary=summary, happened_at=happened_at or timezone.now(), **fields,
    )
    touchpoint.full_clean()
    touchpoint.save()
    if contacts:
        touchpoint.contacts.set(contacts)
    if touchpoint.counts_as_contact:
        customer_record_contact(customer=customer, at=touchpoint.happened_at)
        FollowUp.objects.open().filter(customer=customer, kind=FollowUp.Kind.CHECKIN).update(
            status=FollowUp.Status.DONE, closed_at=timezone.now(), closed_by=touchpoint.author
        )
    if follow_up is not None:
        FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.OPEN).update(
            status=FollowUp.Status.DONE, closed_at=timezone.now(), closed_by=touchpoint.author,
            closed_with=touchpoint,
        )
    if promise:
        promise_create(customer=customer, user=user, touchpoint=touchpoint, **promise)
    customer_activity_recorded(customer_id=customer.pk, what="touchpoint")
    return touchpoint


@transaction.atomic
def touchpoint_update(*, touchpoint, data, contacts=None):
    for field, value in data.items():
        setattr(touchpoint, field, value)
    touchpoint.full_clean()
    touchpoint.save(update_fields=[*data, "updated_at"])
    if contacts is not None:
        touchpoint.contacts.set(contacts)
    customer_contact_recompute(customer=touchpoint.customer)
    customer_activity_recorded(customer_id=touchpoint.customer_id, what="touchpoint")
    return touchpoint


@transaction.atomic
def touchpoint_delete(*, touchpoint):
    customer = touchpoint.customer
    touchpoint.delete()
    customer_contact_recompute(customer=customer)
    customer_activity_recorded(customer_id=customer.pk, what="touchpoint")


def latest_contact(customer="pk"):
    """When the customer at ``customer`` (an OuterRef path) was last contacted, as a subquery: the
    latest touchpoint that counts as contact. The one definition of "last contacted"."""
    return Subquery(
        Touchpoint.objects.filter(customer=OuterRef(customer), kind__in=Touchpoint.CONTACT_KINDS)
        .order_by("-happened_at").values("happened_at")[:1]
    )


def customer_contact_recompute(*, customer):
    """Recompute "last contacted" from the touchpoints themselves (after an edit or delete)."""
    latest = Customer.objects.filter(pk=customer.pk).values_list(latest_contact(), flat=True).get()
    if latest != customer.last_contacted_at:
        customer_reset_contact(customer=customer, last_contacted_at=latest)
    return customer


def customers_contact_recompute(*, customers):
    """
    ``customer_contact_recompute`` for many customers at once (a Customer queryset): set-based
    UPDATEs of "last contacted" and then of the check-in clock that runs from it.
    """
    customers.update(last_contacted_at=latest_contact())
    return next_checkin_due_recompute(customers=customers)


def followup_close(*, follow_up, user, status=FollowUp.Status.DONE):
    FollowUp.objects.filter(pk=follow_up.pk, status=FollowUp.Status.OPEN).update(
        status=status, closed_at=timezone.now(), closed_by=user
    )
    follow_up.refresh_from_db()
    return follow_up


# Promises ------------------------------------------------------------------------------------


class TransitionRefused(Exception):
    """A change of state the workflow does not allow; the message says why, for the user."""


def promise_create(*, customer, user, description, due_on, contact=None, touchpoint=None,
                   notes=""):
    """Record a commitment to a customer, made by ``user`` (or, by default, the owner)."""
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": "Choose one of this customer's contacts."})
    promise = Promise(
        customer=customer, contact=contact, touchpoint=touchpoint,
        owner=_actor(user) or customer.owner, description=description.strip(), due_on=due_on,
        notes=notes,
    )
    promise.full_clean()
    promise.save()
    customer_activity_recorded(customer_id=customer.pk, what="promise")
    return promise


PROMISE_CLOSING = {
    Promise.Status.KEPT: "delivered", Promise.Status.LATE: "delivered",
    Promise.Status.EXCEEDED: "exceeded", Promise.Status.BROKEN: "broken",
}


@transaction.atomic
def promise_close(*, promise, user, status, kept_on=None):
    """
    Close an open promise as kept, exceeded or broken; nothing else may be changed.

    Delivering decides the status by the date: on or before the due date it is ``kept`` (or
    ``exceeded``), after it ``late`` — over-delivering late is still late. ``kept_on`` defaults to
    today in the customer's time zone. A closed promise is never reopened.
    """
    if status not in PROMISE_CLOSING:
        raise TransitionRefused("A promise can be marked kept, exceeded or broken, nothing else.")
    if PROMISE_CLOSING[status] == "broken":
        kept_on = None
    else:
        today = promise.customer.local_today()
        kept_on = kept_on or today
        if kept_on > today:
            raise TransitionRefused("A promise cannot be kept in the future.")
        if kept_on < promise.created_at.astimezone(promise.customer.tz).date():
            raise TransitionRefused("A promise cannot be kept before it was made.")
        if kept_on > promise.due_on:
            status = Promise.Status.LATE
        elif status == Promise.Status.LATE:
            status = Promise.Status.KEPT
    now = timezone.now()
    closed = Promise.objects.filter(pk=promise.pk, status=Promise.Status.OPEN).update(
        status=status, kept_on=kept_on, closed_at=now
    )
    if not closed:
        promise.refresh_from_db(fields=["status", "kept_on", "closed_at"])
        raise TransitionRefused(
            f"This promise is already {promise.get_status_display().lower()}: "
            "only an open promise can be closed."
        )
    promise.status, promise.kept_on, promise.closed_at = status, kept_on, now
    if status == Promise.Status.BROKEN:
        customer_event_announce(event_type=EventType.PROMISE_BROKEN, customer_id=promise.customer_id,
                                data=promise.event_data())
    customer_activity_recorded(customer_id=promise.customer_id, what="promise")
    return promise


# Complaints ----------------------------------------------------------------------------------

# (first response, resolution) in hours per severity: the targets a new installation starts with
# (the data migration keeps its own frozen copy, which a test compares with this), and the ones
# used if an admin deleted a severity's row. Admins change them in the Django admin.
DEFAULT_TARGET_HOURS = {"low": (48, 240), "medium": (24, 120), "high": (8, 48), "critical": (2, 24)}
COMPLAINT_FOLLOWUP_DAYS = 7

# The one path a complaint takes; any other move is refused.
COMPLAINT_NEXT = {
    Complaint.Status.NEW: Complaint.Status.ACKNOWLEDGED,
    Complaint.Status.ACKNOWLEDGED: Complaint.Status.RESOLVED,
    Complaint.Status.RESOLVED: Complaint.Status.CLOSED,
}
COMPLAINT_VERBS = {
    Complaint.Status.ACKNOWLEDGED: "acknowledged", Complaint.Status.RESOLVED: "resolved",
    Complaint.Status.CLOSED: "closed",
}
COMPLAINT_HINTS = {
    Complaint.Status.NEW: "acknowledge it first.",
    Complaint.Status.ACKNOWLEDGED: "resolve it first.",
    Complaint.Status.RESOLVED: "it can only be closed now.",
    Complaint.Status.CLOSED: "it is finished.",
}


def complaint_target_hours(severity):
    target = ComplaintTarget.objects.filter(severity=severity).first()
    if target is not None:
        return target.first_response_hours, target.resolution_hours
    return DEFAULT_TARGET_HOURS.get(severity, DEFAULT_TARGET_HOURS["medium"])


@transaction.atomic
def complaint_open(*, customer, user, summary, severity, description="", contact=None,
                   opened_at=None):
    """Record a complaint with its first-response and resolution deadlines from its severity."""
    if contact is not None and contact.customer_id != customer.pk:
        raise ValidationError({"contact": "Choose one of this customer's contacts."})
    opened_at = opened_at or timezone.now()
    respond, resolve = complaint_target_hours(severity)
    complaint = Complaint(
        customer=customer, contact=contact, summary=summary, description=description,
        severity=severity, opened_at=opened_at, opened_by=_actor(user),
        first_response_due_at=opened_at + datetime.timedelta(hours=respond),
        resolution_due_at=opened_at + datetime.timedelta(hours=resolve),
    )
    complaint.full_clean()
    complaint.save()
    customer_event_announce(event_type=EventType.COMPLAINT_OPENED, customer_id=customer.pk,
                            data=complaint.event_data())
    customer_activity_recorded(customer_id=customer.pk, what="complaint")
    return complaint


def complaint_acknowledge(*, complaint, user):
    return _complaint_move(complaint, user, Complaint.Status.ACKNOWLEDGED, "acknowledged_at")


@transaction.atomic
def complaint_resolve(*, complaint, user, resolution_notes):
    """Resolve an acknowledged complaint and schedule the follow-up touch a week later."""
    resolution_notes = resolution_notes.strip()
    if not resolution_notes:
        raise ValidationError({"resolution_notes": "Say how the complaint was resolved."})
    complaint = _complaint_move(complaint, user, Complaint.Status.RESOLVED, "resolved_at",
                                resolution_notes=resolution_notes)
    customer = complaint.customer
    FollowUp.objects.get_or_create(
        occasion_key=f"complaint_followup:{complaint.pk}",
        defaults={
            "customer": customer, "kind": FollowUp.Kind.COMPLAINT_FOLLOWUP,
            "assignee_id": complaint.handled_by_id or customer.owner_id,
            "title": f"Ask {customer.name} whether the complaint is sorted out: "
                     f"{complaint.summary}"[:200],
            "due_on": customer.local_today() + datetime.timedelta(days=COMPLAINT_FOLLOWUP_DAYS),
        },
    )
    return complaint


def complaint_close(*, complaint, user):
    return _complaint_move(complaint, user, Complaint.Status.CLOSED, "closed_at")


def _complaint_move(complaint, user, to, stamp_field, **fields):
    """One step along the path, as a conditional UPDATE: of two concurrent clicks, one wins."""
    previous = next(s for s, nxt in COMPLAINT_NEXT.items() if nxt == to)
    now = timezone.now()
    changes = {"status": to, stamp_field: now, **fields}
    if complaint.handled_by_id is None and _actor(user) is not None:
        changes["handled_by"] = user
    moved = Complaint.objects.filter(pk=complaint.pk, status=previous).update(**changes)
    if not moved:
        complaint.refresh_from_db(fields=["status"])
        raise TransitionRefused(
            f"This complaint is {complaint.get_status_display().lower()}, so it cannot be "
            f"{COMPLAINT_VERBS[to]}: {COMPLAINT_HINTS[complaint.status]}"
        )
    for field, value in changes.items():
        setattr(complaint, field, value)
    customer_activity_recorded(customer_id=complaint.customer_id, what="complaint")
    return complaint


# Meeting notes -------------------------------------------------------------------------------

MEETING_NOTES = "meeting_notes"


def meeting_notes_key(touchpoint):
    return f"{MEETING_NOTES}:{touchpoint.pk}"


def meeting_notes_draft(*, touchpoint, user):
    """The subject and plain-text body the "Send notes" form starts from; the user may edit both."""
    from .messaging.wording import TemplateProblem, compile_template, render_template, subject_line

    context = _meeting_notes_context(touchpoint, user)
    subject = f"Notes from our meeting: {touchpoint.summary}"
    program = Program.objects.filter(key=MEETING_NOTES).first()
    if program and program.subject:
        # The admin's wording, in the programs' sandbox and over plain values only.
        values = {
            "touchpoint": {"summary": touchpoint.summary, "happened_at": context["when"]},
            "customer": {"name": touchpoint.customer.name}, "owner_name": context["sender_name"],
        }
        try:
            subject = render_template(compile_template(program.subject), values)
        except TemplateProblem:
            pass  # a broken wording must not stop the notes: the default subject serves
    body = render_to_string("touchpoints/email/meeting_notes.txt", context)
    return {"subject": subject_line(subject), "body": body.strip() + "\n"}


def meeting_notes_html(*, touchpoint, user, subject, body):
    """The HTML part: the (edited) plain text laid out in a simple, escaped template."""
    context = {**_meeting_notes_context(touchpoint, user), "subject": subject, "body": body}
    return render_to_string("touchpoints/email/meeting_notes.html", context)


@transaction.atomic
def meeting_notes_send(*, touchpoint, user, contacts, subject, body):
    """
    Send a meeting's notes to the chosen attendees through the outbox, once.

    The occasion key is the meeting: a second "Send" (a double click, a second tab) finds it
    taken and returns the first message with ``created`` False. Returns ``(message, created)``.
    """
    if touchpoint.kind != Touchpoint.Kind.MEETING:
        raise TransitionRefused("Only a meeting has notes to send.")
    recipients = [c for c in contacts if c.email and c.customer_id == touchpoint.customer_id]
    if not recipients:
        raise ValidationError({"contacts": "Choose at least one attendee with an email address."})
    subject, body = " ".join(subject.split()), body.strip()
    if not subject or not body:
        raise ValidationError("The email needs a subject and a body.")
    return outbox_enqueue(
        occasion_key=meeting_notes_key(touchpoint), program=MEETING_NOTES,
        customer=touchpoint.customer, contact=recipients[0], to=[c.email for c in recipients],
        subject=subject, body_text=body + "\n",
        body_html=meeting_notes_html(touchpoint=touchpoint, user=user, subject=subject, body=body),
        sender=_actor(user), reply_to=getattr(user, "email", "") or "", automated=False,
        related_touchpoint=touchpoint,
    )


def meeting_notes_not_needed(*, touchpoint, user):
    if touchpoint.kind != Touchpoint.Kind.MEETING:
        raise TransitionRefused("Only a meeting has notes to send.")
    Touchpoint.objects.filter(pk=touchpoint.pk).update(notes_not_needed=True)
    touchpoint.notes_not_needed = True
    return touchpoint


def _meeting_notes_context(touchpoint, user):
    customer = touchpoint.customer
    attendees = list(touchpoint.contacts.all())
    signature = EmailSignature.objects.filter(user_id=getattr(user, "pk", None)).first()
    return {
        "touchpoint": touchpoint, "customer": customer, "attendees": attendees,
        "greeting": _names([c.first_name for c in attendees if c.email]
                           or [c.first_name for c in attendees]) or "all",
        "when": touchpoint.happened_at.astimezone(customer.tz),
        "promises": list(touchpoint.promises.order_by("due_on", "pk")),
        "sender_name": (user.get_full_name() or user.username) if _actor(user) else "",
        "signature": signature.text if signature else "",
    }


def _names(names):
    """"Olga", "Olga and Peter", "Olga, Peter and Dana"."""
    return " and ".join(filter(None, [", ".join(names[:-1]), names[-1]])) if names else ""

