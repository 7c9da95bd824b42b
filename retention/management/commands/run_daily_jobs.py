"""Run now, in this process, the scans the scheduler runs: for a given local date, or today."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from customers.csv_io.uploads import customer_imports_clean
from customers.models import Customer
from customers.services import customer_values_recompute_all
from retention.health.recompute import health_daily
from surveys.triggers import survey_scan
from touchpoints.checkins import checkin_due_batches, checkins_open
from touchpoints.messaging.scans import programs_scan, thank_you_scan


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Run the retention program's daily scans now (today in each customer's time zone by default)."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=str, help="the local date to run for, YYYY-MM-DD")
        parser.add_argument("--dry-run", action="store_true", help="list what is due, change nothing")

    def handle(self, *args, date=None, dry_run=False, **options):
        on_date = iso_date(date) if date else None
        if dry_run:
            due = 0
            for local_date, customer_ids in checkin_due_batches(on_date=on_date):
                due += len(customer_ids)
                for pk, name, due_on in (
                    Customer.objects.filter(pk__in=customer_ids).order_by("pk")
                    .values_list("pk", "name", "next_checkin_due")
                ):
                    self.stdout.write(f"check-in due  customer {pk}  {name}  (due {due_on}, "
                                      f"local date {local_date})")
            self.stdout.write(f"{due} check-in follow-up(s) would be opened; nothing was changed.")
        else:
            opened = checkins_open(on_date=on_date)
            self.stdout.write(self.style.SUCCESS(f"check-ins: {opened} follow-up(s) opened."))

        # The automated programs: greetings, check-in emails, post-purchase follow-ups, card
        # reminders for that local date; thank-you notes for whoever just became a customer.
        report = programs_scan(on_date=on_date, dry_run=dry_run)
        thank_you_scan(dry_run=dry_run, report=report)
        for line in report.lines:
            self.stdout.write(line)
        for program, counts in report.counts.items():
            detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing due"
            if dry_run:
                self.stdout.write(f"{program}: {detail}; nothing was changed.")
            else:
                self.stdout.write(self.style.SUCCESS(f"{program}: {detail}."))

        # Surveys: the standing triggers, the reminders and the campaigns that are due.
        for line in survey_scan(dry_run=dry_run).lines():
            self.stdout.write(line + ("; nothing was changed." if dry_run else "."))

        # Purchases older than 365 days leave each customer's "last 12 months" value.
        revalued = customer_values_recompute_all(today=on_date, dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{revalued} customer value(s) would be recomputed; nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"values: {revalued} customer(s) recomputed."))

        # Every customer's health score (as of now), then each book's tally for the dashboard.
        health = health_daily(dry_run=dry_run)
        bands = ", ".join(f"{n} {band.replace('_', ' ') or 'unknown'}" for band, n in health.bands.items())
        if dry_run:
            self.stdout.write(f"health: {health.scored} customer(s) would be scored ({bands}); "
                              "nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(
                f"health: {health.scored} customer(s) scored ({bands}), {health.snapshots} changed, "
                f"{health.cleared} out of the program cleared, {health.overrides_ended} override(s) "
                f"expired; {health.books} book tallies."))

        # Uploads nobody confirmed are not kept for ever.
        cleaned = customer_imports_clean(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"{cleaned} unconfirmed upload(s) would be removed; nothing was changed.")
        else:
            self.stdout.write(self.style.SUCCESS(f"imports: {cleaned} unconfirmed upload(s) removed."))
