"""
Mail that receivers trust: DKIM signatures that verify (over SMTP and in the files of the embedded
default) and break when the message is altered, the key that ``dkim_setup`` makes, the deployment
checks, and headers with nothing internal in them.
"""

import datetime
import os
import re
import socket
import stat

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from customers.tests.factories import ContactFactory, CustomerFactory
from retention.checks import mail_authentication, outbox_settings
from touchpoints.messaging.composing import occasion_reference
from touchpoints.messaging.dkim import dns_record, signed_header_names, verify
from touchpoints.messaging.ledger import outbox_enqueue
from touchpoints.messaging.sending import outbox_send
from touchpoints.models import OutboxMessage

pytestmark = pytest.mark.django_db

FROM = "Retention <care@acme.example>"


@pytest.fixture
def dkim_key(settings, tmp_path):
    """A key made by ``dkim_setup`` for acme.example, where the settings find it; its PEM."""
    settings.DKIM_KEY_DIR = tmp_path / "dkim"
    settings.DKIM_PRIVATE_KEY = ""
    settings.DKIM_SELECTOR = "s2026"
    settings.DEFAULT_FROM_EMAIL = FROM
    call_command("dkim_setup", domain="acme.example", stdout=open(os.devnull, "w"))
    path = tmp_path / "dkim" / "s2026.pem"
    settings.DKIM_PRIVATE_KEY = str(path)
    return path.read_bytes()


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Jürgen Müller GmbH", timezone="Europe/Berlin")


@pytest.fixture
def contact(customer):
    return ContactFactory(customer=customer, name="Jürgen Müller", email="juergen@example.de",
                          is_primary=True)


def enqueue(contact, *, key=None, program="checkin", automated=True, **fields):
    return outbox_enqueue(
        occasion_key=key or f"{program}:{contact.customer_id}:{contact.pk}:2026", program=program,
        customer=contact.customer, contact=contact, to=[contact.email], automated=automated,
        subject="Wie geht's, Jürgen?", body_text="Grüße aus Köln — alles gut?\n\n" + "é" * 120,
        body_html="<p>Grüße aus Köln</p>", **fields,
    )[0]


def wire(email):
    """The message as the SMTP backend writes it."""
    return email.message().as_bytes(linesep="\r\n")


# Signing -----------------------------------------------------------------------------------------


def test_a_sent_message_verifies_against_the_key_dkim_setup_made(dkim_key, contact, smtp_to_sink, settings):
    message = enqueue(contact)
    assert outbox_send([message.pk])["sent"] == 1

    [received] = smtp_to_sink.messages
    raw = received.as_bytes()
    assert verify(raw, dkim_key)
    signature = received["DKIM-Signature"]
    assert "d=acme.example" in signature and "s=s2026" in signature
    # RFC 8058: both unsubscribe headers are covered, and the rest a receiver relies on.
    assert {"from", "to", "subject", "date", "message-id", "list-unsubscribe",
            "list-unsubscribe-post"} <= set(signed_header_names(raw))


def test_a_message_altered_after_signing_does_not_verify(dkim_key, contact, mail_locmem):
    outbox_send([enqueue(contact).pk])
    raw = wire(mail.outbox[0])
    assert verify(raw, dkim_key)

    unsubscribe = re.search(rb"List-Unsubscribe: <([^>]+)>", raw).group(1)
    for altered in (
        raw.replace(unsubscribe, b"https://evil.example/u/x/"),  # a header
        raw.replace(b"Gr=C3=BC=C3=9Fe aus K=C3=B6ln", b"Gr=C3=BC=C3=9Fe aus Bonn"),  # the body
        raw.replace(b"To: juergen@example.de", b"To: someone@example.de"),
    ):
        assert altered != raw and not verify(altered, dkim_key)


def test_a_signature_holds_in_the_files_of_the_embedded_default(dkim_key, contact, settings, tmp_path,
                                                                 capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    other = ContactFactory(customer=contact.customer, email="anna@example.de")
    outbox_send([enqueue(contact).pk, enqueue(other).pk])

    call_command("mail_audit")  # the file backend's directory, against the configured key

    out = capsys.readouterr().out
    assert "2 message(s) in 1 file(s): 2 signed and verified, 0 unsigned, 0 failing." in out
    assert "no address got more than 1 on one day" in out
    [written] = (tmp_path / "mail").iterdir()
    written.write_text(written.read_text().replace("juergen@example.de", "juergen@example.com", 1))
    with pytest.raises(CommandError):
        call_command("mail_audit", str(tmp_path / "mail"))
    assert "signature does not verify" in capsys.readouterr().out


def test_without_a_key_mail_goes_out_unsigned_and_the_deployment_check_warns(contact, mail_locmem, settings):
    settings.DKIM_PRIVATE_KEY = ""
    settings.DEFAULT_FROM_EMAIL = FROM
    outbox_send([enqueue(contact).pk])

    assert "DKIM-Signature" not in mail.outbox[0].message()
    assert [problem.id for problem in mail_authentication()] == ["retention.W001"]


# The deployment checks ---------------------------------------------------------------------------


def test_the_deployment_check_is_clean_with_a_key_on_the_from_domain(dkim_key):
    assert mail_authentication() == []


@pytest.mark.parametrize(("from_email", "dkim_domain", "expected"), [
    ("Retention <retention@localhost>", "", "retention.E002"),
    ("retention", "", "retention.E001"),
    (FROM, "other.example", "retention.E004"),
])
def test_the_deployment_check_says_what_is_wrong(dkim_key, settings, from_email, dkim_domain, expected):
    settings.DEFAULT_FROM_EMAIL, settings.DKIM_DOMAIN = from_email, dkim_domain
    assert expected in [problem.id for problem in mail_authentication()]


def test_a_subdomain_from_aligns_with_the_signing_domain(dkim_key, settings):
    settings.DEFAULT_FROM_EMAIL = "News <news@mail.acme.example>"
    settings.DKIM_DOMAIN = "acme.example"
    assert mail_authentication() == []


def test_an_unreadable_key_is_an_error(settings, tmp_path):
    settings.DEFAULT_FROM_EMAIL = FROM
    settings.DKIM_PRIVATE_KEY = str(tmp_path / "missing.pem")
    [problem] = mail_authentication()
    assert problem.id == "retention.E003" and "cannot read" in problem.msg
    (tmp_path / "bad.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    settings.DKIM_PRIVATE_KEY = str(tmp_path / "bad.pem")
    [problem] = mail_authentication()
    assert problem.id == "retention.E003"


def test_a_grace_period_for_an_unknown_program_is_an_error(settings):
    settings.OUTBOX_GRACE_DAYS = {"checkin": 5, "birthday": 2}
    [problem] = outbox_settings()
    assert problem.id == "retention.E005" and "birthday" in problem.msg


# dkim_setup --------------------------------------------------------------------------------------


def test_dkim_setup_writes_a_private_key_and_prints_the_three_records(settings, tmp_path, capsys):
    settings.DKIM_KEY_DIR, settings.DKIM_PRIVATE_KEY = tmp_path / "dkim", ""
    settings.DEFAULT_FROM_EMAIL = FROM

    call_command("dkim_setup", domain="Acme.Example", selector="mail2026")

    path = tmp_path / "dkim" / "mail2026.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    record = dns_record(path.read_bytes())
    line = out.split("mail2026._domainkey.acme.example.")[1].split("\n")[0]
    published = "".join(re.findall(r'"([^"]*)"', line))
    assert published == record  # the record, split in 255-character strings, is the key's
    assert 'acme.example.  IN  TXT  "v=spf1' in out
    assert '_dmarc.acme.example.  IN  TXT  "v=DMARC1; p=none;' in out
    assert "DKIM_SELECTOR=mail2026" in out


def test_dkim_setup_keeps_an_existing_key_unless_forced(settings, tmp_path, capsys):
    settings.DKIM_KEY_DIR, settings.DKIM_PRIVATE_KEY = tmp_path / "dkim", ""
    call_command("dkim_setup", domain="acme.example")
    path = tmp_path / "dkim" / f"{settings.DKIM_SELECTOR}.pem"
    first = path.read_bytes()

    with pytest.raises(CommandError, match="already exists"):
        call_command("dkim_setup", domain="acme.example")
    assert path.read_bytes() == first

    call_command("dkim_setup", domain="acme.example", force=True)
    assert path.read_bytes() != first


@pytest.mark.parametrize(("options", "message"), [
    ({"domain": "not a domain"}, "--domain"),
    ({"domain": "acme.example", "selector": "bad selector!"}, "--selector"),
])
def test_dkim_setup_refuses_bad_input_and_writes_nothing(settings, tmp_path, options, message):
    settings.DKIM_KEY_DIR, settings.DKIM_PRIVATE_KEY = tmp_path / "dkim", ""
    with pytest.raises(CommandError, match=message):
        call_command("dkim_setup", **options)
    assert not (tmp_path / "dkim").exists()


# Headers -----------------------------------------------------------------------------------------


def test_headers_are_honest_and_carry_no_internal_ids(dkim_key, contact, mail_locmem, alice):
    automated = enqueue(contact)
    notes = enqueue(contact, key=f"meeting_notes:{contact.pk}", program="meeting_notes", automated=False,
                    sender=alice)
    outbox_send([automated.pk, notes.pk])

    by_subject = {}
    for email in mail.outbox:
        by_subject[email.extra_headers["X-Retention-Occasion"]] = email.message()
    sent_automated = by_subject[occasion_reference(automated.occasion_key)]
    sent_notes = by_subject[occasion_reference(notes.occasion_key)]

    for message, row in ((sent_automated, automated), (sent_notes, notes)):
        row.refresh_from_db()
        # Message-ID on the From domain, stored on the row; never the worker's host name.
        assert message["Message-ID"] == row.message_id
        assert re.fullmatch(r"<[0-9a-f]{32}@acme\.example>", message["Message-ID"])
        assert socket.getfqdn() not in message["Message-ID"]
        # The occasion as an HMAC; no customer, contact or purchase id in any header.
        assert message["X-Retention-Occasion"] == row.occasion_ref
        assert re.fullmatch(r"[0-9a-f]{32}", row.occasion_ref)
        ids = {str(contact.pk), str(contact.customer_id), str(row.pk)}
        for name, value in message.items():
            if name in ("DKIM-Signature", "Date"):
                continue
            assert row.occasion_key not in value
            # A number standing alone: not the digits inside a random token or hex value.
            assert not ids & set(re.findall(r"(?<![\w-])\d+(?![\w-])", value)), (name, value)
        # The real offset of the customer's zone (Berlin), not "-0000".
        offset = message["Date"][-5:]
        assert offset in ("+0100", "+0200")
        # Quoted-printable text parts: nothing 8-bit on the wire.
        raw = message.as_bytes(linesep="\r\n")
        assert max(raw) < 128
        assert {part["Content-Transfer-Encoding"] for part in message.walk() if not part.is_multipart()} == {
            "quoted-printable"}
    # Out-of-office replies stay away from automated messages; a person's notes are a person's.
    assert sent_automated["Auto-Submitted"] == "auto-generated"
    assert sent_notes["Auto-Submitted"] is None and sent_notes["List-Unsubscribe"] is None


def test_a_resend_carries_the_message_id_of_the_first_attempt(contact, smtp_to_sink, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC), tick=False)
    smtp_to_sink.fail_temporarily(1, code="421 4.3.2 Try again")
    message = enqueue(contact)
    stored = message.message_id

    outbox_send([message.pk])  # refused
    message.refresh_from_db()
    time_machine.move_to(message.send_after, tick=False)
    outbox_send([message.pk])  # accepted

    [received] = smtp_to_sink.messages
    assert received["Message-ID"] == stored == OutboxMessage.objects.get(pk=message.pk).message_id


def test_support_finds_a_message_from_the_reference_a_copy_carries(client, maria, contact, mail_locmem):
    message = enqueue(contact)
    other = enqueue(ContactFactory(customer=contact.customer, email="x@example.de"))
    client.force_login(maria)

    page = client.get("/outbox/", {"ref": message.occasion_ref}).content.decode()
    assert f"/outbox/{message.pk}/" in page and f"/outbox/{other.pk}/" not in page
    page = client.get("/outbox/", {"ref": message.message_id}).content.decode()
    assert f"/outbox/{message.pk}/" in page and f"/outbox/{other.pk}/" not in page
