"""
``manage.py seed_demo [--password P]``: a believable book of business to try Retention with, and
the logins to see it.

Nine demo users (``admin``, ``manager1``, ``manager2``, ``am1`` … ``am6``) in three teams, the
surveys ``NPS`` and ``CSAT``, and 300 customers with their history (``retention.seeding.demo``).

Idempotent: when the demo customers already exist (found by their ``DEMO-`` external ids) a run
only resets the demo users' passwords and prints the logins; it never adds a second copy.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from retention.seeding.demo import demo_seed
from retention.seeding.people import DEFAULT_PASSWORD, demo_roles


class Command(BaseCommand):
    help = "Create the demo users and data (idempotent), and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=f"password of every demo user (default: {DEFAULT_PASSWORD})")

    def handle(self, *, password, **options):
        if not password:
            raise CommandError("The password must not be empty.")
        teams, counts = demo_seed(password=password)
        if counts is None:
            self.stdout.write("Demo data already present; passwords reset.")
        else:
            self.stdout.write(self.style.SUCCESS(
                "Demo data created: " + ", ".join(f"{n} {what}" for what, n in counts.items())
            ))
        self._print_logins(demo_roles(teams), password)

    def _print_logins(self, roles, password):
        rows = [("username", "role", "password")]
        rows += [(username, role, password) for username, role in roles.items()]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write(f"\nLog in at {settings.SITE_URL}/accounts/login/\n")
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  " + "  ".join(cells).rstrip())
