"""
``manage.py seed_demo [--password P]``: a believable book of business to try Retention with.

Nine demo users (``admin``, ``manager1``, ``manager2``, ``am1`` … ``am6``) in three teams, 300
customers with contacts, 18 months of touchpoints, purchases, an NPS survey, and the check-in
follow-ups the real daily scan opens for the customers that are due.

The data is built with the factory-boy factories the tests use (``.build()``, then
``bulk_create``: a few thousand rows in a handful of queries), from a fixed random seed, so every
run produces the same customers. Dates are relative to today, so Today and the dashboard always
have something to show: about a quarter of the book is overdue for a check-in and a few contacts
have a birthday this week.

Idempotent: when the demo customers already exist (found by their ``DEMO-`` external ids) a run
only resets the demo users' passwords and prints the logins; it never adds a second copy.
"""

import datetime
import random
import zoneinfo
from decimal import Decimal

import factory.random
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from customers.models import Contact, Customer, KeyDate, Purchase
from customers.services import tags_get_or_create
from customers.tests.factories import (
    ContactFactory,
    CustomerFactory,
    KeyDateFactory,
    PurchaseFactory,
    TeamFactory,
)
from surveys.models import Invitation, Response
from surveys.services import invitation_create, response_record
from surveys.tests.factories import SurveyFactory
from touchpoints.models import FollowUp, Promise, Touchpoint
from touchpoints.services import (
    checkin_due_batches,
    checkin_followups_create,
    complaint_acknowledge,
    complaint_close,
    complaint_open,
    complaint_resolve,
    promise_close,
    promise_create,
)
from touchpoints.tests.factories import FollowUpFactory, TouchpointFactory

DEFAULT_PASSWORD = "retention-demo"
SEED = 20240917
EXTERNAL_ID_PREFIX = "DEMO-"
CUSTOMER_COUNT = 300
HISTORY_DAYS = 548  # 18 months of touchpoints
PURCHASE_HISTORY_DAYS = 3 * 365

# username, first name, last name, role
DEMO_USERS = [
    ("admin", "Alex", "Admin", "admin"),
    ("manager1", "Maria", "Lopez", "manager"),
    ("manager2", "Martin", "Okafor", "manager"),
    ("am1", "Anna", "Berg", "account manager"),
    ("am2", "Ben", "Carter", "account manager"),
    ("am3", "Chloe", "Dubois", "account manager"),
    ("am4", "David", "Evans", "account manager"),
    ("am5", "Emma", "Fischer", "account manager"),
    ("am6", "Farid", "Ghani", "account manager"),
]
# team name: (members, managers, share of the customers)
DEMO_TEAMS = {
    "North": (["am1", "am2"], ["manager1"], 0.36),
    "South": (["am3", "am4"], ["manager1"], 0.34),
    "West": (["am5", "am6"], ["manager2"], 0.30),
}

STATUSES = [
    (Customer.Status.ACTIVE, 0.72),
    (Customer.Status.INACTIVE, 0.10),
    (Customer.Status.PROSPECT, 0.08),
    (Customer.Status.CHURNED, 0.10),
]
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
PURCHASE_RANGES = {  # euros, by customer size
    "enterprise": (5_000, 60_000), "mid-market": (1_000, 15_000), "smb": (100, 3_000)}
SUMMARIES = {
    Touchpoint.Kind.CALL: [
        "Monthly check-in call", "Followed up on the open support ticket",
        "Discussed renewal terms", "Checked how the rollout is going",
        "Answered an invoice question", "Talked through the usage report",
        "Introduced the new support process", "Asked about plans for next quarter",
    ],
    Touchpoint.Kind.MEETING: [
        "Quarterly business review", "Onboarding workshop", "Roadmap presentation",
        "Renewal negotiation", "Executive sponsor meeting", "Training session for new staff",
    ],
    Touchpoint.Kind.EMAIL: [
        "Sent the usage report", "Shared a case study", "Answered a feature question",
        "Sent the renewal quote", "Followed up after the meeting", "Sent release notes",
    ],
    Touchpoint.Kind.VISIT: [
        "On-site visit", "Visited their new office", "Lunch with the team",
        "Walked through the installation on site",
    ],
    Touchpoint.Kind.NOTE: [
        "Budget freeze expected next quarter", "Champion may be changing roles",
        "Asked about pricing for extra seats", "A competitor approached them",
        "Prefers email over phone calls", "Renewal decision sits with the CFO",
    ],
}
KIND_WEIGHTS = [
    (Touchpoint.Kind.CALL, 0.40), (Touchpoint.Kind.EMAIL, 0.25),
    (Touchpoint.Kind.MEETING, 0.13), (Touchpoint.Kind.VISIT, 0.05),
    (Touchpoint.Kind.NOTE, 0.17),
]
PROMISES = ["Send the revised quote", "Arrange a demo of the new reporting module",
            "Check the invoice discrepancy with finance", "Share the onboarding checklist",
            "Introduce the support lead", "Send the case study they asked for",
            "Confirm the delivery date with logistics"]
COMPLAINTS = ["Invoice sent to the wrong address", "Delivery arrived two days late",
              "Support did not call back as promised", "Login problems after the update",
              "Report export shows wrong totals"]
TASKS = ["Send the renewal quote", "Book the quarterly review", "Chase the signed order form",
         "Share the onboarding checklist", "Ask for a reference call", "Confirm training dates"]
SURVEY_COMMENTS = {
    Response.Category.PROMOTER: ["Great support, always quick to help.",
                                 "The account team really knows our business.", ""],
    Response.Category.PASSIVE: ["Good product, but the reporting could be better.",
                                "Fine overall; onboarding took longer than expected.", ""],
    Response.Category.DETRACTOR: ["Two invoices were wrong this quarter.",
                                  "Support took a week to answer our last ticket.",
                                  "Too expensive for what we use."],
}


class Command(BaseCommand):
    help = "Create the demo users and data (idempotent), and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"password of every demo user (default: {DEFAULT_PASSWORD})")

    def handle(self, *, password, **options):
        if not password:
            raise CommandError("The password must not be empty.")
        with transaction.atomic():
            users = demo_users_ensure(password=password)
            teams = demo_teams_ensure(users=users)
            if Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).exists():
                self.stdout.write("Demo data already present; passwords reset.")
            else:
                counts = DemoData(users=users, teams=teams).create()
                self.stdout.write(self.style.SUCCESS(
                    "Demo data created: " + ", ".join(f"{n} {what}" for what, n in counts.items())
                ))
        self._print_logins(teams, password)

    def _print_logins(self, teams, password):
        roles = {"admin": "admin (superuser)"}
        managed = {}
        for name in teams:
            for username in DEMO_TEAMS[name][1]:
                managed.setdefault(username, []).append(name)
            for username in DEMO_TEAMS[name][0]:
                roles[username] = f"account manager: {name}"
        roles.update((username, "manager: " + ", ".join(names))
                     for username, names in managed.items())
        rows = [("username", "role", "password")]
        rows += [(username, roles[username], password) for username, *_ in DEMO_USERS]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write(f"\nLog in at {settings.SITE_URL}/accounts/login/\n")
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  " + "  ".join(cells).rstrip())


def demo_users_ensure(*, password):
    """The demo users by username, created or reset (names, roles, password) on every run."""
    # One hash for all nine: they share a published password anyway, and hashing is the slow part.
    encoded = make_password(password)
    users = {}
    for username, first_name, last_name, role in DEMO_USERS:
        users[username], _ = get_user_model().objects.update_or_create(
            username=username,
            defaults={
                "first_name": first_name, "last_name": last_name,
                "email": f"{username}@example.com", "password": encoded, "is_active": True,
                "is_staff": role == "admin", "is_superuser": role == "admin",
            },
        )
    return users


def demo_teams_ensure(*, users):
    return {
        name: TeamFactory(name=name, members=[users[u] for u in members],
                          managers=[users[u] for u in managers])
        for name, (members, managers, _share) in DEMO_TEAMS.items()
    }


def _slug(text):
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


def _pick(weighted):
    values, weights = zip(*weighted, strict=True)
    return random.choices(values, weights)[0]


class DemoData:
    """Builds the demo book in memory, then writes it with a few bulk inserts."""

    def __init__(self, *, users, teams):
        self.users = users
        self.teams = teams
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.members = {name: [users[u] for u in DEMO_TEAMS[name][0]] for name in teams}
        # Faker instances share the generator that factory.random.reseed_random() seeds.
        self.fake = Faker()

    def create(self):
        # Every choice below draws from the module's generator, and the factories' Faker
        # fields from factory-boy's: seeding both makes the book the same on every run.
        random.seed(SEED)
        factory.random.reseed_random(SEED)
        tags = {tag.name: tag for tag in tags_get_or_create(TAGS)}

        customers = self._customers()
        Customer.objects.bulk_create(customers)
        self._referrals(customers)
        Customer.tags.through.objects.bulk_create(
            Customer.tags.through(customer_id=c.pk, tag_id=tags[name].pk)
            for c in customers for name in c.demo_tags
        )
        contacts = [contact for c in customers for contact in c.demo_contacts]
        Contact.objects.bulk_create(contacts)
        touchpoints = [t for c in customers for t in c.demo_touchpoints]
        Touchpoint.objects.bulk_create(touchpoints)
        Touchpoint.contacts.through.objects.bulk_create(
            Touchpoint.contacts.through(touchpoint_id=t.pk, contact_id=contact.pk)
            for t in touchpoints for contact in t.demo_contacts
        )
        purchases = [p for c in customers for p in c.demo_purchases]
        Purchase.objects.bulk_create(purchases)
        key_dates = [
            KeyDateFactory.build(customer=c, name="Founding day")
            for c in random.sample(customers, 30)
        ]
        KeyDate.objects.bulk_create(key_dates)

        follow_ups = len(FollowUp.objects.bulk_create(self._tasks(customers)))
        # The same scan the scheduler runs, so Today shows what it would show in production.
        for local_date, ids in checkin_due_batches():
            follow_ups += checkin_followups_create(customer_ids=ids, on_date=local_date)
        invitations = self._survey(customers)
        promises = self._promises(customers)
        complaints = self._complaints(customers)
        self._meeting_notes()

        return {
            "users": len(self.users), "teams": len(self.teams), "customers": len(customers),
            "contacts": len(contacts), "touchpoints": len(touchpoints),
            "purchases": len(purchases), "follow-ups": follow_ups,
            "survey invitations": invitations, "promises": promises, "complaints": complaints,
        }

    # Customers -------------------------------------------------------------------------------

    def _customers(self):
        customers = []
        team_weights = [(name, share) for name, (_m, _g, share) in DEMO_TEAMS.items()]
        for number in range(1, CUSTOMER_COUNT + 1):
            team_name = _pick(team_weights)
            status = _pick(STATUSES)
            cadence = _pick(CADENCES)
            customer = CustomerFactory.build(
                name=self.fake.unique.company(),
                team=self.teams[team_name],
                owner=random.choice(self.members[team_name]),
                status=status,
                timezone=_pick(TIMEZONE_WEIGHTS),
                cadence_days=cadence,
                cadence_max_days=cadence * 3 // 2,
                external_id=f"{EXTERNAL_ID_PREFIX}{number:04d}",
                source=random.choice(SOURCES),
                needs=self.fake.bs().capitalize() if random.random() < 0.5 else "",
                customer_since=None,
            )
            self._lifecycle(customer)
            size = _pick(SIZES)
            customer.demo_size = size
            customer.demo_tags = [size]
            if status == Customer.Status.ACTIVE and random.random() < 0.15:
                customer.demo_tags.append("renewal-due")
            if random.random() < (0.3 if size == "enterprise" else 0.04):
                customer.demo_tags.append("vip")
            if random.random() < 0.05:
                customer.demo_tags.append("partner")
            customer.demo_contacts = self._contacts(customer)
            customer.demo_touchpoints = self._touchpoints(customer)
            customer.demo_purchases = self._purchases(customer)
            self._denormalize(customer)
            customers.append(customer)
        self._upcoming_birthdays(customers)
        return customers

    def _lifecycle(self, customer):
        """customer_since, status change, churn date, and until when the customer was in touch."""
        if customer.status == Customer.Status.PROSPECT:
            customer.status_changed_at = self._local_datetime(
                customer, self.today - datetime.timedelta(days=random.randint(5, 120)))
            customer.demo_start = customer.status_changed_at.date()
            customer.demo_end = self.today
            return
        # Skewed towards recent customers: a growing business.
        min_age = {Customer.Status.CHURNED: 200, Customer.Status.INACTIVE: 60}.get(
            customer.status, 20)
        age = min_age + int((6 * 365 - min_age) * random.random() ** 1.3)
        customer.customer_since = self.today - datetime.timedelta(days=age)
        customer.status_changed_at = self._local_datetime(customer, customer.customer_since)
        customer.demo_start = max(customer.customer_since,
                                  self.today - datetime.timedelta(days=HISTORY_DAYS))
        customer.demo_end = self.today
        if customer.status == Customer.Status.CHURNED:
            churned_on = self.today - datetime.timedelta(
                days=random.randint(14, min(age - 120, HISTORY_DAYS - 60)))
            customer.churn_reason = random.choice(CHURN_REASONS)
            customer.status_changed_at = self._local_datetime(customer, churned_on)
            customer.demo_end = churned_on
        elif customer.status == Customer.Status.INACTIVE:
            customer.status_changed_at = self._local_datetime(
                customer, self.today - datetime.timedelta(days=random.randint(30, min(age, 400))))

    def _local_datetime(self, customer, date, hour=None):
        """A moment in office hours on ``date`` in the customer's time zone, never in the future."""
        hour = random.randint(8, 17) if hour is None else hour
        moment = datetime.datetime.combine(
            date, datetime.time(hour, random.randrange(0, 60, 5)),
            tzinfo=zoneinfo.ZoneInfo(customer.timezone),
        )
        return min(moment, self.now - datetime.timedelta(minutes=random.randint(5, 90)))

    def _contacts(self, customer):
        domain = f"{_slug(customer.name)[:30]}.example.com"
        contacts = []
        for index in range(random.choices([1, 2, 3, 4], [0.35, 0.35, 0.2, 0.1])[0]):
            first, last = self.fake.first_name(), self.fake.last_name()
            contact = ContactFactory.build(
                customer=customer, name=f"{first} {last}", role=random.choice(CONTACT_ROLES),
                email=f"{_slug(first)}.{_slug(last)}@{domain}", is_primary=index == 0,
                last_verified_on=(self.today - datetime.timedelta(days=random.randint(0, 700))
                                  if random.random() < 0.7 else None),
                unsubscribed_at=(self.now - datetime.timedelta(days=random.randint(10, 400))
                                 if random.random() < 0.04 else None),
            )
            if random.random() < 0.75:
                born = self.fake.date_of_birth(minimum_age=25, maximum_age=65)
                contact.birthday_month, contact.birthday_day = born.month, born.day
                # Some people tell their birthday but not their age.
                contact.birthday_year = born.year if random.random() < 0.8 else None
            contacts.append(contact)
        return contacts

    def _upcoming_birthdays(self, customers):
        """Two or three birthdays this week for each account manager, so Today shows some."""
        in_program = [c for c in customers
                      if c.status in (Customer.Status.ACTIVE, Customer.Status.INACTIVE)]
        for members in self.members.values():
            for owner in members:
                owned = [c for c in in_program if c.owner == owner]
                for customer in random.sample(owned, min(3, len(owned))):
                    contact = random.choice(customer.demo_contacts)
                    day = self.today + datetime.timedelta(days=random.randint(0, 6))
                    contact.birthday_month, contact.birthday_day = day.month, day.day
                    year = random.randint(1960, 1998)
                    if (day.month, day.day) == (2, 29):
                        year -= year % 4  # a leap year
                    contact.birthday_year = year if random.random() < 0.8 else None

    # Touchpoints and purchases ---------------------------------------------------------------

    def _touchpoints(self, customer):
        start, end = customer.demo_start, customer.demo_end
        if customer.status == Customer.Status.PROSPECT:
            count = random.randint(2, 6)
        else:
            # Skewed: most customers near 10, a few (the big ones) up to 25.
            count = 10 + int(15 * random.random() ** (1.2 if customer.demo_size == "enterprise"
                                                      else 2.5))
        if customer.status in (Customer.Status.ACTIVE, Customer.Status.INACTIVE):
            end = self._last_contact_date(customer)
        count = max(2, min(count, (end - start).days // 5 + 2))

        touchpoints = [self._touchpoint(customer, end, kind=random.choice(
            [Touchpoint.Kind.CALL, Touchpoint.Kind.MEETING, Touchpoint.Kind.EMAIL]))]
        span = max((end - start).days, 0)
        for _ in range(count - 1):
            date = start + datetime.timedelta(days=random.randint(0, span))
            touchpoints.append(self._touchpoint(customer, date, kind=_pick(KIND_WEIGHTS)))
        return touchpoints

    def _last_contact_date(self, customer):
        """The last contact, chosen so that the customer is in a given check-in state today."""
        local_today = self.now.astimezone(zoneinfo.ZoneInfo(customer.timezone)).date()
        state = _pick(CHECKIN_STATES)
        cadence, maximum = customer.cadence_days, customer.cadence_max_days
        days_ago = {
            "ok": lambda: random.randint(0, cadence - 1),
            "due": lambda: random.randint(cadence, maximum - 1),
            "overdue": lambda: random.randint(maximum, maximum + 90),
        }[state]()
        return max(local_today - datetime.timedelta(days=days_ago), customer.demo_start)

    def _touchpoint(self, customer, date, *, kind):
        at_risk = customer.status in (Customer.Status.CHURNED, Customer.Status.INACTIVE)
        fields = {"direction": Touchpoint.Direction.OUTBOUND, "outcome": "", "mood": "",
                  "duration_minutes": None}
        if kind in (Touchpoint.Kind.CALL, Touchpoint.Kind.EMAIL) and random.random() < 0.2:
            fields["direction"] = Touchpoint.Direction.INBOUND
        if kind == Touchpoint.Kind.CALL:
            fields["outcome"] = random.choices(
                [Touchpoint.Outcome.REACHED, Touchpoint.Outcome.LEFT_MESSAGE,
                 Touchpoint.Outcome.NO_ANSWER], [0.65, 0.22, 0.13])[0]
            if fields["outcome"] == Touchpoint.Outcome.REACHED:
                fields["duration_minutes"] = random.randint(5, 45)
        elif kind == Touchpoint.Kind.MEETING:
            fields["duration_minutes"] = random.choice([30, 45, 60, 90])
        elif kind == Touchpoint.Kind.VISIT:
            fields["duration_minutes"] = random.choice([60, 90, 120, 180])
        if kind != Touchpoint.Kind.NOTE and (
            kind != Touchpoint.Kind.CALL or fields["outcome"] == Touchpoint.Outcome.REACHED
        ):
            fields["mood"] = random.choices(
                [Touchpoint.Mood.POSITIVE, Touchpoint.Mood.NEUTRAL, Touchpoint.Mood.NEGATIVE],
                [0.3, 0.4, 0.3] if at_risk else [0.55, 0.35, 0.10])[0]
        build = {"notes": ""} if kind in (Touchpoint.Kind.CALL, Touchpoint.Kind.EMAIL) else {}
        touchpoint = TouchpointFactory.build(
            customer=customer, author=customer.owner, kind=kind,
            happened_at=self._local_datetime(customer, date),
            summary=random.choice(SUMMARIES[kind]), **build, **fields,
        )
        people = customer.demo_contacts
        touchpoint.demo_contacts = (
            [] if kind == Touchpoint.Kind.NOTE
            else random.sample(people, random.randint(1, min(2, len(people))))
        )
        return touchpoint

    def _purchases(self, customer):
        chance = {Customer.Status.ACTIVE: 0.92, Customer.Status.INACTIVE: 0.7,
                  Customer.Status.CHURNED: 0.8, Customer.Status.PROSPECT: 0}[customer.status]
        if random.random() >= chance:
            return []
        start = max(customer.customer_since,
                    self.today - datetime.timedelta(days=PURCHASE_HISTORY_DAYS))
        end = customer.demo_end
        if customer.status == Customer.Status.INACTIVE:
            end = customer.status_changed_at.date()
        span = max((end - start).days, 0)
        low, high = PURCHASE_RANGES[customer.demo_size]
        count = {"enterprise": (4, 14), "mid-market": (3, 9), "smb": (1, 6)}[customer.demo_size]
        return [
            PurchaseFactory.build(
                customer=customer, created_by=customer.owner,
                date=start + datetime.timedelta(days=random.randint(0, span)),
                amount=Decimal(random.randrange(low * 100, high * 100)) / 100,
                description=random.choice(PRODUCTS),
            )
            for _ in range(random.randint(*count))
        ]

    def _denormalize(self, customer):
        """The fields the services keep up to date, from the rows built for the customer."""
        contacts = [t.happened_at for t in customer.demo_touchpoints
                    if t.kind in Touchpoint.CONTACT_KINDS]
        customer.last_contacted_at = max(contacts, default=None)
        customer.next_checkin_due = customer.compute_next_checkin_due()
        year_ago = self.today - datetime.timedelta(days=365)
        customer.lifetime_value = sum((p.amount for p in customer.demo_purchases), Decimal("0"))
        customer.value_last_12_months = sum(
            (p.amount for p in customer.demo_purchases if p.date > year_ago), Decimal("0"))

    def _referrals(self, customers):
        """Some customers came through another, longer-standing one."""
        referred = []
        by_age = sorted((c for c in customers if c.customer_since), key=lambda c: c.customer_since)
        for index, customer in enumerate(by_age[10:], start=10):
            if random.random() < 0.12:
                customer.referred_by = random.choice(by_age[:index - 5])
                customer.source = "Referral"
                referred.append(customer)
        Customer.objects.bulk_update(referred, ["referred_by", "source"])

    # Follow-ups and the survey ---------------------------------------------------------------

    def _tasks(self, customers):
        """A few open tasks per account manager, some already late."""
        tasks = []
        for members in self.members.values():
            for owner in members:
                owned = [c for c in customers if c.owner == owner
                         and c.status == Customer.Status.ACTIVE]
                for customer in random.sample(owned, min(3, len(owned))):
                    tasks.append(FollowUpFactory.build(
                        customer=customer, assignee=owner, kind=FollowUp.Kind.TASK,
                        title=f"{random.choice(TASKS)} ({customer.name})",
                        due_on=self.today + datetime.timedelta(days=random.randint(-4, 6)),
                    ))
        return tasks

    def _survey(self, customers):
        """
        NPS invitations over the past year, most answered, and a few still open.

        Invitations and answers go through the services; their dates are then moved back so the
        NPS trend has a history.
        """
        survey = SurveyFactory(name="NPS")
        candidates = [
            c for c in customers
            if c.status in (Customer.Status.ACTIVE, Customer.Status.INACTIVE)
            and c.demo_contacts[0].unsubscribed_at is None
        ]
        chosen = random.sample(candidates, min(90, len(candidates)))
        invitations, responses = [], []
        for index, customer in enumerate(chosen):
            invitation = invitation_create(survey=survey, customer=customer,
                                           contact=customer.demo_contacts[0])
            if index < 5:  # still open: sent in the last fortnight
                sent = self.now - datetime.timedelta(days=random.randint(1, 14))
            else:
                sent = self.now - datetime.timedelta(days=random.randint(20, 360))
            if index >= 5 and random.random() < 0.8:
                at_risk = customer.status == Customer.Status.INACTIVE
                score = random.choices(range(11), [1, 1, 1, 2, 2, 3, 4, 8, 10, 10, 8] if at_risk
                                       else [0, 0, 1, 1, 1, 2, 3, 7, 12, 14, 12])[0]
                category = Response.categorize(survey.kind, score)
                response = response_record(
                    invitation=invitation, score=score,
                    comment=random.choice(SURVEY_COMMENTS[category]))
                response.created_at = invitation.answered_at = (
                    sent + datetime.timedelta(hours=random.randint(1, 96)))
                responses.append(response)
            invitation.created_at = sent
            invitation.expires_at = sent + datetime.timedelta(days=survey.valid_days)
            invitations.append(invitation)
        Invitation.objects.bulk_update(invitations, ["created_at", "expires_at", "answered_at"])
        Response.objects.bulk_update(responses, ["created_at"])
        return len(invitations)


    # Promises, complaints and meeting notes --------------------------------------------------

    def _owned_active(self, customers, owner):
        return [c for c in customers if c.owner == owner and c.status == Customer.Status.ACTIVE]

    def _promises(self, customers):
        """
        Per account manager a record of promises over the last quarter, mostly kept, and a few
        open ones: some due this week, one overdue. Made and closed through the services.
        """
        count = 0
        for members in self.members.values():
            for owner in members:
                owned = self._owned_active(customers, owner)
                for customer in random.sample(owned, min(8, len(owned))):
                    made = self.today - datetime.timedelta(days=random.randint(10, 80))
                    due = made + datetime.timedelta(days=random.randint(3, 14))
                    promise = promise_create(
                        customer=customer, user=owner, description=random.choice(PROMISES),
                        due_on=due, contact=customer.demo_contacts[0],
                    )
                    Promise.objects.filter(pk=promise.pk).update(
                        created_at=self._local_datetime(customer, made, hour=11))
                    promise.refresh_from_db()
                    outcome = random.choices(["kept", "exceeded", "late", "broken"],
                                             [70, 10, 12, 8])[0]
                    kept_on = {"kept": due, "exceeded": due - datetime.timedelta(days=2),
                               "late": due + datetime.timedelta(days=3), "broken": None}[outcome]
                    # The service decides "late" by the date it was kept.
                    status = "kept" if outcome == "late" else outcome
                    promise_close(promise=promise, user=owner, status=status,
                                  kept_on=min(kept_on, self.today) if kept_on else None)
                    count += 1
                for offset in (-2, 1, 3, 6)[:len(owned)]:
                    customer = random.choice(owned)
                    promise = promise_create(
                        customer=customer, user=owner, description=random.choice(PROMISES),
                        due_on=self.today + datetime.timedelta(days=offset),
                        contact=customer.demo_contacts[0],
                    )
                    made = self.today - datetime.timedelta(days=random.randint(7, 12))
                    Promise.objects.filter(pk=promise.pk).update(
                        created_at=self._local_datetime(customer, made, hour=11))
                    count += 1
        return count

    def _complaints(self, customers):
        """Per account manager one complaint closed last month and one or two still open."""
        count = 0
        for members in self.members.values():
            for owner in members:
                owned = self._owned_active(customers, owner)
                if len(owned) < 3:
                    continue
                old, *current = random.sample(owned, 3)
                complaint = complaint_open(
                    customer=old, user=owner, summary=random.choice(COMPLAINTS),
                    severity="medium", contact=old.demo_contacts[0],
                    opened_at=self.now - datetime.timedelta(days=random.randint(20, 40)),
                )
                complaint_acknowledge(complaint=complaint, user=owner)
                complaint_resolve(complaint=complaint, user=owner,
                                  resolution_notes="Fixed and explained; the customer is happy.")
                complaint_close(complaint=complaint, user=owner)
                for customer, severity, hours in zip(current, ["high", "low"], [6, 30], strict=True):
                    complaint_open(
                        customer=customer, user=owner, summary=random.choice(COMPLAINTS),
                        severity=severity, contact=customer.demo_contacts[0],
                        opened_at=self.now - datetime.timedelta(hours=hours),
                    )
                count += 3
        return count

    def _meeting_notes(self):
        """Notes went out after most meetings; a few recent ones are still waiting for them."""
        meetings = Touchpoint.objects.filter(
            kind=Touchpoint.Kind.MEETING, happened_at__lt=self.now - datetime.timedelta(days=3)
        )
        Touchpoint.objects.filter(pk__in=meetings.values("pk")).update(
            notes_sent_at=F("happened_at") + datetime.timedelta(hours=3)
        )
