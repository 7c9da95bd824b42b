"""
What each program's messages may do when they cannot go out as planned: their place under the
daily limit (the cap), whether they may wait for a later day, and their latest sensible send time.

**Priority under the daily limit** (``PRIORITY``, first wins). A contact gets at most
``OUTBOX_DAILY_CAP`` automated messages a local day (``cap.py``). What cannot move comes first: a
greeting belongs to its day. Then what answers the customer (a thank-you, a follow-up on what they
bought, "you asked, we did"), then what asks something of them (a survey, its reminder), and last the
check-in, which is only a nudge. A message that loses waits for the next free day, as long as its
grace allows; a greeting cannot wait and is suppressed, with the reason, in the Outbox.

**Merged, not capped**: post-purchase follow-ups due the same day for the same contact become one
message listing every purchase (``MERGEABLE``; the scan does it, ``scans.py``).

**Never capped**: meeting notes (a person sends them) and messages to the team (the managers'
digest), which have no contact.

**Latest sensible send time** (``expires_at``): a birthday, anniversary or key-date greeting goes
out on its local day or not at all; the others may go out up to their grace in days after they were
due (``DEFAULT_GRACE_DAYS``, overridden per installation with ``OUTBOX_GRACE_DAYS``). Past it a
message is expired with the reason, whether the scheduler was down, the mail server was, or
``run_daily_jobs --date`` was run for a day long gone. Meeting notes have no such limit.
"""

import datetime
import math
import zoneinfo

from django.conf import settings

PRIORITY = [
    "birthday",
    "anniversary",
    "key_date",
    "thank_you",
    "post_purchase",
    "suggestion_done",
    "survey",
    "survey_reminder",
    "checkin",
]
# On their local day, or never.
DATED = {"birthday", "anniversary", "key_date"}
DEFAULT_GRACE_DAYS = {
    "thank_you": 2,
    "post_purchase": 3,
    "suggestion_done": 3,
    "survey": 2,
    "survey_reminder": 1,
    "checkin": 3,
    "manager_digest": 1,
}
UNCAPPED = {"meeting_notes", "manager_digest"}
MERGEABLE = {"post_purchase"}


def grace_days(program):
    """Days a message of ``program`` may go out after it was due; None when it has no limit."""
    return {**DEFAULT_GRACE_DAYS, **settings.OUTBOX_GRACE_DAYS}.get(program)


def lookback_days(program):
    """
    Whole days back a scan looks for occasions it missed (the scheduler was down): those whose
    grace has not run out by the day's send time, so fewer than the grace.
    """
    return max(0, math.ceil(grace_days(program) or 0) - 1)


def expires_at(program, due, tz="UTC"):
    """
    The latest sensible send time of a message of ``program`` due at ``due`` for someone in time
    zone ``tz``: the end of that local day for a greeting, ``due`` plus the grace for the others,
    None for a message that may always go out (meeting notes).
    """
    if program in DATED:
        zone = zoneinfo.ZoneInfo(str(tz))
        day = due.astimezone(zone).date() + datetime.timedelta(days=1)
        return datetime.datetime.combine(day, datetime.time(), tzinfo=zone).astimezone(datetime.UTC)
    days = grace_days(program)
    if days is None:
        return None
    return due + datetime.timedelta(days=days)


def priority(program):
    """The place of ``program`` under the daily limit: lower goes first."""
    try:
        return PRIORITY.index(program)
    except ValueError:
        return len(PRIORITY)


def is_capped(*, program, automated, contact_id):
    """Whether a message counts against its contact's daily limit."""
    return bool(automated and contact_id is not None and program not in UNCAPPED)
