"""
``manage.py dkim_setup --domain D [--selector S] [--force]``: a DKIM key pair for the installation.

Writes the private key where the settings find it (``DKIM_PRIVATE_KEY`` if it names a file, else
``VAR_DIR/dkim/<selector>.pem``), readable by its owner only, and prints the three DNS records to
publish: the DKIM public key, an SPF example and a DMARC policy. An existing key is kept unless
``--force``: its public half may already be published, and replacing it breaks every signature
until the new record is. README, "Sending mail that arrives", explains the records.
"""

import os
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from touchpoints.messaging.dkim import dns_record, from_domain, new_private_key

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
SELECTOR = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# A DNS TXT record holds strings of at most 255 characters; longer values are split in several.
TXT_CHUNK = 255


def key_path(selector):
    """Where the settings look for the key of ``selector``."""
    configured = settings.DKIM_PRIVATE_KEY
    if configured and "-----BEGIN" not in configured and selector == settings.DKIM_SELECTOR:
        return Path(configured)
    return Path(settings.DKIM_KEY_DIR) / f"{selector}.pem"


def txt(value):
    """A TXT record's value in zone-file syntax, split in quoted strings of 255 characters."""
    return " ".join(f'"{value[i:i + TXT_CHUNK]}"' for i in range(0, len(value), TXT_CHUNK))


class Command(BaseCommand):
    help = "Make a DKIM key pair for signing the mail, and print the DNS records to publish."

    def add_arguments(self, parser):
        parser.add_argument("--domain", required=True, help="the domain mail comes from, e.g. acme.example")
        parser.add_argument("--selector", default=None,
                            help=f"the key's name in DNS (default: DKIM_SELECTOR, {settings.DKIM_SELECTOR})")
        parser.add_argument("--force", action="store_true",
                            help="replace an existing key (mail fails DKIM until its new record is out)")

    def handle(self, *args, domain, selector=None, force=False, **options):
        domain = domain.strip().lower().rstrip(".")
        selector = (selector or settings.DKIM_SELECTOR).strip().lower()
        if not DOMAIN.match(domain):
            raise CommandError(f"--domain: {domain!r} is not a domain name such as acme.example")
        if not SELECTOR.match(selector):
            raise CommandError(f"--selector: {selector!r} must be letters, digits and hyphens, such as s2026")
        path = key_path(selector)
        if path.exists() and not force:
            raise CommandError(
                f"A key already exists at {path}, and its public half may be published in DNS: nothing was "
                "changed. Use --force to replace it (then publish the new DKIM record right away), or "
                "--selector to make a second key next to it."
            )
        pem = new_private_key()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created readable by its owner only, before the key is written into it.
        descriptor = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        os.replace(path.with_suffix(".tmp"), path)
        self._print(domain, selector, path, pem)

    def _print(self, domain, selector, path, pem):
        out = self.stdout.write
        out(self.style.SUCCESS(f"Wrote the DKIM private key to {path} (readable by this user only)."))
        out("Keep it secret and back it up; the settings find it there.")
        out("")
        out(f"Publish these three DNS records for {domain}:")
        out("")
        out("1. DKIM: the public key receivers check each message's signature against.")
        out(f"{selector}._domainkey.{domain}.  IN  TXT  ( {txt(dns_record(pem))} )")
        out("")
        relay = getattr(settings, "EMAIL_HOST", "") or ""
        sender = f"a:{relay}" if relay and relay not in ("localhost", "127.0.0.1") else "mx"
        out("2. SPF: which servers may send mail for the domain. An example: list the servers or the")
        out("   provider (include:…) that really relay your mail, and keep any SPF record you already have.")
        out(f'{domain}.  IN  TXT  "v=spf1 {sender} ~all"')
        out("")
        out("3. DMARC: what receivers do with mail that fails both. Start with p=none and read the")
        out("   reports sent to rua; then move to p=quarantine, and p=reject.")
        out(f'_dmarc.{domain}.  IN  TXT  "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"')
        out("")
        out("Settings for this installation:")
        out(f"  DKIM_SELECTOR={selector}")
        out(f"  DKIM_PRIVATE_KEY={path}   (the default place: may stay unset)"
            if path == Path(settings.DKIM_KEY_DIR) / f"{selector}.pem" else f"  DKIM_PRIVATE_KEY={path}")
        current = from_domain()
        if current != domain and not current.endswith("." + domain):
            out(self.style.WARNING(
                f"  DEFAULT_FROM_EMAIL is on {current or 'no domain'}: set it to an address on {domain} "
                f"(or DKIM_DOMAIN={domain} with a From on that domain), or `check --deploy` will say so."))
        out("")
        out(f"Check the DKIM record once published: dig +short TXT {selector}._domainkey.{domain}")
