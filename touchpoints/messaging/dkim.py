"""
DKIM: a signature over each message's headers and body, made with the installation's private key,
that receivers check against the public key published in DNS (``<selector>._domainkey.<domain>``).
Gmail and Yahoo junk or refuse bulk mail without it, and RFC 8058 wants the one-click unsubscribe
headers covered by it.

``SignedEmail`` is the email every outbox message is built as (``composing.build_email``). Its
``message()`` is what every Django email backend serialises, so mail is signed whatever the backend:
SMTP in production, the files of the embedded default (a demo's mail files verify as sent), the
test outbox. It first re-encodes every text part as quoted-printable (7-bit, which relays leave
alone), then signs the message as the SMTP backend will write it, with relaxed canonicalisation, so
the signature also holds for the LF line ends of the file backend.

The key: ``DKIM_PRIVATE_KEY`` (the PEM, or a file's path; ``manage.py dkim_setup`` writes one where
the settings find it), ``DKIM_SELECTOR``, ``DKIM_DOMAIN`` (default: the From domain). Without a key,
mail goes out unsigned and ``check --deploy`` warns (``retention/checks.py``).
"""

import base64
import dataclasses
import functools
import logging
import re
from email.charset import QP, Charset
from email.utils import parseaddr
from pathlib import Path

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

log = logging.getLogger(__name__)

# What the signature covers. Headers a message lacks are signed as absent, so that nobody can add
# them on the way (a List-Unsubscribe to a manual message, say).
SIGNED_HEADERS = (
    "From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
    "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted", "X-Retention-Occasion",
)
MIN_KEY_BITS = 1024
KEY_BITS = 2048

UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


class KeyProblem(ValueError):
    """The configured DKIM key cannot be used; the message says why."""


@dataclasses.dataclass(frozen=True)
class SigningKey:
    selector: str
    domain: str
    pem: bytes

    def public_record(self):
        """The DNS TXT record that publishes the public half (``v=DKIM1; k=rsa; p=…``)."""
        return dns_record(self.pem)


def from_domain():
    """The domain of ``DEFAULT_FROM_EMAIL``, lower-case ("" if it has none)."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower()


def signing_domain():
    return (settings.DKIM_DOMAIN or from_domain()).lower()


def signing_key():
    """The configured key, None when there is none; ``KeyProblem`` when it is there but unusable."""
    return _load_key(settings.DKIM_PRIVATE_KEY, settings.DKIM_SELECTOR, signing_domain())


@functools.lru_cache(maxsize=8)
def _load_key(value, selector, domain):
    if not value:
        return None
    if "-----BEGIN" in value:
        pem = value.replace("\\n", "\n").encode()  # an env file may hold it on one line
    else:
        try:
            pem = Path(value).read_bytes()
        except OSError as error:
            raise KeyProblem(f"DKIM_PRIVATE_KEY: cannot read {value}: {error.strerror or error}") from None
    check_private_key(pem)
    if not selector or not domain:
        raise KeyProblem("DKIM needs DKIM_SELECTOR and a domain (DKIM_DOMAIN or DEFAULT_FROM_EMAIL's)")
    return SigningKey(selector=selector, domain=domain, pem=pem)


def check_private_key(pem):
    """An RSA private key in PEM of at least ``MIN_KEY_BITS`` bits, or ``KeyProblem``."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise KeyProblem(f"DKIM_PRIVATE_KEY is not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem("DKIM_PRIVATE_KEY must be an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise KeyProblem(f"DKIM_PRIVATE_KEY has {key.key_size} bits; receivers want {MIN_KEY_BITS} or more")
    return key


def new_private_key():
    """A new RSA key pair, as PEM (PKCS#8, unencrypted)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def dns_record(private_pem):
    """``v=DKIM1; k=rsa; p=<the public key, base64 DER>`` for the key whose private half is given."""
    public = serialization.load_pem_private_key(private_pem, password=None).public_key()
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


# Signing ---------------------------------------------------------------------------------------


def as_quoted_printable(msg):
    """Re-encode every text part of ``msg`` as quoted-printable UTF-8 (no bare 8-bit on the wire)."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get("Content-Transfer-Encoding", "").lower() == "quoted-printable":
            continue
        text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        del part["Content-Transfer-Encoding"]
        part.set_payload(text, UTF8_QP)


def sign(msg, key):
    """Add a DKIM-Signature header, first, to ``msg`` (a ``email.message.Message``)."""
    signature = dkim.sign(
        msg.as_bytes(linesep="\r\n"), key.selector.encode(), key.domain.encode(), key.pem,
        include_headers=[name.lower().encode() for name in SIGNED_HEADERS],
        canonicalize=(b"relaxed", b"relaxed"),
    )
    name, _, value = signature.decode("ascii").partition(":")
    # Unfolded: the generator folds it again when it writes the message; relaxed canonicalisation
    # of the signature header makes that folding irrelevant to verifiers.
    value = re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    # No public API puts a header first; receivers expect the signature above what it signs.
    msg._headers.insert(0, msg.policy.header_store_parse(name, value))


class SignedEmail(EmailMultiAlternatives):
    """An email whose serialised form is quoted-printable and DKIM-signed (when a key is set)."""

    def message(self):
        msg = super().message()
        as_quoted_printable(msg)
        key = _usable_key()
        if key is not None:
            sign(msg, key)
        return msg


def _usable_key():
    try:
        return signing_key()
    except KeyProblem as problem:
        # ``check --deploy`` reports it; a running installation keeps mailing, unsigned, and says so.
        log.error("mail goes out unsigned: %s", problem)
        return None


# Verifying (tests, ``mail_audit``) --------------------------------------------------------------


def verify(raw, private_pem=None):
    """
    Whether the DKIM signature of ``raw`` (a message as bytes) holds: against the public half of
    ``private_pem`` when given (no DNS needed), else against the key published in DNS.
    """
    if private_pem is None:
        return bool(dkim.verify(raw))
    record = dns_record(private_pem).encode()
    return bool(dkim.verify(raw, dnsfunc=lambda name, timeout=5: record))


def signed_header_names(raw):
    """The ``h=`` list of the DKIM-Signature of ``raw``, lower-case; empty when unsigned."""
    match = re.search(rb"^DKIM-Signature:(.*?)(?=^\S)", raw, re.M | re.S | re.I)
    if not match:
        return []
    tags = dict(
        part.strip().split("=", 1) for part in re.sub(r"\s+", "", match.group(1).decode()).split(";")
        if "=" in part
    )
    return [name.lower() for name in tags.get("h", "").split(":") if name]
