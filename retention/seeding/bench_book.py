"""
The benchmark book: the rows of a batch of ``BENCH-`` customers, as dicts for the bulk writers.

For each customer, skewed like a real book: ≈3 contacts (birthdays, some without a year), ≈20
touchpoints (a long tail: customer ``BENCH-0000001``, in North and owned by am1, and one in every
20,000 more have 3,000–6,000, for the timeline benchmark), a few purchases (values skewed by
company size), tags, referrals, statuses, time zones and cadences with about a quarter of the
program overdue, and promises and complaints, a few still open. am1 … am6 hold 60 % of the
customers, the ``bench-am-NNN`` account managers the rest.

Every customer ``BENCH-n`` comes from its own random generator seeded by (seed, n), so a run is
reproducible (dates are relative to the day of the run) and a top-up adds the same customers a
single larger run would have made. The denormalised fields are left at their zero values here;
``derived.denormalise`` fills them from the rows once they are written.
"""

import datetime
import math
import random
import secrets
import zoneinfo
from decimal import Decimal

from django.utils import timezone

from customers.checkin import default_cadence_max
from customers.models import Contact, Customer, KeyDate, Purchase
from touchpoints.models import Complaint, FollowUp, Promise, Touchpoint
from touchpoints.services import complaint_target_hours

from .book import (
    CADENCES,
    CONTACT_ROLES,
    PRODUCTS,
    PURCHASE_CHANCE,
    PURCHASE_COUNTS,
    PURCHASE_HISTORY_DAYS,
    SIZES,
    SOURCES,
    STATUSES,
    SUMMARIES,
    TASKS,
    TIMEZONE_WEIGHTS,
    birthday,
    contact_upkeep,
    customer_tags,
    last_contact_on,
    lifecycle,
    office_moment,
    slug,
    touchpoint_traits,
)
from .people import DEMO_TEAMS

EXTERNAL_ID_PREFIX = "BENCH-"
DEMO_AM_SHARE = 0.6  # of a team's customers, owned by its two demo account managers
WHALE_EVERY = 20_000  # BENCH-1, BENCH-20001, …: the customers with thousands of touchpoints

KINDS = Touchpoint.Kind
# The ordinary mix of touchpoints, and the one of a key account (many automated messages).
KIND_WEIGHTS = [(KINDS.CALL, 0.34), (KINDS.EMAIL, 0.26), (KINDS.MEETING, 0.10),
                (KINDS.VISIT, 0.04), (KINDS.NOTE, 0.14), (KINDS.CARD, 0.02), (KINDS.SYSTEM, 0.10)]
WHALE_KIND_WEIGHTS = [(KINDS.CALL, 0.15), (KINDS.EMAIL, 0.35), (KINDS.MEETING, 0.08),
                      (KINDS.VISIT, 0.02), (KINDS.NOTE, 0.10), (KINDS.SYSTEM, 0.30)]
SUMMARY_CHOICES = {
    **SUMMARIES,
    KINDS.CARD: ["Sent a birthday card", "Sent a thank-you gift", "Sent a season's greetings card"],
    KINDS.SYSTEM: ["Check-in email sent", "Thank-you note sent", "Purchase follow-up sent",
                   "Survey invitation sent"],
}
MEETING_NOTES = [
    "Agreed next steps and owners; they want a proposal by the end of the month.",
    "Walked through the roadmap; concerns about the reporting module.",
    "Reviewed usage: adoption is good in sales, weak in operations.",
]
PROMISES = ["Send the revised quote", "Share the training schedule", "Fix the invoice address",
            "Call back with the delivery date", "Introduce the new support lead",
            "Send the usage report", "Confirm the renewal discount"]
COMPLAINTS = ["Invoice sent twice", "Delivery arrived late", "Support ticket unanswered for a week",
              "Wrong item shipped", "Login problems after the update", "Price higher than quoted"]
INDUSTRIES = ["Logistics", "Dental", "Bakery", "Engineering", "Consulting", "Software", "Print",
              "Foods", "Motors", "Energy", "Pharma", "Textiles", "Marine", "Analytics", "Architects",
              "Studios", "Farms", "Hotels", "Clinic", "Builders", "Optics", "Robotics", "Media",
              "Insurance", "Furniture", "Brewery", "Travel", "Security", "Recycling", "Telecom"]
COMPANY_SUFFIXES = ["Ltd", "GmbH", "Inc", "LLC", "Group", "& Co", "Partners", "Holdings", "AG", "BV",
                    "SARL", "plc"]
CONTACT_COUNTS = ([1, 2, 3, 4, 5, 6], [0.15, 0.25, 0.25, 0.17, 0.10, 0.08])  # ≈3 a customer
PURCHASE_MEDIANS = {"enterprise": 9_000, "mid-market": 2_500, "smb": 400}  # euros, log-normal
FIRST_NAMES = ["Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
               "Kaito", "Lena", "Mateo", "Nora", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tara",
               "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Dana",
               "Elif", "Felix", "Greta", "Hana", "Ivan", "Julia", "Karim", "Lucia", "Marek", "Nadia",
               "Olga", "Pablo", "Rania", "Stefan", "Tomas", "Ulla", "Viktor", "Wanda", "Yara", "Zane"]
LAST_NAMES = ["Berg", "Carter", "Dubois", "Evans", "Fischer", "Ghani", "Hansen", "Ito", "Jensen",
              "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi",
              "Schmidt", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zimmermann", "Andersen",
              "Bauer", "Costa", "Novak", "Eriksson", "Ferrari", "Garcia", "Horvath", "Ivanova",
              "Johansson", "Keller", "Larsen", "Meyer", "Nielsen", "Olsen", "Patel", "Richter",
              "Santos", "Thompson", "Ullman", "Vogel", "Walsh", "Young", "Zhang", "Moreau", "Kruger",
              "Lindqvist", "Brennan", "Castillo", "Dimitrov", "Esposito", "Fontaine", "Gallagher",
              "Hoffmann", "Iqbal", "Jovanovic", "Kaminski", "Lambert", "Mancini", "Nowak", "Oliveira",
              "Pereira", "Ramos", "Sorensen", "Takahashi", "Urbano", "Valentin", "Wagner", "Yamamoto"]

# The tables a batch fills, in an order in which every row's references are written first.
MODELS = [Customer, Customer.tags.through, Contact, Touchpoint, Touchpoint.contacts.through,
          Purchase, KeyDate, FollowUp, Promise, Complaint]
# The tables whose ids a batch allocates itself (the customers' are set aside for the whole run).
ALLOCATED = [Customer, Contact, Touchpoint]


def _cumulative(weighted):
    values, weights = zip(*weighted, strict=True)
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return list(values), cumulative


class BenchBook:
    """Generates the rows of a batch of customers, each customer from its own seeded generator."""

    def __init__(self, *, seed, users, teams, bench_ams, tags):
        self.seed = seed
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.tags = tags
        self.teams = [(name, teams[name].pk, share) for name, (_m, _g, share) in DEMO_TEAMS.items()]
        self.demo_ams = {name: [users[u].pk for u in members]
                         for name, (members, _g, _s) in DEMO_TEAMS.items()}
        self.bench_ams = bench_ams
        self.am1, self.north = users["am1"].pk, teams["North"].pk
        # Read once, not once a complaint: the targets cannot change during a run.
        self.complaint_hours = {severity: complaint_target_hours(severity)
                                for severity in Complaint.Severity.values}
        self.zones = {name: zoneinfo.ZoneInfo(name) for name, _ in TIMEZONE_WEIGHTS}
        self.local_today = {name: self.now.astimezone(tz).date() for name, tz in self.zones.items()}
        self.pick = {
            "status": _cumulative(STATUSES), "timezone": _cumulative(TIMEZONE_WEIGHTS),
            "cadence": _cumulative(CADENCES), "size": _cumulative(SIZES),
            "kind": _cumulative(KIND_WEIGHTS), "whale_kind": _cumulative(WHALE_KIND_WEIGHTS),
            "team": _cumulative([(index, share) for index, (_n, _pk, share) in enumerate(self.teams)]),
        }

    def choose(self, rng, what):
        values, cumulative = self.pick[what]
        return rng.choices(values, cum_weights=cumulative)[0]

    def batch(self, numbers, ids, first_customer_id):
        """
        {model: [row, …]} for the customers ``numbers``, whose ids follow ``first_customer_id``
        in the same order (so they do not depend on which batch was made first), with the ids of
        the other rows taken from ``ids``.
        """
        tables = {model: [] for model in MODELS}
        batch_ids = []
        for pk, number in enumerate(numbers, start=first_customer_id):
            rng = random.Random(self.seed * 1_000_003 + number)
            customer = self.customer(rng, number, pk, batch_ids)
            batch_ids.append(customer["id"])
            tables[Customer].append(customer)
            tables[Customer.tags.through] += [
                {"customer_id": customer["id"], "tag_id": self.tags[name]} for name in customer.pop("_tags")
            ]
            contacts = self.contacts(rng, customer, ids)
            tables[Contact] += contacts
            for touchpoint, contact_ids in self.touchpoints(rng, customer, contacts, ids):
                tables[Touchpoint].append(touchpoint)
                tables[Touchpoint.contacts.through] += [
                    {"touchpoint_id": touchpoint["id"], "contact_id": pk} for pk in contact_ids
                ]
            tables[Purchase] += self.purchases(rng, customer)
            tables[KeyDate] += self.key_dates(rng, customer)
            tables[FollowUp] += self.tasks(rng, customer)
            tables[Promise] += self.promises(rng, customer, contacts)
            tables[Complaint] += self.complaints(rng, customer, contacts)
            for key in [key for key in customer if key.startswith("_")]:
                del customer[key]
        return tables

    # Customers -------------------------------------------------------------------------------

    def customer(self, rng, number, pk, batch_ids):
        whale = (number - 1) % WHALE_EVERY == 0
        team_index = self.choose(rng, "team")
        status = self.choose(rng, "status")
        size = self.choose(rng, "size")
        tz = self.choose(rng, "timezone")
        cadence = self.choose(rng, "cadence")
        if whale:
            status, size = Customer.Status.ACTIVE, "enterprise"
        team_name, team_id, _share = self.teams[team_index]
        if number == 1:  # the key account: in am1's book, so every benchmark user can open it
            team_name, team_id, owner = "North", self.north, self.am1
        elif rng.random() < DEMO_AM_SHARE or not self.bench_ams[team_name]:
            owner = rng.choice(self.demo_ams[team_name])
        else:
            owner = rng.choice(self.bench_ams[team_name])

        last, industry, suffix = rng.choice(LAST_NAMES), rng.choice(INDUSTRIES), rng.choice(COMPANY_SUFFIXES)
        pattern = rng.random()
        if pattern < 0.5:
            name = f"{last} {industry} {suffix}"
        elif pattern < 0.75:
            name = f"{last} & {rng.choice(LAST_NAMES)} {suffix}"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {last} {industry}"

        customer = {
            "id": pk, "name": name, "status": status, "churn_reason": "",
            "owner_id": owner, "team_id": team_id, "timezone": tz,
            "cadence_days": cadence, "cadence_max_days": default_cadence_max(cadence),
            "allow_automated_checkins": rng.random() < 0.9,
            "needs": "", "interests": "", "referred_by_id": None,
            "source": rng.choice(SOURCES), "external_id": f"{EXTERNAL_ID_PREFIX}{number:07d}",
            "last_contacted_at": None, "next_checkin_due": None,
            "lifetime_value": Decimal("0"), "value_last_12_months": Decimal("0"),
            "version": 1, "created_at": self.now, "updated_at": self.now,
            "archived_at": None, "customer_since": None,
            "_size": size, "_whale": whale,
        }
        self.lifecycle(rng, customer)
        if batch_ids and customer["customer_since"] and rng.random() < 0.12:
            customer["referred_by_id"] = rng.choice(batch_ids)
            customer["source"] = "Referral"
        if rng.random() < 0.01:
            customer["archived_at"] = self.now - datetime.timedelta(days=rng.randint(1, 300))
        if rng.random() < 0.3:
            customer["needs"] = f"Wants better {rng.choice(INDUSTRIES).lower()} reporting"
        customer["_tags"] = customer_tags(rng, status=status, size=size)
        return customer

    def lifecycle(self, rng, customer):
        """customer_since, the status change, and the span the touchpoints fall in."""
        status, today = customer["status"], self.local_today[customer["timezone"]]
        # A key account has years of history.
        life = lifecycle(rng, status=status, today=today, min_age=2 * 365 if customer["_whale"] else None)
        customer["customer_since"] = life.customer_since
        customer["status_changed_at"] = self.moment(rng, customer, life.status_changed_on)
        customer["churn_reason"] = life.churn_reason
        customer["_start"], customer["_end"] = life.start, life.end
        if status in (Customer.Status.ACTIVE, Customer.Status.INACTIVE):
            customer["_end"] = last_contact_on(
                rng, cadence=customer["cadence_days"], maximum=customer["cadence_max_days"],
                today=today, start=life.start)

    def moment(self, rng, customer, date):
        return office_moment(rng, date, self.zones[customer["timezone"]], now=self.now)

    def contacts(self, rng, customer, ids):
        domain = f"{slug(customer['name'])[:24]}{customer['id'] % 997}.example.com"
        contacts = []
        for index in range(rng.choices(*CONTACT_COUNTS)[0]):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contact = {
                "id": ids.take(Contact), "customer_id": customer["id"], "name": f"{first} {last}",
                # The customer's book, which the triggers would look up row by row (customers/books.py).
                "team_id": customer["team_id"], "owner_id": customer["owner_id"],
                "role": rng.choice(CONTACT_ROLES), "email": f"{slug(first)}.{slug(last)}@{domain}",
                "phone": f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                "birthday_year": None, "birthday_month": None, "birthday_day": None,
                "is_primary": index == 0,
                **contact_upkeep(rng, today=self.today, now=self.now),
                "unsubscribe_token": secrets.token_urlsafe(24),
                "created_at": self.now, "updated_at": self.now,
            }
            if born := birthday(rng):
                contact["birthday_month"], contact["birthday_day"], contact["birthday_year"] = born
            contacts.append(contact)
        return contacts

    # Touchpoints, purchases, key dates, tasks ------------------------------------------------

    def touchpoint_count(self, rng, customer):
        if customer["_whale"]:
            return rng.randint(3_000, 6_000)
        if customer["status"] == Customer.Status.PROSPECT:
            return rng.randint(2, 6)
        if rng.random() < 0.01:  # the big accounts
            count = rng.randint(100, 800)
        else:
            count = int(rng.lognormvariate(2.75, 0.75))
        span = (customer["_end"] - customer["_start"]).days
        return max(2, min(count, span // 2 + 2))

    def touchpoints(self, rng, customer, contacts, ids):
        """(touchpoint row, [contact ids]): the last is a contact on the chosen date, the rest before."""
        start, end = customer["_start"], customer["_end"]
        span = max((end - start).days, 0)
        kinds = "whale_kind" if customer["_whale"] else "kind"
        owner, contact_ids = customer["owner_id"], [c["id"] for c in contacts]
        count = self.touchpoint_count(rng, customer)
        in_program = customer["status"] in (Customer.Status.ACTIVE, Customer.Status.INACTIVE)
        late_span = max((self.local_today[customer["timezone"]] - start).days, 0)
        for index in range(count):
            if index == 0:
                kind, date = rng.choice([KINDS.CALL, KINDS.MEETING, KINDS.EMAIL]), end
            else:
                kind = self.choose(rng, kinds)
                late = kind not in Touchpoint.CONTACT_KINDS and in_program
                # Notes and automated messages may come after the last contact.
                date = start + datetime.timedelta(days=rng.randint(0, late_span if late else span))
            happened = self.moment(rng, customer, date)
            row = {
                "id": ids.take(Touchpoint), "customer_id": customer["id"],
                "author_id": None if kind == KINDS.SYSTEM else owner, "kind": kind,
                "happened_at": happened, "summary": rng.choice(SUMMARY_CHOICES[kind]), "notes": "",
                "notes_sent_at": None, "notes_not_needed": False,
                "created_at": happened, "updated_at": happened,
                **touchpoint_traits(rng, kind),
            }
            if kind == KINDS.MEETING:
                row["notes"] = rng.choice(MEETING_NOTES)
                # Notes of older meetings went out (or were not needed); recent ones may wait.
                if self.now - happened > datetime.timedelta(days=2) or rng.random() < 0.5:
                    row["notes_sent_at"] = min(
                        happened + datetime.timedelta(hours=rng.randint(1, 20)), self.now)
            people = [] if kind == KINDS.NOTE else [
                contact_ids[0] if rng.random() < 0.6 else rng.choice(contact_ids)]
            yield row, people

    def purchases(self, rng, customer):
        if rng.random() >= PURCHASE_CHANCE[customer["status"]]:
            return []
        start = max(customer["customer_since"],
                    self.today - datetime.timedelta(days=PURCHASE_HISTORY_DAYS))
        end = customer["_end"] if customer["status"] == Customer.Status.CHURNED else self.today
        span = max((end - start).days, 0)
        size = customer["_size"]
        rows = []
        for _ in range(rng.randint(*PURCHASE_COUNTS[size])):
            amount = min(rng.lognormvariate(math.log(PURCHASE_MEDIANS[size]), 0.9), 5_000_000)
            date = start + datetime.timedelta(days=rng.randint(0, span))
            rows.append({
                "customer_id": customer["id"], "date": date,
                "amount": Decimal(max(1, round(amount * 100))) / 100,
                "description": rng.choice(PRODUCTS), "created_by_id": customer["owner_id"],
                "created_at": self.moment(rng, customer, date),
            })
        return rows

    def key_dates(self, rng, customer):
        if not customer["customer_since"] or rng.random() >= 0.03:
            return []
        founded = customer["customer_since"] - datetime.timedelta(days=rng.randint(365, 40 * 365))
        return [{"customer_id": customer["id"], "contact_id": None, "name": "Founding day",
                 "date": founded, "recurrence": KeyDate.Recurrence.YEARLY}]

    def tasks(self, rng, customer):
        """A few open tasks in every book, some already late (check-ins come from the scan)."""
        if customer["status"] != Customer.Status.ACTIVE or rng.random() >= 0.004:
            return []
        return [{
            "customer_id": customer["id"], "assignee_id": customer["owner_id"],
            "kind": FollowUp.Kind.TASK, "title": f"{rng.choice(TASKS)} ({customer['name']})",
            "due_on": self.today + datetime.timedelta(days=rng.randint(-4, 6)),
            "status": FollowUp.Status.OPEN, "created_at": self.now,
        }]

    # Promises and complaints -----------------------------------------------------------------

    def promises(self, rng, customer, contacts):
        """About one promise in two customers: most closed (kept, late, a few broken), some open."""
        if customer["status"] == Customer.Status.PROSPECT or rng.random() >= 0.4:
            return []
        rows = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            made = customer["_start"] + datetime.timedelta(
                days=rng.randint(0, max((customer["_end"] - customer["_start"]).days, 0)))
            due = made + datetime.timedelta(days=rng.randint(2, 21))
            row = {
                "customer_id": customer["id"], "contact_id": contacts[0]["id"], "touchpoint_id": None,
                "owner_id": customer["owner_id"], "team_id": customer["team_id"],
                "description": rng.choice(PROMISES),
                "due_on": due, "status": "open", "kept_on": None, "notes": "",
                "created_at": self.moment(rng, customer, made), "closed_at": None,
            }
            if due < self.today - datetime.timedelta(days=3) or rng.random() < 0.5:
                status = rng.choices(["kept", "late", "exceeded", "broken"], [0.7, 0.15, 0.08, 0.07])[0]
                kept = due + datetime.timedelta(days=rng.randint(1, 10) if status == "late"
                                                else -rng.randint(0, 2))
                row["status"] = status
                row["kept_on"] = None if status == "broken" else min(kept, self.today)
                row["closed_at"] = self.moment(rng, customer, min(max(kept, made), self.today))
            rows.append(row)
        return rows

    def complaints(self, rng, customer, contacts):
        """About one customer in twenty complained; a few complaints are still open."""
        if customer["status"] == Customer.Status.PROSPECT or rng.random() >= 0.05:
            return []
        rows = []
        for _ in range(rng.choice([1, 1, 2])):
            severity = rng.choices(["low", "medium", "high", "critical"], [0.35, 0.4, 0.2, 0.05])[0]
            respond, resolve = self.complaint_hours[severity]
            opened = self.moment(rng, customer, customer["_start"] + datetime.timedelta(
                days=rng.randint(0, max((self.today - customer["_start"]).days, 0))))
            row = {
                "customer_id": customer["id"], "contact_id": contacts[0]["id"],
                "summary": rng.choice(COMPLAINTS), "description": "", "severity": severity,
                "status": "new", "opened_at": opened,
                "first_response_due_at": opened + datetime.timedelta(hours=respond),
                "resolution_due_at": opened + datetime.timedelta(hours=resolve),
                "acknowledged_at": None, "resolved_at": None, "closed_at": None,
                "resolution_notes": "", "handled_by_id": None, "opened_by_id": customer["owner_id"],
                "team_id": customer["team_id"], "owner_id": customer["owner_id"],
            }
            age = self.now - opened
            if age > datetime.timedelta(days=10) or rng.random() < 0.3:
                row.update(status="closed", handled_by_id=customer["owner_id"],
                           acknowledged_at=opened + datetime.timedelta(hours=respond * rng.random()),
                           resolved_at=min(opened + datetime.timedelta(hours=resolve * rng.uniform(0.3, 1.5)),
                                           self.now),
                           resolution_notes="Apologised, fixed and credited.")
                row["closed_at"] = row["resolved_at"]
            elif rng.random() < 0.5:
                row.update(status="acknowledged", handled_by_id=customer["owner_id"],
                           acknowledged_at=min(opened + datetime.timedelta(hours=respond * rng.random()),
                                               self.now))
            rows.append(row)
        return rows
