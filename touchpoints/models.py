"""Contact with customers: touchpoints logged by people, and follow-up tasks for account managers."""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from customers.models import Contact, Customer


class TouchpointQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))


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

    # Kinds that count as contact with the customer; a note to self does not reset the clock.
    CONTACT_KINDS = [Kind.CALL, Kind.MEETING, Kind.EMAIL, Kind.VISIT, Kind.CARD, Kind.SYSTEM]

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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TouchpointQuerySet.as_manager()

    class Meta:
        ordering = ["-happened_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-happened_at"], name="touchpoint_customer_time"),
            models.Index(fields=["author", "-happened_at"], name="touchpoint_author_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def counts_as_contact(self):
        return self.kind in self.CONTACT_KINDS


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(customer__in=Customer.objects.visible_to(user).values("pk"))

    def open(self):
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(models.Model):
    """Something an account manager should do for a customer, made by a person or a scan."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "Check-in due"
        TASK = "task", "Task"

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
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
