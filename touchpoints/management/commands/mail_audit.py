"""
``manage.py mail_audit [PATH …] [--dns]``: check the mail the installation wrote as a receiver would.

Reads the files Django's file backend writes (the embedded default, ``VAR_DIR/mail/``; several
messages a file) or ``.eml`` files, and for every message:

- verifies its DKIM signature, against the public half of the configured key (``dkim_setup``'s),
  or against the record published in DNS with ``--dns``;
- counts the automated ones (``Auto-Submitted``) each address received on each day (the Date
  header's own day, the recipient's), against ``OUTBOX_DAILY_CAP``.

Exits 1 when a message is unsigned or fails, or an address got more than the limit on a day.
"""

import collections
from email import message_from_bytes
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from touchpoints.messaging.dkim import KeyProblem, signed_header_names, signing_key, verify

SEPARATOR = "\n" + "-" * 79 + "\n"  # between two messages in a file of Django's file backend


def messages_in(path):
    """The messages of a file, as bytes: one per ``.eml`` file, several in a file backend's file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".eml":
        return [text.encode()]
    return [part.strip("\n").encode() for part in text.split(SEPARATOR) if part.strip()]


class Command(BaseCommand):
    help = "Verify the DKIM signatures of written mail files and the daily limit per address."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files or directories (default: the file backend's)")
        parser.add_argument("--dns", action="store_true",
                            help="verify against the DKIM record published in DNS, not the local key")

    def handle(self, *args, paths=(), dns=False, **options):
        private_pem = None
        if not dns:
            try:
                key = signing_key()
            except KeyProblem as problem:
                raise CommandError(str(problem)) from None
            if key is None:
                raise CommandError("No DKIM key is configured (see dkim_setup); use --dns to verify "
                                   "against published records.")
            private_pem = key.pem
        files = self._files(paths)
        verified, unsigned, failing = 0, [], []
        automated = collections.Counter()
        for path in files:
            for number, raw in enumerate(messages_in(path), start=1):
                where = f"{path}#{number}"
                if not signed_header_names(raw):
                    unsigned.append(where)
                elif verify(raw, private_pem):
                    verified += 1
                else:
                    failing.append(where)
                message = message_from_bytes(raw)
                if message["Auto-Submitted"] and message["Date"]:
                    day = parsedate_to_datetime(message["Date"]).date()
                    for _, address in getaddresses(message.get_all("To", [])):
                        automated[address.lower(), day] += 1
        total = verified + len(unsigned) + len(failing)
        self.stdout.write(f"{total} message(s) in {len(files)} file(s): {verified} signed and verified, "
                          f"{len(unsigned)} unsigned, {len(failing)} failing.")
        for where in unsigned[:20]:
            self.stdout.write(f"  unsigned: {where}")
        for where in failing[:20]:
            self.stdout.write(self.style.ERROR(f"  signature does not verify: {where}"))
        over = {key: n for key, n in automated.items() if n > settings.OUTBOX_DAILY_CAP}
        for (address, day), n in sorted(over.items())[:20]:
            self.stdout.write(self.style.ERROR(f"  {address} got {n} automated messages on {day}"))
        if not over:
            self.stdout.write(f"Automated messages: no address got more than {settings.OUTBOX_DAILY_CAP} "
                              f"on one day ({sum(automated.values())} to {len({a for a, _ in automated})} "
                              "address(es)).")
        if unsigned or failing or over:
            raise CommandError("The mail does not pass: see above.")
        self.stdout.write(self.style.SUCCESS("The mail passes."))

    def _files(self, paths):
        if not paths:
            default = getattr(settings, "EMAIL_FILE_PATH", None)
            if not default:
                raise CommandError("Name the mail files or directories to check (no file backend is set).")
            paths = [default]
        files = []
        for name in paths:
            path = Path(name)
            if path.is_dir():
                files.extend(sorted(found for found in path.iterdir()
                                    if found.suffix in (".log", ".eml") and found.is_file()))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"{path}: no such file or directory")
        return files
