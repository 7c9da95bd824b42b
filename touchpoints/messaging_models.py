"""
The tables of messaging (``touchpoints/messaging/``): the programs an admin tunes, the outbox
ledger every message to a customer goes through, and the outgoing mail server's state. Imported at
the end of ``models.py``, so Django finds them there.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Contact, Customer, CustomerOwnedQuerySet


class Program(models.Model):
    """
    One automated program of the retention plan, switched on or off and tuned by an admin.

    What each program finds, says and sends is in ``touchpoints/messaging/``.
    """

    class Key(models.TextChoices):
        CHECKIN = "checkin", "Monthly check-in email"
        THANK_YOU = "thank_you", "Thank-you note to a new customer"
        BIRTHDAY = "birthday", "Birthday greeting"
        ANNIVERSARY = "anniversary", "Customer anniversary greeting"
        KEY_DATE = "key_date", "Key date greeting"
        POST_PURCHASE = "post_purchase", "Follow-up after a purchase"
        CARD_REMINDER = "card_reminder", "Card reminder to the owner"
        MEETING_NOTES = "meeting_notes", "Meeting notes"
        SURVEY = "survey", "Survey invitation"
        SURVEY_REMINDER = "survey_reminder", "Survey reminder"
        SUGGESTION_DONE = "suggestion_done", "“You asked, we did”"
        MANAGER_DIGEST = "manager_digest", "Weekly digest to managers"

    key = models.CharField(max_length=20, choices=Key.choices, unique=True)
    enabled = models.BooleanField(default=True)
    send_hour = models.PositiveSmallIntegerField(
        default=9, validators=[MaxValueValidator(23)],
        help_text="Local hour in the customer's time zone at which messages go out.",
    )
    days = models.PositiveSmallIntegerField(
        default=0, help_text="Post-purchase: days after the purchase. Card reminder: days ahead.",
    )

    class Audience(models.TextChoices):
        PRIMARY = "primary", "The primary contact"
        ALL = "all", "Every contact with an email address"

    audience = models.CharField(
        "who gets it", max_length=10, choices=Audience.choices, default=Audience.PRIMARY,
        help_text="For messages about the customer; a birthday greeting always goes to its contact.",
    )
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(
        blank=True,
        help_text="Plain text with placeholders such as {{ contact.first_name }}, "
        "{{ owner.get_full_name }}, {{ signature }}, {{ years }}.",
    )

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.get_key_display()


class OutboxMessage(models.Model):
    """
    Every message to a customer, once per occasion.

    The row is written in the transaction that decides to send; the unique ``occasion_key`` makes
    a second decision (a rerun, a second scheduler) a no-op; sending claims the row with a
    conditional UPDATE, so a retried or duplicated task sends nothing twice. How a message travels
    through the ledger is told in ``touchpoints/messaging/__init__.py``.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        EXPIRED = "expired", "Expired"
        MERGED = "merged", "Merged"

    class Reason(models.TextChoices):
        """Why a message is not (yet) sent, or how it ended; told in full in ``reason_note``."""

        UNSUBSCRIBED = "unsubscribed", "Contact unsubscribed"
        DEFERRED = "deferred", "Waiting for a free day"
        CAPPED = "capped", "Daily limit reached"
        MERGED = "merged", "Merged into another message"
        STALE = "stale", "Its moment had passed"
        RETRYING = "retrying", "Mail server failing, retrying"
        OUTAGE = "outage", "Mail server failing until too late"
        REJECTED = "rejected", "Refused by the mail server"
        GAVE_UP = "gave_up", "Gave up retrying"

    # Unique (``Meta.constraints``), found by equality only: no pattern index to keep up per row.
    occasion_key = models.CharField(max_length=200)
    # What the message's X-Retention-Occasion header carries instead of the key: an HMAC of it, so
    # support can find the message from a received copy without the header exposing internal ids.
    occasion_ref = models.CharField(max_length=64, blank=True)
    # Made when the message is decided and reused on every attempt, so that the rare resend after
    # a crash carries the same Message-ID, which mail providers and clients collapse.
    message_id = models.CharField(max_length=255, blank=True)
    program = models.CharField(max_length=20, choices=Program.Key.choices)
    # Empty only for messages to the team itself (a manager's digest), never for one to a customer.
    customer = models.ForeignKey(  # indexed by outbox_customer_time
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox", db_index=False
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbox"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to = models.TextField(help_text="Recipient addresses, one a line.")
    reply_to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    automated = models.BooleanField(
        default=True, help_text="Automated messages carry one-click unsubscribe and respect it."
    )
    # Decided in bulk (a survey campaign to a whole book): subject and body are written when the
    # message is sent, by the composer its program registers (``messaging/composing.py``).
    compose_at_send = models.BooleanField(default=False, db_default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True)
    reason_note = models.CharField(max_length=500, blank=True)
    send_after = models.DateTimeField(default=timezone.now)
    # The latest sensible send time: a greeting's day, a follow-up's grace (messaging/policy.py).
    # Past it, the message is expired, never sent late. Empty: no such limit (meeting notes).
    expires_at = models.DateTimeField(null=True, blank=True)
    # When it was first due, if the daily limit moved it to a later day.
    deferred_from = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged",
        help_text="The message that carries this one's content too.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Until when the row is in someone's hands: queued to a worker, in a worker's batch, being
    # sent. The sweeper leaves it alone until then, and takes it back after.
    lease_until = models.DateTimeField(null=True, blank=True)
    # The local day (of the recipient) and the slot of the daily limit a sent message took.
    cap_day = models.DateField(null=True, blank=True)
    cap_slot = models.PositiveSmallIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    touchpoint = models.OneToOneField(
        "touchpoints.Touchpoint", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="outbox_message",
    )
    related_touchpoint = models.ForeignKey(
        "touchpoints.Touchpoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="What the message is about, e.g. the meeting whose notes it carries.",
    )

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "send_after"], name="outbox_status_due"),
            models.Index(fields=["occasion_ref"], name="outbox_occasion_ref"),
            models.Index(fields=["customer", "-created_at"], name="outbox_customer_time"),
            models.Index(fields=["program", "-created_at"], name="outbox_program_time"),
            # The outbox list, newest first: a campaign's thousands of messages share one time.
            models.Index(fields=["send_after", "id"], name="outbox_send_after_id"),
            # The daily limit looks up what one address gets around one day.
            models.Index(Lower("to"), "send_after", name="outbox_recipient_time"),
            models.Index(fields=["deferred_from"], name="outbox_deferred",
                         condition=Q(deferred_from__isnull=False)),
            # Sent, but the worker died before the timeline entry: the sweeper writes it.
            models.Index(fields=["sent_at"], name="outbox_sent_off_timeline",
                         condition=Q(status="sent", touchpoint__isnull=True, customer__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["occasion_key"], name="outbox_occasion_unique"),
            # One message per slot of the daily limit, per address and local day: two workers
            # sending to the same person at once cannot both take the last slot.
            models.UniqueConstraint(Lower("to"), "cap_day", "cap_slot", name="outbox_daily_cap_slot",
                                    condition=Q(cap_day__isnull=False)),
        ]

    def __str__(self):
        return f"{self.get_program_display()} → {self.customer or self.to} ({self.status})"

    @property
    def recipients(self):
        return [line.strip() for line in self.to.splitlines() if line.strip()]

    @property
    def title(self):
        """The subject, or what the message is while its wording waits for the sender."""
        if self.compose_at_send and not self.subject:
            return f"{self.get_program_display()} (written when it is sent)"
        return self.subject


class MailServerState(models.Model):
    """
    The outgoing mail server as the senders last found it: one row, written on a change of state
    only (``touchpoints/messaging/server.py``). Read by ``/healthz`` and the Outbox page.
    """

    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    # Whether this outage has been logged as an ERROR yet (once per outage).
    error_logged = models.BooleanField(default=False)

    def __str__(self):
        return "failing" if self.failing_since else "ok"
