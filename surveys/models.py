"""
Satisfaction surveys: the survey and its questions, campaigns and triggers that send it,
invitations with unguessable links, the answers, and the suggestions taken from them.

How an invitation travels from a campaign to an answer is told in ``surveys/invitations.py``;
what an answer sets in motion in ``surveys/answers.py``.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from customers.books import copy_fields
from customers.models import Contact, Customer, CustomerOwnedQuerySet, filter_visible, new_token


class Survey(models.Model):
    """
    What is asked. Editable until it is first sent; after that an edit makes a new version (the
    old one keeps the exact questions its invitations were answered with, under a versioned name).
    """

    class Kind(models.TextChoices):
        NPS = "nps", "Net Promoter Score (0–10)"
        CSAT = "csat", "Customer satisfaction (1–5)"

    name = models.CharField(
        max_length=100, unique=True, validators=[RegexValidator(r"^[^/]+$", "A name cannot hold “/”.")]
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NPS)
    question = models.CharField(max_length=300)
    comment_prompt = models.CharField(
        "free-text question",
        max_length=300,
        default="What should we do better?",
        help_text="Answers to it become suggestions that managers triage.",
    )
    valid_days = models.PositiveSmallIntegerField(
        "answerable for (days)",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How long an invitation's link can be answered and amended.",
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveSmallIntegerField(default=1, editable=False)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="The version this one replaced.",
    )
    first_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        # By name, like a program by its key: a survey is the installation's, not a team's.
        return reverse("surveys:survey_edit", args=[self.name])

    @property
    def score_range(self):
        return self.range_of(self.kind)

    @classmethod
    def range_of(cls, kind):
        return range(0, 11) if kind == cls.Kind.NPS else range(1, 6)

    @property
    def is_locked(self):
        """Sent at least once: its questions are what answers were given to, so edits make a new version."""
        return self.first_sent_at is not None

    def score_label(self, score):
        """The words beside the ends of the scale, for the email and the page."""
        if self.kind == self.Kind.NPS:
            return {0: "Not at all likely", 10: "Extremely likely"}.get(score, "")
        return {1: "Very dissatisfied", 3: "Neutral", 5: "Very satisfied"}.get(score, "")


class Question(models.Model):
    """One more question of a survey, after the score and the free text."""

    class Kind(models.TextChoices):
        SCALE = "scale", "Scale 1–5"
        CHOICE = "choice", "Single choice"
        TEXT = "text", "Text"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SCALE)
    text = models.CharField(max_length=300)
    choices = models.TextField(blank=True, help_text="Single choice: one option a line.")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.text

    @property
    def choice_list(self):
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class CampaignQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Admins see every campaign; a manager those they made and those of the teams they manage."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(created_by=user) | Q(team__managers=user)).distinct()


class Campaign(models.Model):
    """
    A survey sent to a segment of the book (the customer list's filters), now or at a set time;
    or, with a ``trigger``, the standing campaign the daily scan invites customers to.
    """

    class Trigger(models.TextChoices):
        NONE = "", "None: sent once, to a segment"
        AFTER_ACTIVE = "after_active", "Some days after a customer becomes active"
        AFTER_COMPLAINT = "after_complaint", "Some days after a complaint is resolved"
        PERIODIC = "periodic", "Every few months per customer"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"
        ON = "on", "On"
        OFF = "off", "Off"

    name = models.CharField(max_length=200)
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="campaigns")
    filters = models.JSONField(
        default=dict, blank=True, help_text="The customer list's filters that make the segment."
    )
    team = models.ForeignKey(
        "customers.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The team of the segment, when it names one: its managers see the campaign.",
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, blank=True, default="")
    trigger_days = models.PositiveSmallIntegerField(
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="After becoming active or a resolved complaint: days to wait. Periodic: months "
        "between two surveys of the same customer.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_for = models.DateTimeField(default=timezone.now)
    reminder_days = models.PositiveSmallIntegerField(
        "remind after (days)",
        default=5,
        validators=[MaxValueValidator(60)],
        help_text="One reminder to those who have not answered; 0 for none.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    invited_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text="{reason: contacts skipped}")

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        indexes = [models.Index(fields=["status", "scheduled_for"], name="campaign_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["trigger"], condition=~Q(trigger=""), name="campaign_one_per_trigger"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("surveys:campaign_detail", args=[self.pk])

    @property
    def is_trigger(self):
        return bool(self.trigger)


class Invitation(models.Model):
    """One contact asked one survey, once per occasion, reached only through its token."""

    # Every index of this table is written by each campaign (a row per contact) and each answer (an
    # UPDATE of indexed columns): the campaign and contact are looked up through the composite
    # indexes below, and the unique keys are found by equality only (no pattern index).
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations", db_index=False
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_invitations")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_invitations",
        db_index=False,
    )
    # One invitation per contact and occasion: a campaign, a complaint, a period of a customer.
    # NULL for one made by hand: the unique constraint lets any number have none.
    occasion_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The customer's book, kept by the database, so the results count and cut invitations and
    # answers without joining the customers (customers/books.py).
    team, owner = copy_fields("team", "owner").values()
    token = models.CharField(max_length=64, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The fatigue guard: when was this contact last asked?
            models.Index(fields=["contact", "-created_at"], name="invitation_contact_time"),
            models.Index(fields=["campaign", "answered_at"], name="invitation_campaign"),
            models.Index(
                fields=["created_at"],
                name="invitation_reminder_due",
                condition=Q(answered_at__isnull=True, reminded_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["occasion_key"], name="invitation_occasion_unique"),
            models.UniqueConstraint(fields=["token"], name="invitation_token_unique"),
        ]

    def __str__(self):
        return f"{self.survey} → {self.customer}"

    def get_absolute_url(self):
        return reverse("surveys:answer", args=[self.token])

    def public_url(self):
        return settings.SITE_URL + self.get_absolute_url()

    @property
    def is_expired(self):
        return timezone.now() >= self.expires_at

    @property
    def is_answered(self):
        return self.answered_at is not None

    @classmethod
    def default_expiry(cls, survey, now=None):
        return (now or timezone.now()) + datetime.timedelta(days=survey.valid_days)


class SuggestionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A suggestion is seen by whoever sees one of the customers who made it."""
        asked = filter_visible(Response.objects.filter(suggestion=OuterRef("pk")), user)
        return self.filter(Exists(asked))

    def open(self):
        return self.filter(status__in=[Suggestion.Status.NEW, Suggestion.Status.PLANNED])


class Suggestion(models.Model):
    """What customers asked us to do better, triaged by managers until done or declined."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        PLANNED = "planned", "Planned"
        DONE = "done", "Done"
        DECLINED = "declined", "Declined"
        MERGED = "merged", "Merged"

    text = models.TextField()
    theme = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    note = models.TextField(
        "what we did",
        blank=True,
        help_text="Told to the customers who asked when it is done.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "theme"], name="suggestion_status_theme")]

    def __str__(self):
        return self.text[:80]

    def get_absolute_url(self):
        return reverse("surveys:suggestion_detail", args=[self.pk])


class Response(models.Model):
    """The one answer an invitation allows; amended in place until the invitation expires."""

    class Category(models.TextChoices):
        PROMOTER = "promoter", "Promoter"
        PASSIVE = "passive", "Passive"
        DETRACTOR = "detractor", "Detractor"

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    team, owner = copy_fields("team", "owner").values()
    # Copied from the invitation, so results group and filter without joining it.
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, null=True, related_name="responses")
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    kind = models.CharField(max_length=10, choices=Survey.Kind.choices, default=Survey.Kind.NPS)
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    category = models.CharField(max_length=10, choices=Category.choices)
    comment = models.TextField(blank=True)
    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="response_customer_time"),
            models.Index(fields=["kind", "created_at"], name="response_kind_time"),
            # The latest comments: read newest first and stop at a page.
            models.Index(fields=["-created_at"], name="response_time", condition=~Q(comment="")),
            models.Index(fields=["campaign"], name="response_campaign"),
        ]

    def __str__(self):
        return f"{self.score} from {self.customer}"

    @staticmethod
    def categorize(kind, score):
        """NPS: 9–10 promoter, 7–8 passive, 0–6 detractor. CSAT: 4–5 satisfied, 3, 1–2 detractor."""
        if kind == Survey.Kind.NPS:
            if score >= 9:
                return Response.Category.PROMOTER
            return Response.Category.PASSIVE if score >= 7 else Response.Category.DETRACTOR
        if score >= 4:
            return Response.Category.PROMOTER
        return Response.Category.PASSIVE if score == 3 else Response.Category.DETRACTOR

    def event_data(self):
        """What an announced event (``customers.events``) says of the answer."""
        return {"survey": {"response_id": self.pk, "kind": self.kind, "score": self.score,
                           "category": self.category}}

    @property
    def category_label(self):
        if self.kind == Survey.Kind.CSAT:
            return {"promoter": "Satisfied", "passive": "Neutral", "detractor": "Dissatisfied"}[self.category]
        return self.get_category_display()


class Answer(models.Model):
    """The answer to one of a survey's further questions."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.CharField(max_length=2000)

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_one_per_question"),
        ]

    def __str__(self):
        return self.value



# The results' tallies, kept by PostgreSQL (``surveys/tallies.py``), live in their own module.
from .tally_models import AnswerTally, InvitationTally  # noqa: E402,F401
