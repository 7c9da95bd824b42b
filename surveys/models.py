"""Satisfaction surveys: a question, invitations with unguessable links, and the answers."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from customers.models import Contact, Customer, CustomerOwnedQuerySet, new_token


class Survey(models.Model):
    class Kind(models.TextChoices):
        NPS = "nps", "Net Promoter Score (0–10)"
        CSAT = "csat", "Customer satisfaction (1–5)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NPS)
    question = models.CharField(max_length=300)
    comment_prompt = models.CharField(
        max_length=300, default="What is the main reason for your score? Any suggestion welcome."
    )
    valid_days = models.PositiveSmallIntegerField(
        default=30, help_text="How long an invitation's link can be answered."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def score_range(self):
        return range(0, 11) if self.kind == self.Kind.NPS else range(1, 6)


class Invitation(models.Model):
    """One customer contact asked one survey, reached only through its token."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_invitations")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="survey_invitations"
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

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
    def default_expiry(cls, survey):
        return timezone.now() + datetime.timedelta(days=survey.valid_days)


class Response(models.Model):
    class Category(models.TextChoices):
        PROMOTER = "promoter", "Promoter"
        PASSIVE = "passive", "Passive"
        DETRACTOR = "detractor", "Detractor"

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_responses")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    category = models.CharField(max_length=10, choices=Category.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="response_customer_time")]

    def __str__(self):
        return f"{self.score} from {self.customer}"

    @staticmethod
    def categorize(kind, score):
        if kind == Survey.Kind.NPS:
            if score >= 9:
                return Response.Category.PROMOTER
            return Response.Category.PASSIVE if score >= 7 else Response.Category.DETRACTOR
        if score >= 4:
            return Response.Category.PROMOTER
        return Response.Category.PASSIVE if score == 3 else Response.Category.DETRACTOR
