"""Meeting notes: drafted, previewed and edited, sent through the outbox once, shown on the timeline."""

import datetime

import pytest
from django.core import mail
from django.utils.formats import date_format
from django.utils.timezone import localtime

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.models import EmailSignature, OutboxMessage, Program, Touchpoint
from touchpoints.services import promise_create, touchpoint_log

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script>'


@pytest.fixture
def customer(north, alice):
    return CustomerFactory(team=north, owner=alice, name="Northwind")


@pytest.fixture
def olga(customer):
    return ContactFactory(customer=customer, name="Olga Owens", email="olga@example.com", is_primary=True)


@pytest.fixture
def meeting(customer, alice, olga):
    peter = ContactFactory(customer=customer, name="Peter Park", email="peter@example.com")
    nomail = ContactFactory(customer=customer, name="No Mail", email="")
    return touchpoint_log(
        customer=customer, user=alice, kind="meeting", summary="Quarterly review",
        notes="1. Renewal in May\n2. Two more seats", contacts=[olga, peter, nomail],
        happened_at=datetime.datetime(2026, 3, 9, 14, 0, tzinfo=datetime.UTC),
        duration_minutes=45,
    )


def notes_url(meeting):
    return f"/touchpoints/{meeting.pk}/notes/"


def send(client, meeting, contacts, subject="Notes from our meeting", body="The notes", action="send"):
    return client.post(notes_url(meeting), {
        "contacts": [c.pk for c in contacts], "subject": subject, "body": body, "action": action,
    })


def test_the_draft_preselects_the_attendees_with_email_and_formats_the_notes(client, alice, meeting):
    EmailSignature.objects.create(user=alice, text="Account manager, Example Ltd")
    promise_create(customer=meeting.customer, user=alice, touchpoint=meeting,
                   description="Send the seat quote", due_on=datetime.date(2099, 1, 2))
    client.force_login(alice)

    response = client.get(notes_url(meeting))

    form = response.context["form"]
    assert sorted(c.name for c in form.fields["contacts"].queryset) == ["Olga Owens", "Peter Park"]
    assert len(form.initial["contacts"]) == 2
    assert form.initial["subject"] == "Notes from our meeting: Quarterly review"
    body = form.initial["body"]
    assert body.startswith("Hello Olga and Peter,\n")  # those it goes to
    assert "1. Renewal in May\n2. Two more seats" in body
    assert "- Send the seat quote (by 2 January 2099)" in body
    assert body.rstrip().endswith("Alice Archer\nAccount manager, Example Ltd")
    assert "Quarterly review" in response.context["preview"]["html"]


def test_the_subject_follows_the_admins_wording_in_the_sandbox(client, alice, meeting):
    Program.objects.filter(key="meeting_notes").update(
        subject="{{ customer.name }} · {{ touchpoint.summary }} {{ touchpoint.author.password }}")
    client.force_login(alice)
    subject = client.get(notes_url(meeting)).context["form"].initial["subject"]
    assert subject == "Northwind · Quarterly review"


def test_the_preview_shows_the_edited_text_without_sending(client, alice, meeting, mail_locmem):
    client.force_login(alice)
    response = client.post(notes_url(meeting), {
        "contacts": [], "subject": "Edited subject", "body": "Edited body", "action": "preview",
    }, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html.split("srcdoc")[0] and "Edited subject" in html
    assert "Edited body" in html
    assert not OutboxMessage.objects.exists() and not mail.outbox


def test_notes_are_sent_once_even_if_send_is_pressed_twice(
    client, alice, meeting, olga, mail_locmem, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        first = send(client, meeting, [olga], subject="Our review", body="Edited notes")
    with django_capture_on_commit_callbacks(execute=True):
        second = send(client, meeting, [olga], subject="Our review again", body="Other notes")

    assert first.status_code == second.status_code == 302
    assert OutboxMessage.objects.count() == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["olga@example.com"] and email.subject == "Our review"
    assert email.reply_to == [alice.email] and "Edited notes" in email.body
    assert "List-Unsubscribe" not in email.extra_headers  # a personal email, not automated
    html = email.alternatives[0][0]
    assert "Edited notes" in html and "Quarterly review" in html

    meeting.refresh_from_db()
    message = OutboxMessage.objects.get()
    assert message.program == "meeting_notes" and not message.automated
    assert message.occasion_key == f"meeting_notes:{meeting.pk}"
    assert message.related_touchpoint == meeting and message.status == "sent"
    assert meeting.notes_sent_at == message.sent_at is not None


def test_sending_twice_at_the_service_gives_back_the_first_message(
    alice, meeting, olga, mail_locmem, django_capture_on_commit_callbacks
):
    from touchpoints.services import meeting_notes_send

    with django_capture_on_commit_callbacks(execute=True):
        first, created = meeting_notes_send(touchpoint=meeting, user=alice, contacts=[olga],
                                            subject="S", body="B")
        again, created_again = meeting_notes_send(touchpoint=meeting, user=alice, contacts=[olga],
                                                  subject="S2", body="B2")
    assert created and not created_again and first.pk == again.pk and len(mail.outbox) == 1


def test_sent_notes_are_on_the_timeline_with_when_they_went(
    client, alice, meeting, olga, mail_locmem, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        send(client, meeting, [olga], subject="Our review", body="Edited notes")
    meeting.refresh_from_db()

    page = client.get(meeting.customer.get_absolute_url()).content.decode()

    assert f"Notes sent {date_format(localtime(meeting.notes_sent_at), 'DATETIME_FORMAT')}" in page
    email = Touchpoint.objects.get(kind="email")
    assert email.summary == "Our review" and email.outbox_message.related_touchpoint == meeting
    assert "sent by email" in page and "olga@example.com" in page
    # Opening "Send notes" again shows what went out instead of a new draft.
    again = client.get(notes_url(meeting)).content.decode()
    assert "These notes were sent" in again and "Edited notes" in again


def test_recipients_must_be_chosen_and_have_email(client, alice, meeting, customer, mail_locmem):
    client.force_login(alice)
    nomail = customer.contacts.get(name="No Mail")
    stranger = ContactFactory(customer=CustomerFactory(team=customer.team), email="x@example.com")
    for contacts in ([], [nomail], [stranger]):
        response = send(client, meeting, contacts)
        assert response.status_code == 200 and "contacts" in response.context["form"].errors
    assert not OutboxMessage.objects.exists()


def test_a_meeting_can_be_marked_no_notes_needed(client, alice, meeting):
    client.force_login(alice)
    response = client.post(f"/touchpoints/{meeting.pk}/notes/not-needed/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "No notes needed" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.notes_not_needed


def test_only_meetings_have_notes(client, alice, customer):
    call = touchpoint_log(customer=customer, user=alice, kind="call", summary="A call")
    client.force_login(alice)
    assert client.get(f"/touchpoints/{call.pk}/notes/").status_code == 404
    assert client.post(f"/touchpoints/{call.pk}/notes/not-needed/").status_code == 404


def test_logging_a_meeting_offers_to_send_its_notes(client, alice, customer, olga):
    client.force_login(alice)
    response = client.post(f"/touchpoints/customers/{customer.pk}/log/", {
        "kind": "meeting", "direction": "outbound", "summary": "Kick-off",
        "happened_at": "2026-03-09T10:00", "contacts": [olga.pk],
    }, headers={"HX-Request": "true"})
    meeting = Touchpoint.objects.get(summary="Kick-off")
    assert f'href="/touchpoints/{meeting.pk}/notes/"' in response.content.decode()


def test_html_in_the_notes_is_escaped_in_the_page_preview_and_html_email(
    client, alice, customer, olga, mail_locmem, django_capture_on_commit_callbacks
):
    meeting = touchpoint_log(customer=customer, user=alice, kind="meeting", summary=EVIL, notes=EVIL,
                             contacts=[olga])
    client.force_login(alice)
    page = client.get(notes_url(meeting)).content.decode()
    assert "<script>alert" not in page
    # The HTML preview sits, escaped as a whole, in a sandboxed frame's srcdoc.
    assert 'sandbox srcdoc="&lt;!doctype html&gt;' in page and "&amp;lt;script&amp;gt;" in page

    with django_capture_on_commit_callbacks(execute=True):
        send(client, meeting, [olga], subject=EVIL, body=EVIL)
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    timeline = client.get(customer.get_absolute_url()).content.decode()
    assert "<script>alert" not in timeline
