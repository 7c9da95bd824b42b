"""
Notes that came with customers in a CSV import, kept as the first note of each new customer's
timeline. The customers app cannot import this one (apps depend one way: touchpoints → customers),
so the import sends ``customers.events.notes_imported`` inside its transaction and this writes the
notes, in bulk, in the same transaction: all or nothing with the import.
"""

from .models import Touchpoint

SUMMARY_LENGTH = 200  # Touchpoint.summary's max_length


def notes_write(sender, *, notes, user, at, **kwargs):
    """A note touchpoint (no contact with the customer, so the check-in clock stays) per customer."""
    touchpoints = []
    for customer_id, text in notes:
        summary, rest = _summary(text)
        touchpoints.append(Touchpoint(customer_id=customer_id, author=user, kind=Touchpoint.Kind.NOTE,
                                      happened_at=at, summary=summary, notes=rest))
    Touchpoint.objects.bulk_create(touchpoints)


def _summary(text):
    """``(summary, notes)``: the first line, shortened to fit; the whole text when it says more."""
    text = text.strip()
    first = text.splitlines()[0].strip() if text else ""
    if len(first) > SUMMARY_LENGTH:
        return first[: SUMMARY_LENGTH - 1] + "…", text
    return (first or "Imported note"), ("" if first == text else text)
