"""
The shape of a believable book of business, which the demo and the bench books both draw from:
the shares of statuses, time zones, cadences and sizes, the words of summaries and products,
and the few rules of a customer's life (when they joined, churned or went quiet, when they were
last contacted, when in the day things happen).

Every function takes the random generator it draws from, so each book decides how it seeds
(the demo one generator for the whole book, the bench one per customer).
"""

import datetime
from dataclasses import dataclass

from customers.models import Customer
from touchpoints.models import Touchpoint

Status = Customer.Status
Kind = Touchpoint.Kind

HISTORY_DAYS = 548  # 18 months of touchpoints
PURCHASE_HISTORY_DAYS = 3 * 365

STATUSES = [(Status.ACTIVE, 0.72), (Status.INACTIVE, 0.10), (Status.PROSPECT, 0.08),
            (Status.CHURNED, 0.10)]
TIMEZONE_WEIGHTS = [
    ("Europe/London", 0.32), ("Europe/Berlin", 0.20), ("America/New_York", 0.20),
    ("America/Los_Angeles", 0.12), ("Asia/Tokyo", 0.06), ("Australia/Sydney", 0.06),
    ("Pacific/Auckland", 0.04),
]
CADENCES = [(30, 0.76), (14, 0.12), (60, 0.12)]
SIZES = [("enterprise", 0.2), ("mid-market", 0.35), ("smb", 0.45)]
TAGS = ["enterprise", "mid-market", "smb", "renewal-due", "vip", "partner"]
# Check-in state of a customer in the program: contacted within cadence, past it, or overdue.
CHECKIN_STATES = [("ok", 0.65), ("due", 0.10), ("overdue", 0.25)]
# Customers are skewed towards recent ones (a growing business), but not younger than this.
MIN_AGE_DAYS = {Status.CHURNED: 200, Status.INACTIVE: 60}
DEFAULT_MIN_AGE_DAYS = 20
# How likely a customer of each status bought anything, and how often by size.
PURCHASE_CHANCE = {Status.ACTIVE: 0.92, Status.INACTIVE: 0.7, Status.CHURNED: 0.8, Status.PROSPECT: 0}
PURCHASE_COUNTS = {"enterprise": (4, 14), "mid-market": (3, 9), "smb": (1, 6)}

CHURN_REASONS = [
    "Moved to a cheaper competitor after the price increase.",
    "Budget cut; the project was cancelled.",
    "Acquired by a company that uses another supplier.",
    "Unhappy with support response times on two escalations.",
    "Champion left the company and nobody picked it up.",
    "Went out of business.",
    "Needed an integration we do not offer.",
]
SOURCES = ["Website", "Trade show", "Outbound", "Partner", "Webinar"]
CONTACT_ROLES = ["CEO", "COO", "Head of Operations", "Procurement lead", "Finance director",
                 "IT manager", "Office manager", "Project lead", "Operations analyst"]
PRODUCTS = ["Annual subscription", "Additional seats", "Professional services",
            "Training package", "Support upgrade", "Hardware bundle", "Consulting day"]
SUMMARIES = {
    Kind.CALL: [
        "Monthly check-in call", "Followed up on the open support ticket",
        "Discussed renewal terms", "Checked how the rollout is going",
        "Answered an invoice question", "Talked through the usage report",
        "Introduced the new support process", "Asked about plans for next quarter",
    ],
    Kind.MEETING: [
        "Quarterly business review", "Onboarding workshop", "Roadmap presentation",
        "Renewal negotiation", "Executive sponsor meeting", "Training session for new staff",
    ],
    Kind.EMAIL: [
        "Sent the usage report", "Shared a case study", "Answered a feature question",
        "Sent the renewal quote", "Followed up after the meeting", "Sent release notes",
    ],
    Kind.VISIT: [
        "On-site visit", "Visited their new office", "Lunch with the team",
        "Walked through the installation on site",
    ],
    Kind.NOTE: [
        "Budget freeze expected next quarter", "Champion may be changing roles",
        "Asked about pricing for extra seats", "A competitor approached them",
        "Prefers email over phone calls", "Renewal decision sits with the CFO",
    ],
}
# Notes as account managers write them after a meeting, a visit or for themselves.
NOTES = {
    Kind.MEETING: [
        "Went through last quarter's usage: adoption is up in the Leeds office, flat in Bristol. "
        "They want a refresher session for the Bristol team before the summer.",
        "Renewal is likely but procurement wants a three-year price lock. I said I would check "
        "what we can offer and come back by the end of the month.",
        "New operations director joined in March and is reviewing all suppliers. Good first "
        "impression; she asked for a short summary of what we delivered last year.",
        "They are happy with the product but frustrated by the slow answers from support in "
        "January. Explained the new escalation path and gave them my direct number.",
        "Walked through the roadmap. The scheduling module is what they have been waiting for; "
        "they would pilot it with one team in the autumn.",
        "Budget for next year is being set in October. They will need the renewal quote and a "
        "one-page business case for the CFO before then.",
    ],
    Kind.VISIT: [
        "Visited the warehouse in Coventry. The scanners run our app on every shift now; the "
        "night shift asked for larger buttons on the pick screen.",
        "Lunch with the project lead and two users. They mentioned a competitor demo last month, "
        "but they are staying: the integration with their ERP matters most to them.",
        "Saw the new office. They have doubled the team since last year and will need more "
        "seats in the next quarter.",
        "On-site check of the installation: all terminals updated, one printer still on the old "
        "driver. Left instructions with the office manager.",
    ],
    Kind.NOTE: [
        "Finance approves anything above 10,000 only at the monthly board meeting, on the first "
        "Tuesday: send quotes a week before.",
        "Our champion is moving to the Munich office in June. Ask her to introduce her successor "
        "before she goes.",
        "They pay reliably but always thirty days late; do not chase before day 45.",
        "Prefers a call on Friday mornings; avoid month-end, when the team closes the books.",
        "Heard from their IT manager that a rival offered a 20% discount. No complaint so far, "
        "but worth a call before the renewal.",
    ],
}
# What the customer told us they need from us, in their words.
NEEDS = [
    "Fewer manual steps in month-end reporting",
    "Reliable delivery dates for their own customers",
    "One contact person who knows their setup",
    "Training for new staff every quarter",
    "Invoices that match their purchase orders",
    "An integration with their ERP",
    "Faster answers from support during the peak season",
]
TASKS = ["Send the renewal quote", "Book the quarterly review", "Chase the signed order form",
         "Share the onboarding checklist", "Ask for a reference call", "Confirm training dates"]


def pick(rng, weighted):
    """One value of ``[(value, weight), …]``."""
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def slug(text):
    """The ASCII letters and digits of ``text``, lower-cased: for made-up email addresses."""
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def office_moment(rng, date, tz, *, now, hour=None):
    """
    A time in office hours on ``date`` in the time zone ``tz``, never in the future. In UTC:
    adding hours to a local time adds wall-clock hours, one too many or too few across a change
    to or from summer time (a complaint's deadlines are counted in real hours).
    """
    hour = rng.randint(8, 17) if hour is None else hour
    moment = datetime.datetime.combine(date, datetime.time(hour, rng.randrange(0, 60, 5)), tzinfo=tz)
    return min(moment, now - datetime.timedelta(minutes=rng.randint(5, 90))).astimezone(datetime.UTC)


@dataclass
class Lifecycle:
    """A customer's dates: ``start``…``end`` is the span their touchpoints fall in."""

    customer_since: datetime.date | None
    status_changed_on: datetime.date
    start: datetime.date
    end: datetime.date
    churn_reason: str = ""


def lifecycle(rng, *, status, today, min_age=None):
    """When the customer joined, changed status (churned, went quiet) and was in touch."""
    if status == Status.PROSPECT:
        changed = today - datetime.timedelta(days=rng.randint(5, 120))
        return Lifecycle(customer_since=None, status_changed_on=changed, start=changed, end=today)
    min_age = min_age or MIN_AGE_DAYS.get(status, DEFAULT_MIN_AGE_DAYS)
    age = min_age + int((6 * 365 - min_age) * rng.random() ** 1.3)
    since = today - datetime.timedelta(days=age)
    life = Lifecycle(customer_since=since, status_changed_on=since,
                     start=max(since, today - datetime.timedelta(days=HISTORY_DAYS)), end=today)
    if status == Status.CHURNED:
        churned = today - datetime.timedelta(days=rng.randint(14, min(age - 120, HISTORY_DAYS - 60)))
        life.churn_reason = rng.choice(CHURN_REASONS)
        life.status_changed_on = life.end = churned
    elif status == Status.INACTIVE:
        life.status_changed_on = today - datetime.timedelta(days=rng.randint(30, min(age, 400)))
    return life


def last_contact_on(rng, *, cadence, maximum, today, start):
    """The last contact, chosen so that the customer is in a drawn check-in state today."""
    days_ago = {
        "ok": lambda: rng.randint(0, cadence - 1),
        "due": lambda: rng.randint(cadence, maximum - 1),
        "overdue": lambda: rng.randint(maximum, maximum + 90),
    }[pick(rng, CHECKIN_STATES)]()
    return max(today - datetime.timedelta(days=days_ago), start)


def customer_tags(rng, *, status, size):
    tags = [size]
    if status == Status.ACTIVE and rng.random() < 0.15:
        tags.append("renewal-due")
    if rng.random() < (0.3 if size == "enterprise" else 0.04):
        tags.append("vip")
    if rng.random() < 0.05:
        tags.append("partner")
    return tags


def contact_upkeep(rng, *, today, now):
    """When the contact's details were last verified, and whether (when) they unsubscribed."""
    return {
        "last_verified_on": (today - datetime.timedelta(days=rng.randint(0, 700))
                             if rng.random() < 0.7 else None),
        "unsubscribed_at": (now - datetime.timedelta(days=rng.randint(10, 400))
                            if rng.random() < 0.04 else None),
    }


def birthday(rng):
    """(month, day, year or None) for three contacts in four; some tell the day but not the age."""
    if rng.random() >= 0.75:
        return None
    born = datetime.date(1958, 1, 1) + datetime.timedelta(days=rng.randint(0, 40 * 365))
    return born.month, born.day, born.year if rng.random() < 0.8 else None


def touchpoint_traits(rng, kind, *, at_risk=False):
    """Direction, outcome, duration and mood of a touchpoint of ``kind``."""
    traits = {"direction": Touchpoint.Direction.OUTBOUND, "outcome": "", "mood": "",
              "duration_minutes": None}
    if kind in (Kind.CALL, Kind.EMAIL) and rng.random() < 0.2:
        traits["direction"] = Touchpoint.Direction.INBOUND
    if kind == Kind.CALL:
        traits["outcome"] = rng.choices(
            [Touchpoint.Outcome.REACHED, Touchpoint.Outcome.LEFT_MESSAGE, Touchpoint.Outcome.NO_ANSWER],
            [0.65, 0.22, 0.13])[0]
        if traits["outcome"] == Touchpoint.Outcome.REACHED:
            traits["duration_minutes"] = rng.randint(5, 45)
    elif kind == Kind.MEETING:
        traits["duration_minutes"] = rng.choice([30, 45, 60, 90])
    elif kind == Kind.VISIT:
        traits["duration_minutes"] = rng.choice([60, 90, 120, 180])
    # Nobody's mood shows in a note, an automated message or a call that did not get through.
    if kind not in (Kind.NOTE, Kind.SYSTEM) and traits["outcome"] in ("", Touchpoint.Outcome.REACHED):
        traits["mood"] = rng.choices(
            [Touchpoint.Mood.POSITIVE, Touchpoint.Mood.NEUTRAL, Touchpoint.Mood.NEGATIVE],
            [0.3, 0.4, 0.3] if at_risk else [0.55, 0.35, 0.10])[0]
    return traits
