"""
The demo book: 300 customers with contacts, 18 months of touchpoints, purchases, key dates,
tasks, NPS and CSAT campaigns with a year of answers and suggestions, promises, complaints,
and the check-in follow-ups the real daily scan opens for the customers that are due.

The rows are built in memory from one seeded generator (and Faker, seeded the same), so every run
produces the same customers, and written with a few bulk inserts; the fields the services keep up
to date are then computed by those services, set-based (``derived``). Promises, complaints and
survey answers go through the services themselves. Dates are relative to today, so Today and the
dashboard always have something to show: about a quarter of the book is overdue for a check-in
and each account manager has a few birthdays this week.
"""

import datetime
import random
import zoneinfo
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from faker import Faker

from customers.checkin import default_cadence_max
from customers.models import Contact, Customer, KeyDate, Purchase
from customers.services import tags_get_or_create
from touchpoints.checkins import checkins_open
from touchpoints.models import FollowUp, Promise, Touchpoint
from touchpoints.services import (
    complaint_acknowledge,
    complaint_close,
    complaint_open,
    complaint_resolve,
    promise_close,
    promise_create,
)

from . import book
from .derived import denormalise
from .health import health_seed
from .people import DEMO_TEAMS, demo_teams_ensure, demo_users_ensure
from .surveys import demo_surveys_ensure, demo_surveys_seed

SEED = 20240917
EXTERNAL_ID_PREFIX = "DEMO-"
CUSTOMER_COUNT = 300

KIND_WEIGHTS = [
    (Touchpoint.Kind.CALL, 0.40), (Touchpoint.Kind.EMAIL, 0.25),
    (Touchpoint.Kind.MEETING, 0.13), (Touchpoint.Kind.VISIT, 0.05),
    (Touchpoint.Kind.NOTE, 0.17),
]
CONTACT_COUNTS = ([1, 2, 3, 4], [0.35, 0.35, 0.2, 0.1])
PURCHASE_RANGES = {  # euros, by customer size
    "enterprise": (5_000, 60_000), "mid-market": (1_000, 15_000), "smb": (100, 3_000)}
PROMISES = ["Send the revised quote", "Arrange a demo of the new reporting module",
            "Check the invoice discrepancy with finance", "Share the onboarding checklist",
            "Introduce the support lead", "Send the case study they asked for",
            "Confirm the delivery date with logistics"]
# (summary, what happened in the customer's words, how it was put right)
COMPLAINTS = [
    ("Invoice sent to the wrong address",
     "Our March invoice went to the old office and we only found it with the payment reminder.",
     "Corrected the billing address, withdrew the reminder and confirmed the new address by email."),
    ("Delivery arrived two days late",
     "The replacement units arrived on Thursday instead of Tuesday; two of our engineers waited "
     "on site for nothing.",
     "Apologised, credited the delivery charge and booked the next delivery with a fixed time slot."),
    ("Support did not call back as promised",
     "We were promised a call back the same day about the sync problem and heard nothing for "
     "three days.",
     "Called the next morning, fixed the sync settings together and set up a named support contact."),
    ("Login problems after the update",
     "Since Monday's update half of our team cannot log in with single sign-on.",
     "The certificate had not been renewed on our side; renewed it and checked with their IT "
     "manager that everyone can log in."),
    ("Report export shows wrong totals",
     "The monthly export adds VAT twice, so our finance team had to redo the figures by hand.",
     "Fixed the export, sent corrected reports for the last two months and explained what went wrong."),
]
IN_PROGRAM = (Customer.Status.ACTIVE, Customer.Status.INACTIVE)


def demo_customers():
    return Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)


@transaction.atomic
def demo_seed(*, password):
    """
    The demo people (passwords reset on every run), surveys and, the first time only, the book.
    Returns the teams and the counts of what was created, or None when the book was there.
    """
    users = demo_users_ensure(password=password)
    teams = demo_teams_ensure(users=users)
    surveys = demo_surveys_ensure()
    if demo_customers().exists():
        return teams, None
    return teams, DemoBook(users=users, teams=teams, surveys=surveys).create()


class DemoBook:
    """Builds the demo book in memory, then writes it with a few bulk inserts."""

    def __init__(self, *, users, teams, surveys):
        self.users = users
        self.teams = teams
        self.surveys = surveys
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.members = {name: [users[u] for u in DEMO_TEAMS[name][0]] for name in teams}
        self.rng = random.Random(SEED)
        self.fake = Faker()
        self.fake.seed_instance(SEED)

    def create(self):
        tags = {tag.name: tag for tag in tags_get_or_create(book.TAGS)}

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
        KeyDate.objects.bulk_create(self._key_dates(customers))
        denormalise(customers=demo_customers(), today=self.today)

        follow_ups = len(FollowUp.objects.bulk_create(self._tasks(customers)))
        # The same scan the scheduler runs, so Today shows what it would show in production.
        follow_ups += checkins_open()
        invitations = self._survey(customers)
        promises = self._promises(customers)
        complaints = self._complaints(customers)
        self._meeting_notes()
        health_seed(customers=demo_customers(), seed=SEED)

        return {
            "users": len(self.users), "teams": len(self.teams), "customers": len(customers),
            "contacts": len(contacts), "touchpoints": len(touchpoints),
            "purchases": len(purchases), "follow-ups": follow_ups,
            "survey invitations": invitations, "promises": promises, "complaints": complaints,
        }

    def _pick(self, weighted):
        return book.pick(self.rng, weighted)

    def _moment(self, customer, date, hour=None):
        return book.office_moment(self.rng, date, zoneinfo.ZoneInfo(customer.timezone), now=self.now,
                             hour=hour)

    def _local_today(self, customer):
        return self.now.astimezone(zoneinfo.ZoneInfo(customer.timezone)).date()

    # Customers -------------------------------------------------------------------------------

    def _customers(self):
        rng = self.rng
        customers = []
        team_weights = [(name, share) for name, (_m, _g, share) in DEMO_TEAMS.items()]
        for number in range(1, CUSTOMER_COUNT + 1):
            team_name = self._pick(team_weights)
            status = self._pick(book.STATUSES)
            cadence = self._pick(book.CADENCES)
            customer = Customer(
                name=self.fake.unique.company(),
                team=self.teams[team_name],
                owner=rng.choice(self.members[team_name]),
                status=status,
                timezone=self._pick(book.TIMEZONE_WEIGHTS),
                cadence_days=cadence,
                cadence_max_days=default_cadence_max(cadence),
                external_id=f"{EXTERNAL_ID_PREFIX}{number:04d}",
                source=rng.choice(book.SOURCES),
                needs=self.fake.random_element(book.NEEDS) if rng.random() < 0.5 else "",
            )
            life = book.lifecycle(rng, status=status, today=self._local_today(customer))
            customer.customer_since = life.customer_since
            customer.status_changed_at = self._moment(customer, life.status_changed_on)
            customer.churn_reason = life.churn_reason
            customer.demo_start, customer.demo_end = life.start, life.end
            customer.demo_changed_on = life.status_changed_on
            customer.demo_size = self._pick(book.SIZES)
            customer.demo_tags = book.customer_tags(rng, status=status, size=customer.demo_size)
            customer.demo_contacts = self._contacts(customer)
            customer.demo_touchpoints = self._touchpoints(customer)
            customer.demo_purchases = self._purchases(customer)
            customers.append(customer)
        self._upcoming_birthdays(customers)
        return customers

    def _contacts(self, customer):
        domain = f"{book.slug(customer.name)[:30]}.example.com"
        contacts = []
        for index in range(self.rng.choices(*CONTACT_COUNTS)[0]):
            first, last = self.fake.first_name(), self.fake.last_name()
            contact = Contact(
                customer=customer, name=f"{first} {last}", role=self.rng.choice(book.CONTACT_ROLES),
                email=f"{book.slug(first)}.{book.slug(last)}@{domain}", phone=self.fake.phone_number(),
                is_primary=index == 0, **book.contact_upkeep(self.rng, today=self.today, now=self.now),
            )
            if born := book.birthday(self.rng):
                contact.birthday_month, contact.birthday_day, contact.birthday_year = born
            contacts.append(contact)
        return contacts

    def _upcoming_birthdays(self, customers):
        """Two or three birthdays this week for each account manager, so Today shows some."""
        rng = self.rng
        in_program = [c for c in customers if c.status in IN_PROGRAM]
        for members in self.members.values():
            for owner in members:
                owned = [c for c in in_program if c.owner == owner]
                for customer in rng.sample(owned, min(3, len(owned))):
                    contact = rng.choice(customer.demo_contacts)
                    day = self.today + datetime.timedelta(days=rng.randint(0, 6))
                    contact.birthday_month, contact.birthday_day = day.month, day.day
                    year = rng.randint(1960, 1998)
                    if (day.month, day.day) == (2, 29):
                        year -= year % 4  # a leap year
                    contact.birthday_year = year if rng.random() < 0.8 else None

    def _referrals(self, customers):
        """Some customers came through another, longer-standing one."""
        referred = []
        by_age = sorted((c for c in customers if c.customer_since), key=lambda c: c.customer_since)
        for index, customer in enumerate(by_age[10:], start=10):
            if self.rng.random() < 0.12:
                customer.referred_by = self.rng.choice(by_age[:index - 5])
                customer.source = "Referral"
                referred.append(customer)
        Customer.objects.bulk_update(referred, ["referred_by", "source"])

    def _key_dates(self, customers):
        return [
            KeyDate(customer=customer, name="Founding day",
                    date=self.today - datetime.timedelta(days=self.rng.randint(365, 20 * 365)))
            for customer in self.rng.sample(customers, 30)
        ]

    # Touchpoints and purchases ---------------------------------------------------------------

    def _touchpoints(self, customer):
        rng = self.rng
        start, end = customer.demo_start, customer.demo_end
        if customer.status == Customer.Status.PROSPECT:
            count = rng.randint(2, 6)
        else:
            # Skewed: most customers near 10, a few (the big ones) up to 25.
            count = 10 + int(15 * rng.random() ** (1.2 if customer.demo_size == "enterprise" else 2.5))
        if customer.status in IN_PROGRAM:
            end = book.last_contact_on(rng, cadence=customer.cadence_days, maximum=customer.cadence_max_days,
                                  today=self._local_today(customer), start=start)
        count = max(2, min(count, (end - start).days // 5 + 2))

        touchpoints = [self._touchpoint(customer, end, kind=rng.choice(
            [Touchpoint.Kind.CALL, Touchpoint.Kind.MEETING, Touchpoint.Kind.EMAIL]))]
        span = max((end - start).days, 0)
        for _ in range(count - 1):
            date = start + datetime.timedelta(days=rng.randint(0, span))
            touchpoints.append(self._touchpoint(customer, date, kind=self._pick(KIND_WEIGHTS)))
        return touchpoints

    def _touchpoint(self, customer, date, *, kind):
        at_risk = customer.status in (Customer.Status.CHURNED, Customer.Status.INACTIVE)
        notes = self.fake.random_element(book.NOTES[kind]) if kind in book.NOTES else ""
        touchpoint = Touchpoint(
            customer=customer, author=customer.owner, kind=kind,
            happened_at=self._moment(customer, date),
            summary=self.rng.choice(book.SUMMARIES[kind]), notes=notes,
            **book.touchpoint_traits(self.rng, kind, at_risk=at_risk),
        )
        people = customer.demo_contacts
        touchpoint.demo_contacts = (
            [] if kind == Touchpoint.Kind.NOTE
            else self.rng.sample(people, self.rng.randint(1, min(2, len(people))))
        )
        return touchpoint

    def _purchases(self, customer):
        rng = self.rng
        if rng.random() >= book.PURCHASE_CHANCE[customer.status]:
            return []
        start = max(customer.customer_since,
                    self.today - datetime.timedelta(days=book.PURCHASE_HISTORY_DAYS))
        end = customer.demo_end
        if customer.status == Customer.Status.INACTIVE:
            end = customer.demo_changed_on
        span = max((end - start).days, 0)
        low, high = PURCHASE_RANGES[customer.demo_size]
        return [
            Purchase(
                customer=customer, created_by=customer.owner,
                date=start + datetime.timedelta(days=rng.randint(0, span)),
                amount=Decimal(rng.randrange(low * 100, high * 100)) / 100,
                description=rng.choice(book.PRODUCTS),
            )
            for _ in range(rng.randint(*book.PURCHASE_COUNTS[customer.demo_size]))
        ]

    # Follow-ups and the survey ---------------------------------------------------------------

    def _owned_active(self, customers, owner):
        return [c for c in customers if c.owner == owner and c.status == Customer.Status.ACTIVE]

    def _account_managers(self):
        return [owner for members in self.members.values() for owner in members]

    def _tasks(self, customers):
        """A few open tasks per account manager, some already late."""
        rng = self.rng
        tasks = []
        for owner in self._account_managers():
            owned = self._owned_active(customers, owner)
            for customer in rng.sample(owned, min(3, len(owned))):
                tasks.append(FollowUp(
                    customer=customer, assignee=owner, kind=FollowUp.Kind.TASK,
                    title=f"{rng.choice(book.TASKS)} ({customer.name})",
                    due_on=self.today + datetime.timedelta(days=rng.randint(-4, 6)),
                ))
        return tasks

    def _survey(self, customers):
        """The surveys' campaigns, answers and suggestions (``surveys.py``), as a manager sends them."""
        return demo_surveys_seed(surveys=self.surveys, manager=self.users["manager1"], rng=self.rng,
                                 now=self.now)

    # Promises, complaints and meeting notes --------------------------------------------------

    def _promise_made(self, promise, customer, made):
        """Move a promise's creation back to ``made``, so the record has a history."""
        Promise.objects.filter(pk=promise.pk).update(created_at=self._moment(customer, made, hour=11))

    def _promises(self, customers):
        """
        Per account manager a record of promises over the last quarter, mostly kept, and a few
        open ones: some due this week, one overdue. Made and closed through the services.
        """
        rng = self.rng
        count = 0
        for owner in self._account_managers():
            owned = self._owned_active(customers, owner)
            for customer in rng.sample(owned, min(8, len(owned))):
                made = self.today - datetime.timedelta(days=rng.randint(10, 80))
                due = made + datetime.timedelta(days=rng.randint(3, 14))
                promise = promise_create(
                    customer=customer, user=owner, description=rng.choice(PROMISES),
                    due_on=due, contact=customer.demo_contacts[0],
                )
                self._promise_made(promise, customer, made)
                promise.refresh_from_db()
                outcome = rng.choices(["kept", "exceeded", "late", "broken"], [70, 10, 12, 8])[0]
                kept_on = {"kept": due, "exceeded": due - datetime.timedelta(days=2),
                           "late": due + datetime.timedelta(days=3), "broken": None}[outcome]
                # The service decides "late" by the date it was kept.
                status = "kept" if outcome == "late" else outcome
                promise_close(promise=promise, user=owner, status=status,
                              kept_on=min(kept_on, self.today) if kept_on else None)
                count += 1
            for offset in (-2, 1, 3, 6)[:len(owned)]:
                customer = rng.choice(owned)
                promise = promise_create(
                    customer=customer, user=owner, description=rng.choice(PROMISES),
                    due_on=self.today + datetime.timedelta(days=offset),
                    contact=customer.demo_contacts[0],
                )
                self._promise_made(promise, customer,
                                   self.today - datetime.timedelta(days=rng.randint(7, 12)))
                count += 1
        return count

    def _complaints(self, customers):
        """
        Per account manager one complaint put right last month (closed, or resolved and waiting
        to be closed on every other one) and one or two still open.
        """
        rng = self.rng
        count = 0
        for number, owner in enumerate(self._account_managers()):
            owned = self._owned_active(customers, owner)
            if len(owned) < 3:
                continue
            old, *current = rng.sample(owned, 3)
            summary, description, resolution = self.fake.random_element(COMPLAINTS)
            complaint = complaint_open(
                customer=old, user=owner, summary=summary, description=description,
                severity="medium", contact=old.demo_contacts[0],
                opened_at=self.now - datetime.timedelta(days=rng.randint(20, 40)),
            )
            complaint_acknowledge(complaint=complaint, user=owner)
            complaint_resolve(complaint=complaint, user=owner, resolution_notes=resolution)
            if number % 2 == 0:
                complaint_close(complaint=complaint, user=owner)
            for customer, severity, hours in zip(current, ["high", "low"], [6, 30], strict=True):
                summary, description, _resolution = self.fake.random_element(COMPLAINTS)
                complaint_open(
                    customer=customer, user=owner, summary=summary, description=description,
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
