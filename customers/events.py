"""
"Something that matters about this customer happened": a touchpoint logged, edited or deleted, a
promise made or closed, a complaint opened or moved on, a purchase added or removed. The services
say so here (a survey answer, which comes by the thousand from outside, marks the customer's
``health_stale`` instead, for the health sweep); what depends on it (the health score in
``retention``) listens, so the apps never import the project package that composes them
(surveys → touchpoints → customers, and ``retention`` above all three).

The signal is sent once the deciding transaction commits, so a listener sees the committed rows
and a rolled-back change announces nothing. Listeners must be quick (enqueue work, or a small
recompute) and never fail the change that was made.

``notes_imported`` is the other kind: sent *inside* a CSV import's transaction with the notes of the
customers it created, for the app that keeps timelines (touchpoints) to write them as the first note
of each, all or nothing with the import (a listener that fails, fails the import).
"""

from django.db import transaction
from django.dispatch import Signal

# Sent with ``customer_id`` and ``what`` (a short word: "touchpoint", "promise", "complaint",
# "purchase", ...).
customer_activity = Signal()

# Sent with ``notes`` ([(customer id, text)]), ``user`` (or None) and ``at`` (when).
notes_imported = Signal()


def customer_activity_recorded(*, customer_id, what):
    """Announce, on commit, that ``what`` happened to customer ``customer_id``."""
    transaction.on_commit(
        lambda: customer_activity.send_robust(sender=None, customer_id=customer_id, what=what)
    )
