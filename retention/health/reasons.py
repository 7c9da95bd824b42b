"""
A reason for a score in plain words, and the next action as a label and a link.

``factors`` stores reasons as facts (a code, numbers, ISO dates); this turns them into what a
person reads — "no contact for 47 days, cadence 30", "detractor 3/10 on 2 Oct: “support too
slow”", "promise “send revised quote” 5 days overdue", "purchases down 60 % on the previous 90
days" — on the customer page, the dashboard and the digest alike.
"""

import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format

SCALES = {"nps": 10, "csat": 5}


def _date(value, today=None):
    """'2 Oct', with the year when it is not this year's."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        parse = datetime.datetime.fromisoformat if "T" in value else datetime.date.fromisoformat
        value = parse(value)
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    today = today or timezone.localdate()
    return f"{value.day} {value:%b}" + (f" {value.year}" if value.year != today.year else "")


def _plural(count, word, plural=None):
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _money(cents):
    return f"{number_format(round(cents / 100), force_grouping=True)} {settings.CURRENCY}"


def reason_text(reason, today=None):
    """The words of one reason (a dict as ``factors`` makes it)."""
    code = reason.get("code")
    scale = SCALES.get(reason.get("kind"), 10)
    if code == "no_contact":
        return (f"no contact for {reason['days']} days, cadence {reason['cadence']} "
                f"(last on {_date(reason['since'], today)})")
    if code == "never_contacted":
        return (f"not contacted since becoming a customer {reason['days']} days ago, "
                f"cadence {reason['cadence']}")
    if code in ("detractor", "passive", "promoter"):
        label = {"detractor": "detractor", "passive": "passive", "promoter": "promoter"}[code]
        if reason.get("kind") == "csat":
            label = {"detractor": "dissatisfied", "passive": "neutral", "promoter": "satisfied"}[code]
        text = f"{label} {reason['score']}/{scale} on {_date(reason['on'], today)}"
        return text + (f": “{reason['comment']}”" if reason.get("comment") else "")
    if code == "survey_down":
        return (f"satisfaction down to {reason['score']}/{scale} from {reason['from']}/{scale} "
                f"on {_date(reason['since'], today)}")
    if code == "complaint_open":
        text = (f"{reason['severity']} complaint “{reason['summary']}” "
                f"open since {_date(reason['opened'], today)}")
        return text + (", past its target" if reason.get("breached") else "")
    if code == "complaints_resolved":
        return f"{_plural(reason['count'], 'complaint')} in the last year, now resolved"
    if code == "promise_overdue":
        return f"promise “{reason['description']}” {_plural(reason['days'], 'day')} overdue"
    if code == "promises_broken":
        return f"{_plural(reason['count'], 'promise')} broken in the last 180 days"
    if code == "promises_late":
        return f"{_plural(reason['count'], 'promise')} kept late in the last 180 days"
    if code == "purchases_down":
        if reason["percent"] >= 100:
            return (f"no purchases in the last 90 days, after {_money(reason['before'])} "
                    "in the 90 before")
        return f"purchases down {reason['percent']} % on the previous 90 days"
    if code == "purchase_overdue":
        return (f"no purchase for {reason['days']} days (last on {_date(reason['last'], today)}); "
                f"usually every {reason['gap']}")
    if code == "inbound":
        return f"reached out {_plural(reason['count'], 'time')} in the last 90 days"
    if code == "surveys_ignored":
        return f"{_plural(reason['count'], 'survey invitation')} ignored in the last year"
    if code == "all_unsubscribed":
        return "every contact has unsubscribed from email" + (
            f" (the last on {_date(reason['on'], today)})" if reason.get("on") else "")
    if code == "some_unsubscribed":
        return f"{reason['count']} of {reason['of']} contacts unsubscribed from email"
    return code or ""


def action_label(action):
    kind = (action or {}).get("kind")
    if kind == "resolve_complaint":
        verb = "Acknowledge and resolve" if action.get("status") == "new" else "Resolve"
        return f"{verb} the complaint “{action['summary']}”"
    if kind == "keep_promise":
        return f"Keep the promise “{action['description']}”"
    if kind == "log_call":
        return "Call them and log the call"
    return ""


def action_url(action, customer_id):
    """Where doing it starts: the form on the customer page, or the complaint's own page."""
    kind = (action or {}).get("kind")
    page = reverse("customer_detail", args=[customer_id])
    if kind == "resolve_complaint":
        if action.get("status") == "acknowledged":
            return reverse("touchpoints:complaint_resolve", args=[action["id"]])
        return page + "#customer-complaints"
    if kind == "keep_promise":
        return page + "#customer-promises"
    if kind == "log_call":
        return page + "#log-panel"
    return page
