"""
``manage.py seed_bench --customers N [--seed S] [--batch-size B] [--password P]``: scale data for
the benchmark (``bench/``): the demo users and teams, ``bench-am-NNN`` account managers and N
``BENCH-`` customers with their contacts, touchpoints, purchases, promises and complaints.

What is made and how it stays fast: ``retention.seeding.bench`` and ``retention.seeding.bench_book``.
"""

from django.core.management.base import BaseCommand, CommandError

from retention.seeding.bench import BATCH_CUSTOMERS, bench_seed
from retention.seeding.people import BENCH_USER_PREFIX, DEFAULT_PASSWORD, DEMO_USERS_SUMMARY


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

        seeded = bench_seed(customers=customers, seed=seed, password=password, batch_size=batch_size,
                            say=self.stdout.write)

        if not seeded.counts:
            self.stdout.write(f"{seeded.present:,} bench customers already present (asked for "
                              f"{customers:,}); nothing to add. Users and passwords are reset.")
            return
        counts = ", ".join(f"{n:,} {model._meta.verbose_name_plural}"
                           for model, n in seeded.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Bench data: {counts}, in {seeded.seconds:.1f} s."))
        self.stdout.write(f"Demo users ({DEMO_USERS_SUMMARY}) and {seeded.bench_users} "
                          f"{BENCH_USER_PREFIX}* users; password: {password}")
