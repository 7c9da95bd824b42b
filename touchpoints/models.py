"""
Contact with customers: touchpoints logged by people, follow-up tasks for account managers,
promises and complaints. The tables of messaging (the programs, the outbox ledger, the mail
server's state) are in ``messaging_models``, imported at the end. The rules that change these rows
are in ``services``, ``checkins`` and ``messaging/``.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.books import copy_fields
from customers.models import Contact, Customer, CustomerOwnedQuerySet, filter_visible


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
            # Today's follow-ups list: a person's open tasks but for check-ins and recoveries, which
            # have lists of their own (without it, an account manager's 30,000 open check-ins were
            # read to skip them, at a million customers).
            models.Index(fields=["assignee", "due_on"], name="followup_open_tasks",
                         condition=Q(status="open") & ~Q(kind__in=["checkin", "recovery"])),
            # The open recoveries, which Today reads for a person and the people they manage.
            models.Index(fields=["due_on"], name="followup_open_recoveries",
                         condition=Q(status="open", kind="recovery")),
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
    def visible_to(self, user):
        """The visibility rule on the promise's own copy of its customer's team: no join."""
        return filter_visible(self, user, customer="")

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
    # The customer's team, kept by the database, so the kept-on-time rates (Records, Today) count
    # a team's promises without joining the customers (customers/books.py).
    team = copy_fields("team")["team"]

    objects = PromiseQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="promise_owner_due"),
            # The kept-on-time rates: an owner's promises due in a window, read from the index alone
            # (status and team as keys, not INCLUDE, which SQLite has not).
            models.Index(fields=["owner", "due_on", "status", "team"], name="promise_owner_rate"),
            models.Index(fields=["customer", "status"], name="promise_customer_status"),
        ]

    def __str__(self):
        return self.description

    def event_data(self):
        """What an announced event (``customers.events``) says of the promise."""
        return {"promise": {"id": self.pk, "description": self.description, "due": self.due_on,
                            "status": self.status}}


class ComplaintTarget(models.Model):
    """How fast a complaint of one severity must be answered and resolved (admin-configurable)."""

    severity = models.CharField(max_length=10, unique=True)
    first_response_hours = models.PositiveIntegerField()
    resolution_hours = models.PositiveIntegerField()

    def __str__(self):
        return (f"{self.severity}: respond in {self.first_response_hours} h, "
                f"resolve in {self.resolution_hours} h")


class ComplaintQuerySet(CustomerOwnedQuerySet):
    def visible_to(self, user):
        """The visibility rule on the complaint's own copy of its customer's team: no join."""
        return filter_visible(self, user, customer="")

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
    # The customer's team and account manager, kept by the database, so Records and the dashboard
    # count a book's complaints without joining the customers (customers/books.py).
    team, owner = copy_fields("team", "owner").values()

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["resolution_due_at", "pk"]
        indexes = [
            models.Index(fields=["status", "resolution_due_at"], name="complaint_status_due"),
            models.Index(fields=["customer", "-opened_at"], name="complaint_customer_time"),
        ]

    def __str__(self):
        return self.summary

    def event_data(self):
        """What an announced event (``customers.events``) says of the complaint."""
        return {"complaint": {"id": self.pk, "severity": self.severity, "summary": self.summary,
                              "status": self.status, "opened_at": self.opened_at,
                              "due": self.resolution_due_at}}


# The tables of messaging live beside, imported here so Django finds them.
from .messaging_models import MailServerState, OutboxMessage, Program  # noqa: E402,F401
