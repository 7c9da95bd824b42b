"""
The email an outbox row becomes, with headers a receiver can trust and nothing internal in them:

- **From** in the sender's name at the installation's own address (so DKIM stays aligned);
- **Message-ID** on the From domain, made when the message is decided and stored on the row
  (``new_message_id``), so every attempt, and the rare resend after a crash, carries the same one;
- **Date** with the real offset, in the customer's time zone (the installation's without one);
- **Auto-Submitted: auto-generated** on automated messages, so that out-of-office replies stay away
  (not on meeting notes, which a person sends);
- **List-Unsubscribe** and **List-Unsubscribe-Post** (RFC 8058) on automated messages to a contact;
- **X-Retention-Occasion**: an HMAC of the occasion key (``occasion_reference``), which support
  finds on the Outbox page, instead of the key with its customer, contact and purchase ids;
- quoted-printable parts and a DKIM signature (``dkim.SignedEmail``).
"""

import re
import secrets
import zoneinfo
from email.utils import format_datetime, parseaddr

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .dkim import SignedEmail, from_domain
from .unsubscribe import unsubscribe_url

OCCASION_SALT = "touchpoints.messaging.occasion"


def occasion_reference(occasion_key):
    """The opaque value of the X-Retention-Occasion header: an HMAC of the occasion key."""
    return salted_hmac(OCCASION_SALT, occasion_key, algorithm="sha256").hexdigest()[:32]


def new_message_id():
    """A Message-ID on the From domain that says nothing about the message or the machine."""
    return f"<{secrets.token_hex(16)}@{from_domain() or 'localhost'}>"


def from_header(sender):
    """
    The From of a message sent in ``sender``'s name: their name at the installation's own address
    (so DKIM stays aligned), or DEFAULT_FROM_EMAIL as it is when there is no sender or no name.
    """
    if sender is not None and sender.get_full_name():
        return f"{sender.get_full_name()} <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>"
    return settings.DEFAULT_FROM_EMAIL


def date_header(message, when=None):
    """RFC 5322 date of ``when`` (now) with its real offset, in the recipient's time zone if known."""
    when = when or timezone.now()
    zone = timezone.get_current_timezone()
    if message.customer_id is not None and message.customer is not None:
        zone = zoneinfo.ZoneInfo(message.customer.timezone)
    return format_datetime(when.astimezone(zone))


def build_email(message, connection=None, *, when=None):
    headers = {
        "Date": date_header(message, when),
        "Message-ID": message.message_id or new_message_id(),
        "X-Retention-Occasion": message.occasion_ref or occasion_reference(message.occasion_key),
    }
    if message.automated:
        headers["Auto-Submitted"] = "auto-generated"
        if message.contact is not None:
            headers["List-Unsubscribe"] = f"<{unsubscribe_url(message.contact)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email = SignedEmail(
        subject=message.subject, body=message.body_text, from_email=from_header(message.sender),
        to=message.recipients, reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers, connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


SIGNATURE_VALUE = re.compile(r"\b(b|bh)=([^;]{12})[^;]*")
SHOWN_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                 "List-Unsubscribe", "List-Unsubscribe-Post", "X-Retention-Occasion", "DKIM-Signature"]


def outbox_headers(message):
    """
    The headers the message goes out with, as ``build_email`` makes them (decoded); the Date and,
    with it, the signature are those of a message sent now, or when it was sent.
    """
    built = build_email(message, when=message.sent_at).message()
    shown = [(name, " ".join(str(built[name]).split())) for name in SHOWN_HEADERS if built[name] is not None]
    # The signature itself is of no use to a reader: which domain, key and headers it covers is.
    return [(name, SIGNATURE_VALUE.sub(r"\1=\2…", value) if name == "DKIM-Signature" else value)
            for name, value in shown]

