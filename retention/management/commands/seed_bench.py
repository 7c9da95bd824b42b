"""
``manage.py seed_bench --customers N [--seed S]``: scale data for the benchmark (``bench/``).

The same nine demo users and three teams as ``seed_demo`` (password ``retention-demo``), plus
``bench-am-NNN`` account managers so the books look like a real sales floor: am1 … am6 hold 60 %
of the customers, the generated account managers the rest. For each customer, skewed like a real
book: ≈3 contacts (birthdays, some without a year), ≈20 touchpoints (a long tail: customer
``BENCH-0000001``, in North and owned by am1, and one in every 20,000 more have 3,000–6,000, for
the timeline benchmark), a few purchases (values skewed by company size), tags, referrals,
statuses, time zones and cadences with about a quarter of the program overdue, and (once the
touchpoints app has them) promises and complaints, a few still open. Then, set-based,
the denormalised fields (last contact, next check-in due, lifetime value, value over 12 months)
are computed from the rows, and the real check-in scan opens the follow-ups for the customers due.

How it stays fast and flat: rows are generated in batches of customers and streamed, never held
for the whole run. On PostgreSQL each batch goes in with ``COPY … FROM STDIN`` (explicit ids taken
from the table's sequence, so rows can point at each other within a batch) and one transaction;
on SQLite, meant for small N only (tests), the same rows go through ``bulk_create``. Afterwards
PostgreSQL gets ``VACUUM ANALYZE`` (SQLite ``ANALYZE``). Run it on a quiet database: ids are
allocated past the current maximum and the sequences moved on after each batch.

Every customer ``BENCH-n`` is generated from its own random generator seeded by (``--seed``, n),
so a run is reproducible (dates are relative to the day of the run), and a larger
``--customers`` later *tops up*: only the missing numbers are added, each the same customer a
single run of the larger size would have made (only who referred whom, chosen within a batch,
and the ids may differ). Asking for no more customers than exist adds nothing (it only resets the
users' passwords) and says so. To start again, drop the database.
"""

import datetime
import functools
import io
import math
import random
import resource
import secrets
import time
import zoneinfo
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Contact, Customer, KeyDate, Purchase, Tag, Team
from customers.services import tags_get_or_create
from touchpoints.models import FollowUp, Touchpoint
from touchpoints.services import checkin_due_batches, checkin_followups_create

from .seed_demo import (
    CADENCES,
    CHECKIN_STATES,
    CHURN_REASONS,
    CONTACT_ROLES,
    DEFAULT_PASSWORD,
    DEMO_TEAMS,
    HISTORY_DAYS,
    PRODUCTS,
    SIZES,
    SOURCES,
    STATUSES,
    SUMMARIES,
    TAGS,
    TASKS,
    TIMEZONE_WEIGHTS,
    demo_teams_ensure,
    demo_users_ensure,
)

EXTERNAL_ID_PREFIX = "BENCH-"
BENCH_USER_PREFIX = "bench-am-"
CUSTOMERS_PER_BENCH_AM = 2_500
DEMO_AM_SHARE = 0.6  # of a team's customers, owned by its two demo account managers
WHALE_EVERY = 20_000  # BENCH-1, BENCH-20001, …: the customers with thousands of touchpoints
BATCH_CUSTOMERS = 2_000
PURCHASE_HISTORY_DAYS = 3 * 365

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
# Used when the complaint targets are not in the database: (first response, resolution) hours.
COMPLAINT_HOURS = {"low": (72, 240), "medium": (24, 120), "high": (8, 48), "critical": (2, 24)}
INDUSTRIES = ["Logistics", "Dental", "Bakery", "Engineering", "Consulting", "Software", "Print",
              "Foods", "Motors", "Energy", "Pharma", "Textiles", "Marine", "Analytics", "Architects",
              "Studios", "Farms", "Hotels", "Clinic", "Builders", "Optics", "Robotics", "Media",
              "Insurance", "Furniture", "Brewery", "Travel", "Security", "Recycling", "Telecom"]
COMPANY_SUFFIXES = ["Ltd", "GmbH", "Inc", "LLC", "Group", "& Co", "Partners", "Holdings", "AG", "BV",
                    "SARL", "plc"]
CONTACT_COUNTS = ([1, 2, 3, 4, 5, 6], [0.15, 0.25, 0.25, 0.17, 0.10, 0.08])  # ≈3 a customer
PURCHASE_COUNTS = {"enterprise": (4, 14), "mid-market": (3, 9), "smb": (1, 6)}
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


def _cumulative(weighted):
    values, weights = zip(*weighted, strict=True)
    total, cumulative = 0.0, []
    for weight in weights:
        total += weight
        cumulative.append(total)
    return list(values), cumulative


def _slug(text):
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


class Command(BaseCommand):
    help = "Create (or top up to) N benchmark customers with the demo users, fast (COPY on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, required=True, help="how many BENCH- customers")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"password of every demo and bench user (default: {DEFAULT_PASSWORD})")
        parser.add_argument("--batch-size", type=int, default=BATCH_CUSTOMERS,
                            help=f"customers per batch and transaction (default {BATCH_CUSTOMERS})")

    def handle(self, *, customers, seed, password, batch_size, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not password:
            raise CommandError("The password must not be empty.")
        started = time.monotonic()

        with transaction.atomic():
            users = demo_users_ensure(password=password)
            teams = demo_teams_ensure(users=users)
            bench_ams = bench_users_ensure(teams=teams, count=_bench_am_count(customers),
                                           password=password)
            tags = {tag.name: tag.pk for tag in tags_get_or_create(TAGS)}
        have = bench_customer_count()
        if have >= customers:
            self.stdout.write(f"{have:,} bench customers already present (asked for {customers:,}); "
                              "nothing to add. Users and passwords are reset.")
            return
        if have:
            self.stdout.write(f"{have:,} bench customers present: topping up to {customers:,}.")
        self.stdout.write(f"Seeding customers {have + 1:,}…{customers:,} on {connection.vendor}, "
                          f"batches of {batch_size:,}, seed {seed}.")

        book = BenchBook(seed=seed, users=users, teams=teams, bench_ams=bench_ams, tags=tags)
        writer = CopyWriter() if connection.vendor == "postgresql" else BulkCreateWriter()
        ids = IdAllocator([Customer, Contact, Touchpoint])
        first_id = None
        for start in range(have + 1, customers + 1, batch_size):
            numbers = range(start, min(start + batch_size, customers + 1))
            with transaction.atomic():
                tables = book.batch(numbers, ids)
                first_id = first_id or tables[Customer][0]["id"]
                for model, rows in tables.items():
                    writer.write(model, rows)
                ids.sync_sequences()
            self._progress(numbers.stop - 1, customers, writer, started)
        last_id = ids.last_used(Customer)

        step = time.monotonic()
        denormalise(first_id=first_id, last_id=last_id, today=timezone.localdate())
        self.stdout.write(f"  denormalised fields: {time.monotonic() - step:.1f} s")

        # Statistics before the scan: planned on "empty" tables, its anti-join takes minutes.
        step = time.monotonic()
        analyze()
        sizes = compact_customers()
        compacted = f", customers {sizes[0] / 2**20:.1f} → {sizes[1] / 2**20:.1f} MB" if sizes else ""
        self.stdout.write(f"  vacuum/analyze: {time.monotonic() - step:.1f} s{compacted}")

        step = time.monotonic()
        opened = 0
        for local_date, customer_ids in checkin_due_batches():
            opened += checkin_followups_create(customer_ids=customer_ids, on_date=local_date)
        analyze([FollowUp])
        self.stdout.write(f"  check-in follow-ups opened by the scan: {opened:,} "
                          f"({time.monotonic() - step:.1f} s)")
        counts = ", ".join(f"{n:,} {model._meta.verbose_name_plural}"
                           for model, n in writer.counts.items())
        self.stdout.write(self.style.SUCCESS(
            f"Bench data: {counts}, in {time.monotonic() - started:.1f} s."))
        self.stdout.write(f"Demo users (admin, manager1, manager2, am1 … am6) and "
                          f"{sum(map(len, bench_ams.values()))} "
                          f"{BENCH_USER_PREFIX}* users; password: {password}")

    def _progress(self, done, total, writer, started):
        touchpoints = writer.counts.get(Touchpoint, 0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kB on Linux
        self.stdout.write(f"  {done:,}/{total:,} customers, {touchpoints:,} touchpoints, "
                          f"{time.monotonic() - started:.1f} s, peak RSS {peak} MB")


def bench_customer_count():
    """The highest BENCH- number present (the ids are zero-padded, so the order is numeric)."""
    last = (Customer.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX)
            .order_by("-external_id").values_list("external_id", flat=True).first())
    return int(last.removeprefix(EXTERNAL_ID_PREFIX)) if last else 0


def _bench_am_count(customers):
    return max(len(DEMO_TEAMS), math.ceil(customers / CUSTOMERS_PER_BENCH_AM))


def bench_users_ensure(*, teams, count, password):
    """``bench-am-001`` …, spread over the demo teams as members: {team name: [user ids]}."""
    User = get_user_model()
    names = list(teams)
    wanted = [f"{BENCH_USER_PREFIX}{n:03d}" for n in range(1, count + 1)]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    encoded = make_password(password)
    User.objects.bulk_create([
        User(username=username, first_name="Bench", last_name=f"AM {username[-3:]}",
             email=f"{username}@example.com", password=encoded)
        for username in wanted if username not in existing
    ])
    User.objects.filter(username__in=wanted).update(password=encoded, is_active=True)
    pks = dict(User.objects.filter(username__in=wanted).values_list("username", "pk"))
    by_team = {name: [] for name in names}
    memberships = []
    for index, username in enumerate(wanted):
        team = names[index % len(names)]
        by_team[team].append(pks[username])
        memberships.append(Team.members.through(team_id=teams[team].pk, user_id=pks[username]))
    Team.members.through.objects.bulk_create(memberships, ignore_conflicts=True)
    return by_team


class IdAllocator:
    """
    Explicit primary keys past the current maximum, so a batch's rows can refer to each other
    before they are written; the sequences are moved past them after each batch.
    """

    def __init__(self, models):
        self.next = {}
        for model in models:
            table = model._meta.db_table
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
                current = cursor.fetchone()[0]
                if connection.vendor == "postgresql":
                    cursor.execute(f"SELECT last_value FROM {self._sequence(table)}")
                    current = max(current, cursor.fetchone()[0])
            self.next[model] = current + 1

    def take(self, model):
        pk = self.next[model]
        self.next[model] = pk + 1
        return pk

    def last_used(self, model):
        return self.next[model] - 1

    def sync_sequences(self):
        if connection.vendor != "postgresql":
            return  # SQLite's AUTOINCREMENT follows the largest id inserted
        with connection.cursor() as cursor:
            for model, pk in self.next.items():
                if pk > 1:
                    cursor.execute("SELECT setval(%s, %s)",
                                   [self._sequence(model._meta.db_table), pk - 1])

    @staticmethod
    @functools.cache
    def _sequence(table):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            return cursor.fetchone()[0]


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
        # Promises and complaints arrived with the touchpoints issue; seed them when they exist.
        self.Promise = _optional_model("touchpoints", "Promise")
        self.Complaint = _optional_model("touchpoints", "Complaint")
        self.complaint_hours = dict(COMPLAINT_HOURS)
        Target = _optional_model("touchpoints", "ComplaintTarget")
        if Target is not None:
            self.complaint_hours.update(
                (severity, (respond, resolve)) for severity, respond, resolve
                in Target.objects.values_list("severity", "first_response_hours", "resolution_hours"))
        self.zones = {name: zoneinfo.ZoneInfo(name) for name, _ in TIMEZONE_WEIGHTS}
        self.local_today = {name: self.now.astimezone(tz).date() for name, tz in self.zones.items()}
        self.pick = {
            "status": _cumulative(STATUSES), "timezone": _cumulative(TIMEZONE_WEIGHTS),
            "cadence": _cumulative(CADENCES), "size": _cumulative(SIZES),
            "state": _cumulative(CHECKIN_STATES), "kind": _cumulative(KIND_WEIGHTS),
            "whale_kind": _cumulative(WHALE_KIND_WEIGHTS),
            "team": _cumulative([(index, share) for index, (_n, _pk, share) in enumerate(self.teams)]),
        }

    def choose(self, rng, what):
        values, cumulative = self.pick[what]
        return rng.choices(values, cum_weights=cumulative)[0]

    def batch(self, numbers, ids):
        models = [Customer, Customer.tags.through, Contact, Touchpoint, Touchpoint.contacts.through,
                  Purchase, KeyDate, FollowUp, self.Promise, self.Complaint]
        tables = {model: [] for model in models if model is not None}
        batch_ids = []
        for number in numbers:
            rng = random.Random(self.seed * 1_000_003 + number)
            customer = self.customer(rng, number, ids.take(Customer), batch_ids)
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
            if self.Promise is not None:
                tables[self.Promise] += self.promises(rng, customer, contacts)
            if self.Complaint is not None:
                tables[self.Complaint] += self.complaints(rng, customer, contacts)
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
            "cadence_days": cadence, "cadence_max_days": cadence * 3 // 2,
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
        tags = [size]
        if status == Customer.Status.ACTIVE and rng.random() < 0.15:
            tags.append("renewal-due")
        if rng.random() < (0.3 if size == "enterprise" else 0.04):
            tags.append("vip")
        if rng.random() < 0.05:
            tags.append("partner")
        customer["_tags"] = tags
        return customer

    def lifecycle(self, rng, customer):
        """customer_since, the status change, and the span the touchpoints fall in (as seed_demo)."""
        status, today = customer["status"], self.local_today[customer["timezone"]]
        if status == Customer.Status.PROSPECT:
            changed = today - datetime.timedelta(days=rng.randint(5, 120))
            customer["status_changed_at"] = self.moment(rng, customer, changed)
            customer["_start"], customer["_end"] = changed, today
            return
        min_age = {Customer.Status.CHURNED: 200, Customer.Status.INACTIVE: 60}.get(status, 20)
        if customer["_whale"]:
            min_age = 2 * 365  # a key account with years of history
        age = min_age + int((6 * 365 - min_age) * rng.random() ** 1.3)
        since = today - datetime.timedelta(days=age)
        customer["customer_since"] = since
        customer["status_changed_at"] = self.moment(rng, customer, since)
        customer["_start"] = max(since, today - datetime.timedelta(days=HISTORY_DAYS))
        customer["_end"] = today
        if status == Customer.Status.CHURNED:
            churned = today - datetime.timedelta(days=rng.randint(14, min(age - 120, HISTORY_DAYS - 60)))
            customer["churn_reason"] = rng.choice(CHURN_REASONS)
            customer["status_changed_at"] = self.moment(rng, customer, churned)
            customer["_end"] = churned
        elif status == Customer.Status.INACTIVE:
            changed = today - datetime.timedelta(days=rng.randint(30, min(age, 400)))
            customer["status_changed_at"] = self.moment(rng, customer, changed)
        if status in (Customer.Status.ACTIVE, Customer.Status.INACTIVE):
            # The last contact, so that the customer is in a chosen check-in state today.
            cadence, maximum = customer["cadence_days"], customer["cadence_max_days"]
            days_ago = {
                "ok": lambda: rng.randint(0, cadence - 1),
                "due": lambda: rng.randint(cadence, maximum - 1),
                "overdue": lambda: rng.randint(maximum, maximum + 90),
            }[self.choose(rng, "state")]()
            customer["_end"] = max(today - datetime.timedelta(days=days_ago), customer["_start"])

    def moment(self, rng, customer, date):
        """A time in office hours on ``date`` in the customer's time zone, never in the future."""
        moment = datetime.datetime.combine(
            date, datetime.time(rng.randint(8, 17), rng.randrange(0, 60, 5)),
            tzinfo=self.zones[customer["timezone"]])
        return min(moment, self.now - datetime.timedelta(minutes=rng.randint(5, 90)))

    def contacts(self, rng, customer, ids):
        domain = f"{_slug(customer['name'])[:24]}{customer['id'] % 997}.example.com"
        contacts = []
        for index in range(rng.choices(*CONTACT_COUNTS)[0]):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contact = {
                "id": ids.take(Contact), "customer_id": customer["id"], "name": f"{first} {last}",
                "role": rng.choice(CONTACT_ROLES), "email": f"{_slug(first)}.{_slug(last)}@{domain}",
                "phone": f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                "birthday_year": None, "birthday_month": None, "birthday_day": None,
                "is_primary": index == 0,
                "last_verified_on": (self.today - datetime.timedelta(days=rng.randint(0, 700))
                                     if rng.random() < 0.7 else None),
                "unsubscribed_at": (self.now - datetime.timedelta(days=rng.randint(10, 400))
                                    if rng.random() < 0.04 else None),
                "unsubscribe_token": secrets.token_urlsafe(24),
                "created_at": self.now, "updated_at": self.now,
            }
            if rng.random() < 0.75:
                born = datetime.date(1958, 1, 1) + datetime.timedelta(days=rng.randint(0, 40 * 365))
                contact["birthday_month"], contact["birthday_day"] = born.month, born.day
                # Some people tell their birthday but not their age.
                contact["birthday_year"] = born.year if rng.random() < 0.8 else None
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
                "direction": "inbound" if kind in (KINDS.CALL, KINDS.EMAIL) and rng.random() < 0.2
                else "outbound",
                "happened_at": happened, "duration_minutes": None, "outcome": "", "mood": "",
                "summary": rng.choice(SUMMARY_CHOICES[kind]), "notes": "",
                "notes_sent_at": None, "notes_not_needed": False,
                "created_at": happened, "updated_at": happened,
            }
            if kind == KINDS.CALL:
                row["outcome"] = rng.choices(["reached", "left_message", "no_answer"], [0.65, 0.22, 0.13])[0]
                if row["outcome"] == "reached":
                    row["duration_minutes"] = rng.randint(5, 45)
            elif kind == KINDS.MEETING:
                row["duration_minutes"] = rng.choice([30, 45, 60, 90])
                row["notes"] = rng.choice(MEETING_NOTES)
                # Notes of older meetings went out (or were not needed); recent ones may wait.
                if self.now - happened > datetime.timedelta(days=2) or rng.random() < 0.5:
                    row["notes_sent_at"] = happened + datetime.timedelta(hours=rng.randint(1, 20))
            elif kind == KINDS.VISIT:
                row["duration_minutes"] = rng.choice([60, 90, 120, 180])
            if kind not in (KINDS.NOTE, KINDS.SYSTEM) and row["outcome"] in ("", "reached"):
                row["mood"] = rng.choices(["positive", "neutral", "negative"], [0.55, 0.35, 0.10])[0]
            if row["notes_sent_at"] and row["notes_sent_at"] > self.now:
                row["notes_sent_at"] = self.now
            people = [] if kind == KINDS.NOTE else [
                contact_ids[0] if rng.random() < 0.6 else rng.choice(contact_ids)]
            yield row, people

    def purchases(self, rng, customer):
        chance = {Customer.Status.ACTIVE: 0.92, Customer.Status.INACTIVE: 0.7,
                  Customer.Status.CHURNED: 0.8, Customer.Status.PROSPECT: 0}[customer["status"]]
        if rng.random() >= chance:
            return []
        start = max(customer["customer_since"], self.today - datetime.timedelta(days=PURCHASE_HISTORY_DAYS))
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
                "owner_id": customer["owner_id"], "description": rng.choice(PROMISES),
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


def _optional_model(app_label, name):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


# Writing -------------------------------------------------------------------------------------


class _Writer:
    """Turns row dicts into a model's columns: keys it does not know are dropped, gaps filled."""

    def __init__(self):
        self.counts = {}
        self._columns = {}

    def columns(self, model, row):
        key = (model, tuple(row))
        if key not in self._columns:
            now = timezone.now()
            columns = []
            for field in model._meta.concrete_fields:
                name = field.attname
                if name in row:
                    columns.append((name, None))
                elif field.primary_key:
                    continue
                elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    columns.append((name, lambda now=now: now))
                elif field.has_default() and callable(field.default):
                    columns.append((name, field.default))  # a fresh value a row (tokens)
                else:
                    columns.append((name, _constant(field.get_default())))
            self._columns[key] = columns
        return self._columns[key]

    def tuples(self, model, rows):
        columns = self.columns(model, rows[0])
        for row in rows:
            yield tuple(row[name] if make is None else make() for name, make in columns)

    def write(self, model, rows):
        if rows:
            self._write(model, [name for name, _ in self.columns(model, rows[0])], rows)
            self.counts[model] = self.counts.get(model, 0) + len(rows)


class CopyWriter(_Writer):
    """PostgreSQL: one ``COPY … FROM STDIN`` per table and batch."""

    def _write(self, model, names, rows):
        buffer = io.StringIO()
        for values in self.tuples(model, rows):
            buffer.write("\t".join(map(_copy_text, values)))
            buffer.write("\n")
        buffer.seek(0)
        sql = f"COPY {model._meta.db_table} ({', '.join(names)}) FROM STDIN"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(sql, buffer)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(buffer.getvalue())


class BulkCreateWriter(_Writer):
    """SQLite (small N): ``bulk_create`` of the same rows."""

    def _write(self, model, names, rows):
        model.objects.bulk_create(
            (model(**dict(zip(names, values, strict=True))) for values in self.tuples(model, rows)),
            batch_size=500,
        )


def _constant(value):
    return lambda: value


def _copy_text(value):
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


# Denormalised fields -------------------------------------------------------------------------


def denormalise(*, first_id, last_id, today):
    """
    Last contact, next check-in due and the values of customers ``first_id``…``last_id``, computed
    from their touchpoints and purchases by a few set-based UPDATEs (what the services keep up
    to date one customer at a time).
    """
    customers = Customer.objects.filter(pk__range=(first_id, last_id))
    money = DecimalField(max_digits=14, decimal_places=2)
    purchases = Purchase.objects.filter(customer=OuterRef("pk")).order_by().values("customer")
    customers.update(
        last_contacted_at=Subquery(
            Touchpoint.objects.filter(customer=OuterRef("pk"), kind__in=Touchpoint.CONTACT_KINDS)
            .order_by("-happened_at").values("happened_at")[:1]
        ),
        lifetime_value=Coalesce(
            Subquery(purchases.annotate(total=Sum("amount")).values("total")), Value(0),
            output_field=money),
        value_last_12_months=Coalesce(
            Subquery(purchases.filter(date__gt=today - datetime.timedelta(days=365))
                     .annotate(total=Sum("amount")).values("total")), Value(0),
            output_field=money),
    )
    if connection.vendor == "postgresql":
        # Customer.compute_next_checkin_due(), in SQL: the local date of the clock's start + cadence.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {Customer._meta.db_table} SET next_checkin_due = COALESCE(
                    (last_contacted_at AT TIME ZONE timezone)::date, customer_since,
                    (created_at AT TIME ZONE timezone)::date) + cadence_days
                WHERE id BETWEEN %s AND %s
                """,
                [first_id, last_id],
            )
        return
    # SQLite has no time zones in SQL; it only ever holds a small N.
    for start in range(first_id, last_id + 1, 1_000):
        batch = list(customers.filter(pk__range=(start, start + 999)).only(
            "pk", "last_contacted_at", "customer_since", "created_at", "timezone", "cadence_days"))
        for customer in batch:
            customer.next_checkin_due = customer.compute_next_checkin_due()
        Customer.objects.bulk_update(batch, ["next_checkin_due"])


def analyze(models=None):
    if models is None:
        optional = (_optional_model("touchpoints", name) for name in ("Promise", "Complaint"))
        models = [Customer, Contact, Touchpoint, Touchpoint.contacts.through, Purchase, FollowUp,
                  Customer.tags.through, KeyDate, Tag, *filter(None, optional)]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
        elif connection.in_atomic_block:  # VACUUM cannot run in a transaction (tests)
            cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in models))
        else:
            # VACUUM too: it sets the visibility map, so index-only scans work on fresh rows.
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(m._meta.db_table for m in models))
            # And every other table: autovacuum never analyses the three-row team tables, and
            # the visibility rule's subquery planned on default estimates picks seq scans.
            cursor.execute("ANALYZE")


def compact_customers(wait=120):
    """
    Rewrite the customer table (PostgreSQL, outside a transaction): the denormalising UPDATEs
    leave dead versions of every row behind, which made it three times its size and every scan
    of it slower than on a table grown by normal use. A few seconds at 100,000 customers.

    VACUUM FULL must keep the old versions while any transaction in the database may still see
    them, and autovacuum, woken by the load, analyses the big tables in long transactions: so
    first wait (at most ``wait`` seconds) for its workers here to finish. Returns the sizes of the
    table before and after, in bytes.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                           " AND backend_type = 'autovacuum worker'")
            if not cursor.fetchone()[0]:
                break
            time.sleep(1)
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        before = cursor.fetchone()[0]
        cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")
        cursor.execute("SELECT pg_relation_size(%s)", [table])
        return before, cursor.fetchone()[0]

