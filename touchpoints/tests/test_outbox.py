"""
The outbox's guarantees that need no SMTP failure: once per occasion, suppression, the timeline
written once even when the worker dies before it, and the sweeper's leases.
"""

import datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.tests.factories import ContactFactory, CustomerFactory
from touchpoints.messaging.ledger import QUEUED_LEASE, outbox_enqueue
from touchpoints.messaging.sending import outbox_send, timeline_record
from touchpoints.messaging.sweeper import outbox_sweep
from touchpoints.models import OutboxMessage, Touchpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(north, alice):
    return ContactFactory(customer=CustomerFactory(team=north, owner=alice), email="dana@example.com")


def enqueue(contact, key="birthday:1:2026", **overrides):
    fields = {
        "occasion_key": key, "program": "birthday", "customer": contact.customer,
        "contact": contact, "to": [contact.email], "subject": "Happy birthday",
        "body_text": "All the best",
    }
    fields.update(overrides)
    return outbox_enqueue(**fields)


def test_one_message_per_occasion(contact, mail_locmem):
    first, created = enqueue(contact)
    again, created_again = enqueue(contact)
    assert created and not created_again and first.pk == again.pk
    assert OutboxMessage.objects.count() == 1


def test_sending_twice_sends_once_and_logs_it_on_the_timeline(contact, mail_locmem, alice):
    message, _ = enqueue(contact, sender=alice, reply_to=alice.email)

    assert outbox_send([message.pk])["sent"] == 1
    assert outbox_send([message.pk])["skipped"] == 1

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["dana@example.com"] and email.reply_to == [alice.email]
    token = contact.unsubscribe_token
    assert email.extra_headers["List-Unsubscribe"].endswith(f"/u/{token}/>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"/u/{token}/" in email.body
    message.refresh_from_db()
    assert message.status == "sent" and message.touchpoint.summary == "Happy birthday"
    assert message.touchpoint.customer == contact.customer


def test_an_unsubscribed_contact_is_suppressed_not_sent(contact, mail_locmem):
    contact.unsubscribed_at = contact.created_at
    contact.save()
    message, _ = enqueue(contact)
    assert outbox_send([message.pk])["skipped"] == 1  # recorded as suppressed when decided
    message.refresh_from_db()
    assert message.status == "suppressed" and not mail.outbox


def test_unsubscribing_after_the_decision_still_suppresses(contact, mail_locmem):
    message, _ = enqueue(contact)
    contact.unsubscribed_at = contact.created_at
    contact.save()
    assert outbox_send([message.pk])["suppressed"] == 1
    message.refresh_from_db()
    assert message.status == "suppressed" and not mail.outbox


def test_a_manual_message_ignores_unsubscribe_and_has_no_unsubscribe_header(contact, mail_locmem):
    contact.unsubscribed_at = contact.created_at
    contact.save()
    message, _ = enqueue(contact, program="meeting_notes", automated=False)
    outbox_send([message.pk])
    assert len(mail.outbox) == 1 and "List-Unsubscribe" not in mail.outbox[0].extra_headers


def test_a_rolled_back_decision_leaves_nothing(contact, mail_locmem):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(contact)
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


def test_the_sweeper_requeues_due_pending_messages(contact, mail_locmem, settings):
    message, _ = enqueue(contact)
    assert outbox_sweep() == [message.pk]
    message.refresh_from_db()
    assert message.status == "sent" and len(mail.outbox) == 1


def _midday():
    """Noon today, UTC: a test that moves its clock minutes ahead stays on the same day (a message
    past its day's latest send time is expired, not sent)."""
    return timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


def test_the_sweeper_leaves_queued_messages_to_their_task_for_a_while(contact, mail_locmem, time_machine):
    # The (eager) task finds the message not due yet by the real clock: the row stays pending.
    time_machine.move_to(_midday(), tick=False)
    message, _ = enqueue(contact, send_after=timezone.now() - QUEUED_LEASE)
    OutboxMessage.objects.filter(pk=message.pk).update(send_after=timezone.now() + QUEUED_LEASE,
                                                       lease_until=None)
    now = timezone.now() + QUEUED_LEASE  # due now, from the sweeper's point of view

    assert outbox_sweep(now=now) == [message.pk]
    assert outbox_sweep(now=now + QUEUED_LEASE / 2) == []  # queued a moment ago: not again
    assert outbox_sweep(now=now + QUEUED_LEASE * 2) == [message.pk]  # its task was lost: again


def test_a_message_stuck_in_sending_is_taken_back_once_its_workers_lease_runs_out(
        contact, mail_locmem, time_machine, settings):
    time_machine.move_to(_midday(), tick=False)
    lease = datetime.timedelta(seconds=settings.OUTBOX_SENDING_LEASE_SECONDS)
    message, _ = enqueue(contact)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=timezone.now(), lease_until=timezone.now() + lease, attempts=1)

    assert outbox_sweep(now=timezone.now() + lease / 2) == []  # its worker may still be on it
    time_machine.move_to(timezone.now() + lease + datetime.timedelta(seconds=1), tick=False)
    assert outbox_sweep() == [message.pk]
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2 and len(mail.outbox) == 1


def test_lost_work_is_picked_up_within_two_minutes(contact, mail_locmem, time_machine, settings):
    """A worker took a batch in hand and died: two sweeps a minute apart, and it is on its way."""
    time_machine.move_to(_midday(), tick=False)
    message, _ = enqueue(contact)
    # In a worker's hands (its batch's lease), the message in flight claimed: then SIGKILL.
    other = ContactFactory(customer=contact.customer, email="fox@example.com")
    in_hand, _ = enqueue(other, key="birthday:2:2026", to=[other.email])
    died = timezone.now()
    lease = died + datetime.timedelta(seconds=settings.OUTBOX_SENDING_LEASE_SECONDS)
    OutboxMessage.objects.filter(pk=message.pk).update(status="sending", claimed_at=died, lease_until=lease)
    OutboxMessage.objects.filter(pk=in_hand.pk).update(lease_until=lease)

    swept = outbox_sweep(now=died + datetime.timedelta(minutes=1)) + outbox_sweep(
        now=died + datetime.timedelta(minutes=2))

    assert sorted(swept) == sorted([message.pk, in_hand.pk])
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_the_timeline_entry_is_written_once_even_after_a_crash_before_it(contact, mail_locmem, alice,
                                                                         time_machine):
    """
    The worker marked the row sent (right after the server accepted it) and died before the
    timeline entry: the sweeper writes it, once, however often it and the sender run.
    """
    time_machine.move_to(_midday(), tick=False)
    message, _ = enqueue(contact, sender=alice)
    OutboxMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=timezone.now())

    outbox_sweep(now=timezone.now() + datetime.timedelta(minutes=1))
    outbox_sweep(now=timezone.now() + datetime.timedelta(minutes=2))
    message.refresh_from_db()
    assert timeline_record(message) is False  # already there

    message.refresh_from_db()
    touchpoints = Touchpoint.objects.filter(customer=contact.customer)
    assert touchpoints.count() == 1 and message.touchpoint == touchpoints.get()
    assert message.touchpoint.summary == "Happy birthday"
    assert list(message.touchpoint.contacts.all()) == [contact]


class AcceptanceNotingBackend(LocmemBackend):
    """The test outbox, noting how many queries had run when each message was accepted."""

    accepted_after = []

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        self.accepted_after.append(len(connection.queries))
        return sent


def test_between_the_servers_acceptance_and_sent_there_is_one_update(contact, settings, alice):
    """
    The duplicate window after a crash runs from the server's acceptance to the row saying
    ``sent``: nothing but that one UPDATE may stand in it (the timeline entry comes after).
    """
    settings.EMAIL_BACKEND = f"{__name__}.AcceptanceNotingBackend"
    AcceptanceNotingBackend.accepted_after.clear()
    message, _ = enqueue(contact, sender=alice)

    with CaptureQueriesContext(connection) as queries:
        assert outbox_send([message.pk])["sent"] == 1

    [accepted] = AcceptanceNotingBackend.accepted_after
    after = [query["sql"] for query in queries.captured_queries[accepted - queries.initial_queries:]]
    assert after[0].startswith('UPDATE "touchpoints_outboxmessage" SET "status" = \'sent\''), after[:3]
    assert any(sql.startswith('INSERT INTO "touchpoints_touchpoint"') for sql in after[1:])
