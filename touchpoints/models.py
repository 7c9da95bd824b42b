"""
Contact with customers: touchpoints logged by people, follow-up tasks for account managers,
promises, complaints, the programs and the outbox ledger every message goes through.

Longer than most modules because it holds every table of the app; the rules that change these
rows are in ``services``, ``checkins`` and ``messaging/``.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Contact, Customer, CustomerOwnedQuerySet


class Touchpoint(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", "Call"
        MEETING = "meeting", "Meeting"
        EMAIL = "email", "Email"
        VISIT = "visit", "Visit"
        NOTE = "note", "Note"
        CARD = "card", "Card or gift"
        SYSTEM = "system", "System message"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"

    class Mood(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

    # Kinds that count as contact with the customer and reset the check-in clock. A note to self
    # does not, nor does an automated message: the program nudges, people keep in touch.
    CONTACT_KINDS = [Kind.CALL, Kind.MEETING, Kind.EMAIL, Kind.VISIT, Kind.CARD]

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="touchpoints")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="touchpoints",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CALL)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.OUTBOUND
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="touchpoints")
    happened_at = models.DateTimeField("when", default=timezone.now)
    duration_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    mood = models.CharField("customer's mood", max_length=10, choices=Mood.choices, blank=True)
    summary = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    # Meetings: when their notes went out to the attendees, or that none are needed.
    notes_sent_at = models.DateTimeField(null=True, blank=True)
    notes_not_needed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-happened_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-happened_at"], name="touchpoint_customer_time"),
            models.Index(fields=["author", "-happened_at"], name="touchpoint_author_time"),
            models.Index(
                fields=["author", "happened_at"], name="touchpoint_notes_unsent",
                condition=Q(kind="meeting", notes_sent_at__isnull=True, notes_not_needed=False),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def counts_as_contact(self):
        return self.kind in self.CONTACT_KINDS


class FollowUpQuerySet(CustomerOwnedQuerySet):
    def open(self):
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(models.Model):
    """Something an account manager should do for a customer, made by a person or a scan."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "Check-in due"
        TASK = "task", "Task"
        COMPLAINT_FOLLOWUP = "complaint_followup", "After a complaint"
        RECOVERY = "recovery", "Recover an unhappy customer"
        CARD = "card", "Send a card"
        PURCHASE_FOLLOWUP = "purchase_followup", "After a purchase"
        REFERRAL_ASK = "referral_ask", "Ask for a referral"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DISMISSED = "dismissed", "Dismissed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="follow_ups",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TASK)
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    notes = models.TextField(blank=True)
    # Follow-ups made by a scan carry the key of their occasion, so a rerun makes none twice.
    occasion_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_with = models.ForeignKey(
        "Touchpoint", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="The touchpoint logged against it, when that is what closed it.",
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="followup_assignee_due"),
        ]
        constraints = [
            # The daily scan may run twice (or on two schedulers): one open check-in per customer.
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="checkin", status="open"),
                name="followup_one_open_checkin",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class EmailSignature(models.Model):
    """How an account manager signs the messages that go out in their name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_signature"
    )
    text = models.TextField(blank=True)

    def __str__(self):
        return f"Signature of {self.user}"


class PromiseQuerySet(CustomerOwnedQuerySet):
    def open(self):
        return self.filter(status=Promise.Status.OPEN)


class Promise(models.Model):
    """A commitment made to a customer: under-promise, over-deliver, never fall short."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept"
        LATE = "late", "Kept late"
        BROKEN = "broken", "Broken"
        EXCEEDED = "exceeded", "Exceeded"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="promises")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="promises"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="promises",
    )
    description = models.CharField("what was promised", max_length=300)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    kept_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = PromiseQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="promise_owner_due"),
            models.Index(fields=["customer", "status"], name="promise_customer_status"),
        ]

    def __str__(self):
        return self.description


class ComplaintTarget(models.Model):
    """How fast a complaint of one severity must be answered and resolved (admin-configurable)."""

    severity = models.CharField(max_length=10, unique=True)
    first_response_hours = models.PositiveIntegerField()
    resolution_hours = models.PositiveIntegerField()

    def __str__(self):
        return (f"{self.severity}: respond in {self.first_response_hours} h, "
                f"resolve in {self.resolution_hours} h")


class ComplaintQuerySet(CustomerOwnedQuerySet):
    def unresolved(self):
        return self.filter(status__in=[Complaint.Status.NEW, Complaint.Status.ACKNOWLEDGED])


class Complaint(models.Model):
    """A complaint is an opportunity: answered fast, resolved fast, followed up."""

    class Severity(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        CRITICAL = "critical", "Critical"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="complaints")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="complaints"
    )
    summary = models.CharField(max_length=200)
    description = models.TextField("what happened", blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    opened_at = models.DateTimeField(default=timezone.now)
    first_response_due_at = models.DateTimeField()
    resolution_due_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution_notes = models.TextField(blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="complaints_handled",
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["resolution_due_at", "pk"]
        indexes = [
            models.Index(fields=["status", "resolution_due_at"], name="complaint_status_due"),
            models.Index(fields=["customer", "-opened_at"], name="complaint_customer_time"),
        ]

    def __str__(self):
        return self.summary


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
        Touchpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbox_message"
    )
    related_touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
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
            models.Index(fields=["send_after"], name="outbox_send_after"),
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
