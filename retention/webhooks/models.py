"""
The webhooks' tables: the endpoints admins register, the events announced, and one delivery per
event and endpoint, the ledger the workers and the sweeper go by (``delivery.py``).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Endpoint(models.Model):
    """
    A receiver of signed events. The secret is stored as it is, because every delivery's signature
    is computed from it; the pages show it once, when it is made.
    """

    url = models.URLField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    # Event type names (``events.CATALOGUE``). A handful of endpoints at most: matched in Python.
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # Set when the endpoint was switched off for failing (``delivery.py``), for the page's banner.
    disabled_reason = models.CharField(max_length=500, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "pk"]

    def __str__(self):
        return self.description or self.url

    @property
    def failing(self):
        """Switched off by the deliveries, not by a person."""
        return not self.enabled and bool(self.disabled_reason)


class Event(models.Model):
    """
    One thing that happened, with the exact body every delivery of it posts (so the signature and
    the id are the same on every attempt).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40)
    # Set where a scan finds the moment (a complaint's breach): a second scan finds it taken.
    occasion_key = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["occasion_key"], name="webhook_event_occasion_unique",
                                    condition=~Q(occasion_key="")),
        ]

    def __str__(self):
        return f"{self.type} {self.pk}"


class Delivery(models.Model):
    """An event on its way to one endpoint: written with the event, claimed for each attempt."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 db_index=False)  # indexed by webhook_delivery_endpoint_time
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Until when the row is in someone's hands (queued, or being posted); the sweeper waits.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due",
                         condition=Q(status__in=["pending", "sending"])),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_time"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once"),
        ]

    def __str__(self):
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"
