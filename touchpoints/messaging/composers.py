"""
Messages written when they are sent: a sending that decides a whole book at once (a survey
campaign to 100,000 contacts) writes its outbox rows set-based, in one ``INSERT … SELECT``, with
``compose_at_send`` set and no subject or body. Rendering 100,000 personal emails inside the
deciding transaction would take minutes; the decision (the row, its unique occasion key, its
recipient) is still made and committed there, and only the wording waits for the worker.

A program that writes such rows registers a composer for them (the surveys app does, in its
``AppConfig.ready``): ``composer(messages)`` takes a batch of rows and returns ``{pk: (subject,
text, html)}``, reading what it needs set-based. The sender composes its batch just before claiming
it and stores the result on the rows, so the Outbox shows exactly what was sent. A row whose
composer finds nothing to write (what it was about is gone) is suppressed, with the reason.
"""

import logging

from ..models import OutboxMessage

log = logging.getLogger(__name__)

COMPOSERS = {}


def register_composer(program, composer):
    """Let ``composer`` write the rows of ``program`` that were decided without their wording."""
    COMPOSERS[program] = composer


def compose_pending(messages):
    """
    Write the subject and body of the pending rows among ``messages`` that wait for them, in
    place and in the database. Returns how many were written.
    """
    waiting = [m for m in messages if m.compose_at_send and m.status == OutboxMessage.Status.PENDING]
    if not waiting:
        return 0
    by_program = {}
    for message in waiting:
        by_program.setdefault(message.program, []).append(message)
    written, missing = [], []
    for program, batch in by_program.items():
        composer = COMPOSERS.get(program)
        if composer is None:
            log.error("no composer is registered for %s messages; %d left unsent", program, len(batch))
            missing += batch
            continue
        composed = composer(batch)
        for message in batch:
            if message.pk not in composed:
                missing.append(message)
                continue
            message.subject, message.body_text, message.body_html = composed[message.pk]
            message.compose_at_send = False
            written.append(message)
    OutboxMessage.objects.bulk_update(written, ["subject", "body_text", "body_html", "compose_at_send"])
    if missing:
        OutboxMessage.objects.filter(
            pk__in=[m.pk for m in missing], status=OutboxMessage.Status.PENDING
        ).update(status=OutboxMessage.Status.SUPPRESSED, lease_until=None,
                 reason_note="Not sent: what it was written for no longer exists.")
        for message in missing:
            message.status = OutboxMessage.Status.SUPPRESSED
    return len(written)
