"""
Reading the ledger for the Outbox page: the filters, the daily counts per program, and finding a
message from what a recipient's copy shows (its X-Retention-Occasion or its Message-ID).

Every function takes the queryset the viewer may see (``OutboxMessage.objects.visible_to(user)``):
what another team's customers were sent is neither listed nor counted.
"""

import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import OutboxMessage, Program

Status = OutboxMessage.Status
# The columns of the daily counts, in the order shown.
DAILY_COLUMNS = [
    ("sent", "Sent"), ("merged", "Merged"), ("deferred", "Deferred"), ("expired", "Expired"),
    ("suppressed", "Suppressed"), ("failed", "Failed"), ("waiting", "Waiting"),
]
COUNTED = [name for name, _ in DAILY_COLUMNS]
# What became of the messages due on a day, by status.
DUE_COUNTS = {
    "sent": [Status.SENT], "merged": [Status.MERGED], "expired": [Status.EXPIRED],
    "suppressed": [Status.SUPPRESSED], "failed": [Status.FAILED],
    "waiting": [Status.PENDING, Status.SENDING],
}
MAX_DAILY_DAYS = 31
DEFAULT_DAILY_DAYS = 7


def _midnight(day):
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


def outbox_filter(messages, *, program="", status="", reason="", date_from=None, date_to=None, ref=""):
    """Narrow a queryset of messages; dates are days of ``send_after`` in the installation's zone."""
    if program:
        messages = messages.filter(program=program)
    if status:
        messages = messages.filter(status=status)
    if reason:
        messages = messages.filter(reason=reason)
    if date_from:
        messages = messages.filter(send_after__gte=_midnight(date_from))
    if date_to:
        messages = messages.filter(send_after__lt=_midnight(date_to + datetime.timedelta(days=1)))
    if ref:
        messages = messages.filter(_reference_q(ref))
    return messages


def _reference_q(ref):
    """What a recipient's copy shows: the occasion header's value, the Message-ID, or the raw key."""
    ref = ref.strip()
    message_id = ref if ref.startswith("<") else f"<{ref}>"
    return Q(occasion_ref=ref.lower()) | Q(message_id=message_id) | Q(occasion_key=ref)


def daily_range(date_from=None, date_to=None, today=None):
    """The days the daily counts cover: the filter's, at most a month, or the last week."""
    today = today or timezone.localdate()
    if date_to:
        end = date_to
    elif date_from:
        end = min(max(today, date_from), date_from + datetime.timedelta(days=MAX_DAILY_DAYS - 1))
    else:
        end = today
    start = date_from or end - datetime.timedelta(days=DEFAULT_DAILY_DAYS - 1)
    start = max(start, end - datetime.timedelta(days=MAX_DAILY_DAYS - 1))
    return start, end


def outbox_daily_counts(messages, *, start, end, program=""):
    """
    ``[{"day", "program", "label", "sent", "merged", "deferred", …}]``, latest day first: per day
    (the installation's) and program, what became of the messages due that day (sent, merged into
    another, expired, suppressed, failed, still waiting), and how many the daily limit moved away
    from that day (``deferred``; they count again on the day they went). Two grouped queries over
    indexed ranges.
    """
    if program:
        messages = messages.filter(program=program)
    since, until = _midnight(start), _midnight(end + datetime.timedelta(days=1))
    zone = timezone.get_current_timezone()
    counts = {}

    def row(day, key):
        if (day, key) not in counts:
            counts[day, key] = {"day": day, "program": key, **dict.fromkeys(COUNTED, 0)}
        return counts[day, key]

    due = (
        messages.filter(send_after__gte=since, send_after__lt=until).order_by()
        .annotate(day=TruncDate("send_after", tzinfo=zone)).values("day", "program")
        .annotate(**{name: Count("pk", filter=Q(status__in=statuses))
                     for name, statuses in DUE_COUNTS.items()})
    )
    for values in due:
        target = row(values["day"], values["program"])
        for name in DUE_COUNTS:
            target[name] += values[name]
    deferred = (
        messages.filter(deferred_from__gte=since, deferred_from__lt=until).order_by()
        .annotate(day=TruncDate("deferred_from", tzinfo=zone)).values("day", "program")
        .annotate(n=Count("pk"))
    )
    for values in deferred:
        row(values["day"], values["program"])["deferred"] += values["n"]
    labels = dict(Program.Key.choices)
    rows = sorted(counts.values(), key=lambda r: (-r["day"].toordinal(), labels.get(r["program"], "")))
    for item in rows:
        item["label"] = labels.get(item["program"], item["program"])
        item["cells"] = [item[name] for name, _ in DAILY_COLUMNS]
    return rows
