"""
Make an API token for a user from the shell: only the token goes to stdout, so a script can
capture it (``TOKEN=$(manage.py api_token_create alice)``); everything else goes to stderr.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from retention.api.tokens import api_token_create


class Command(BaseCommand):
    help = "Print a new API token for USERNAME (shown once: only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="what the token is for")
        parser.add_argument("--expires-in-days", type=int, default=None, metavar="D",
                            help="the token stops working after D days (default: never)")

    def handle(self, *args, username, name, expires_in_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user “{username}”.")
        if not user.is_active:
            raise CommandError(f"User “{username}” is inactive: a token of theirs would not work.")
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        token, secret = api_token_create(user=user, name=name, expires_in_days=expires_in_days)
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M %Z}" if token.expires_at else "never expires"
        self.stderr.write(f"API token “{name}” for {username} ({expiry}). It is shown only now:")
        self.stdout.write(secret)
