"""
Suggestions: the free-text answers, triaged by managers from new to planned to done or declined,
grouped by theme, duplicates merged into one.

A merge moves the customers who asked (their responses) to the suggestion kept; the merged one is
marked ``merged`` and points at it. When a suggestion is done, each customer who asked is told
("you asked, we did") through the outbox, once per contact: the message is keyed
``suggestion_done:<suggestion>:<contact>``, so marking it done twice, or a merge after it was
done, tells no one twice.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from touchpoints.messaging.ledger import outbox_enqueue

# Owners and their signatures, read once per batch: the program scans' own cache.
from touchpoints.messaging.scans import _People as People

from .email import suggestion_done_email, survey_programs
from .models import Response, Suggestion

# The moves a manager may make; done and declined may be reopened as planned, a merged one not.
THEME_MAX_LENGTH = Suggestion._meta.get_field("theme").max_length

NEXT = {
    Suggestion.Status.NEW: {Suggestion.Status.PLANNED, Suggestion.Status.DONE, Suggestion.Status.DECLINED},
    Suggestion.Status.PLANNED: {Suggestion.Status.NEW, Suggestion.Status.DONE, Suggestion.Status.DECLINED},
    Suggestion.Status.DONE: {Suggestion.Status.PLANNED},
    Suggestion.Status.DECLINED: {Suggestion.Status.NEW, Suggestion.Status.PLANNED},
    Suggestion.Status.MERGED: set(),
}


def suggestion_askers(suggestion):
    """The responses whose customers asked for it, with their contact and customer."""
    return Response.objects.filter(suggestion=suggestion).select_related("invitation__contact", "customer")


@transaction.atomic
def suggestion_update(*, suggestion, user, status=None, theme=None, note=None):
    """
    Move a suggestion on and/or set its theme and "what we did" note. Done tells each customer who
    asked, once. Returns how many customers were told.
    """
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    fields = []
    if theme is not None:
        theme = " ".join(theme.split())
        if len(theme) > THEME_MAX_LENGTH:
            raise ValidationError({"theme": f"A theme is at most {THEME_MAX_LENGTH} characters."})
        suggestion.theme = theme
        fields.append("theme")
    if note is not None:
        suggestion.note = note.strip()
        fields.append("note")
    if status is not None and status != suggestion.status:
        if status not in NEXT[suggestion.status]:
            raise ValidationError(
                f"A {suggestion.get_status_display().lower()} suggestion cannot be "
                f"marked {Suggestion.Status(status).label.lower()}."
            )
        suggestion.status, suggestion.decided_at, suggestion.decided_by = status, timezone.now(), user
        fields += ["status", "decided_at", "decided_by"]
    if fields:
        suggestion.save(update_fields=fields)
    if status == Suggestion.Status.DONE:
        return suggestion_done_tell(suggestion=suggestion)
    return 0


def suggestion_done_tell(*, suggestion):
    """ "You asked, we did" to each contact who asked, through the outbox, once each."""
    program = survey_programs()["suggestion_done"]
    if not program.enabled:
        return 0
    people, told = People(), 0
    for response in suggestion_askers(suggestion):
        contact = response.invitation.contact
        if contact is None or not contact.email:
            continue
        owner, signature = people.get(response.customer.owner_id)
        subject, text, html = suggestion_done_email(
            program=program,
            suggestion=suggestion,
            customer_name=response.customer.name,
            contact_name=contact.name,
            owner=owner,
            signature=signature,
            unsubscribe_token=contact.unsubscribe_token,
        )
        _, created = outbox_enqueue(
            occasion_key=f"suggestion_done:{suggestion.pk}:{contact.pk}",
            program="suggestion_done",
            customer=response.customer,
            contact=contact,
            to=contact.email,
            subject=subject,
            body_text=text,
            body_html=html,
            sender=owner,
            reply_to=owner.email if owner else "",
            automated=True,
        )
        # The outbox adds the unsubscribe footer to automated messages itself.
        told += created
    return told


@transaction.atomic
def suggestions_merge(*, target, duplicates, user):
    """Fold ``duplicates`` into ``target``: their askers become its askers. Returns how many merged."""
    duplicates = [s for s in duplicates if s.pk != target.pk]
    if not duplicates:
        raise ValidationError("Choose at least one other suggestion to merge into this one.")
    if target.status == Suggestion.Status.MERGED:
        raise ValidationError("This suggestion was itself merged into another; merge into that one.")
    ids = [s.pk for s in duplicates]
    Response.objects.filter(suggestion_id__in=ids).update(suggestion=target)
    Suggestion.objects.filter(merged_into_id__in=ids).update(merged_into=target)
    merged = (
        Suggestion.objects.filter(pk__in=ids)
        .exclude(status=Suggestion.Status.MERGED)
        .update(
            status=Suggestion.Status.MERGED, merged_into=target, decided_at=timezone.now(), decided_by=user
        )
    )
    if not target.theme:
        theme = next((s.theme for s in duplicates if s.theme), "")
        if theme:
            Suggestion.objects.filter(pk=target.pk).update(theme=theme)
    if target.status == Suggestion.Status.DONE:
        suggestion_done_tell(suggestion=target)  # the customers who just joined it are told too
    return merged
