"""
System checks of the project (``manage.py check``; those marked deploy with ``--deploy``).

Mail that receivers trust: a real From address, a DKIM key that works, and the two on the same
domain (DMARC alignment). Without a key mail still goes out, unsigned, and the deployment check
warns: Gmail and Yahoo junk or refuse bulk mail that is not authenticated. README, "Sending mail
that arrives", tells how to set it up.

And the installation's colour (BRAND_COLOR), written into pages and emails, is a colour.
"""

import re
from email.utils import parseaddr

from django.conf import settings
from django.core.checks import Error, Warning, register

from touchpoints.messaging.dkim import KeyProblem, signing_key
from touchpoints.messaging.policy import DEFAULT_GRACE_DAYS

SETUP = "Run `python manage.py dkim_setup --domain <your domain>` and publish the records it prints."


@register("mail", deploy=True)
def mail_authentication(app_configs=None, **kwargs):
    problems = []
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    from_domain = address.rpartition("@")[2].lower() if "@" in address else ""
    if not from_domain:
        problems.append(Error(
            f"DEFAULT_FROM_EMAIL ({settings.DEFAULT_FROM_EMAIL!r}) is not an email address.",
            hint="Set DEFAULT_FROM_EMAIL to the address mail comes from, e.g. 'Acme <care@acme.example>'.",
            id="retention.E001",
        ))
    elif from_domain == "localhost" or "." not in from_domain:
        problems.append(Error(
            f"DEFAULT_FROM_EMAIL is on {from_domain!r}: receivers refuse mail from a domain that is not "
            "a real one.",
            hint="Set DEFAULT_FROM_EMAIL to an address on your own domain.", id="retention.E002",
        ))
    try:
        key = signing_key()
    except KeyProblem as problem:
        problems.append(Error(str(problem), hint=SETUP, id="retention.E003"))
        return problems
    if key is None:
        problems.append(Warning(
            "No DKIM key: mail goes out unsigned, and Gmail and Yahoo junk or refuse unauthenticated "
            "bulk mail (RFC 8058 also wants the unsubscribe headers signed).",
            hint=SETUP + " Or set DKIM_PRIVATE_KEY (the PEM or its path) and DKIM_SELECTOR.",
            id="retention.W001",
        ))
    elif from_domain and not (from_domain == key.domain or from_domain.endswith("." + key.domain)):
        problems.append(Error(
            f"Mail is signed for {key.domain} (DKIM_DOMAIN) but comes from {from_domain} "
            "(DEFAULT_FROM_EMAIL): DMARC needs the two aligned.",
            hint="Make DEFAULT_FROM_EMAIL an address on the DKIM domain, or leave DKIM_DOMAIN unset.",
            id="retention.E004",
        ))
    return problems


@register("mail")
def outbox_settings(app_configs=None, **kwargs):
    unknown = sorted(set(settings.OUTBOX_GRACE_DAYS) - set(DEFAULT_GRACE_DAYS))
    if unknown:
        return [Error(
            f"OUTBOX_GRACE_DAYS names programs that have no grace period: {', '.join(unknown)}.",
            hint=f"Use some of: {', '.join(sorted(DEFAULT_GRACE_DAYS))}. A greeting goes out on its day.",
            id="retention.E005",
        )]
    return []


@register()
def brand_settings(app_configs=None, **kwargs):
    """The colour goes into the public pages' style and the emails' header: a #rrggbb colour only."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", settings.BRAND_COLOR):
        return [Error(
            f"BRAND_COLOR must be a colour written #rrggbb, not {settings.BRAND_COLOR!r}.",
            hint="Set BRAND_COLOR to your colour in hexadecimal, e.g. #0b5ed7.", id="retention.E006",
        )]
    return []
