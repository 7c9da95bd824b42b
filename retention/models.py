"""
The tables of what spans the apps: the health score's own rows and the managers' digest choice.

The score itself is stored on the customer (``Customer.health_score``, ``health_band``,
``health_factors``), where lists and pages read it cheaply; these tables hold what the score is
made from and what it was:

- ``HealthWeights``: the one row of factor weights and band thresholds an admin edits;
- ``HealthSnapshot``: a customer's score and band on each day they changed (a day without a row
  has the score of the row before it), so the table grows with change, not with days × customers;
- ``HealthOverride``: a manager's score for a customer, with why and until when;
- ``BookDay``: the nightly tally of each book (team and owner) that the dashboard's trends read;
- ``HealthScan``: one recompute of every score, cut into slices the workers run side by side;
- ``DigestPreference``: whether a manager gets the weekly digest, and in which time zone.

How the score is computed: ``retention/health/`` and ``docs/HEALTH.md``.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from customers.models import Customer, Team, default_timezone, validate_timezone

HealthBand = Customer.HealthBand


def weight_field(default, label):
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MaxValueValidator(100)],
        help_text="0 leaves the factor out; the score is the weighted average of the factors known.",
    )


class HealthWeights(models.Model):
    """The weights of the six factors and the band thresholds: one row, edited by admins."""

    recency = weight_field(30, "contact recency")
    survey = weight_field(20, "satisfaction (NPS/CSAT)")
    complaints = weight_field(15, "complaints")
    promises = weight_field(10, "promises")
    purchases = weight_field(15, "purchase trend")
    engagement = weight_field(10, "engagement")
    watch_from = models.PositiveSmallIntegerField(
        "watch from", default=40, validators=[MaxValueValidator(100)],
        help_text="A score below this is at risk.",
    )
    healthy_from = models.PositiveSmallIntegerField(
        "healthy from", default=70, validators=[MaxValueValidator(100)],
        help_text="A score of at least this is healthy; between the two, watch.",
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "health weights"
        verbose_name_plural = "health weights"
        constraints = [
            models.CheckConstraint(
                condition=Q(healthy_from__gt=F("watch_from")), name="health_bands_ordered",
                violation_error_message="“Healthy from” must be above “watch from”.",
            ),
        ]

    def __str__(self):
        return "Health weights and bands"


class HealthSnapshot(models.Model):
    """
    A customer's score and band from ``date`` on, written on each day they change.

    ``previous_band`` is the band of the row before (empty for the first), so a change of band is
    read from one row; ``saved`` marks a customer becoming healthy after being at risk lately.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_snapshots")
    date = models.DateField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    previous_band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    saved = models.BooleanField(default=False)

    class Meta:
        ordering = ["customer", "date"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "date"], name="health_snapshot_day"),
        ]
        indexes = [
            # The dashboard's and the digest's "became at risk" and "saved": the few band changes.
            models.Index(fields=["date", "band"], name="health_snapshot_band_change",
                         condition=~Q(band=F("previous_band"))),
        ]

    def __str__(self):
        return f"{self.customer_id} on {self.date}: {self.score} ({self.band or 'unknown'})"


class HealthOverrideQuerySet(models.QuerySet):
    def active(self, today):
        """Overrides in force on ``today``: not ended, and expiring after it."""
        return self.filter(ended_at__isnull=True, expires_on__gt=today)


class HealthOverride(models.Model):
    """A manager's score for a customer, shown as such with who and why, until it expires."""

    class Ended(models.TextChoices):
        REMOVED = "removed", "Removed"
        REPLACED = "replaced", "Replaced"
        EXPIRED = "expired", "Expired"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="health_overrides")
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    comment = models.TextField()
    expires_on = models.DateField(help_text="The override ends at the start of this day.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_reason = models.CharField(max_length=10, choices=Ended.choices, blank=True)

    objects = HealthOverrideQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(ended_at__isnull=True),
                                    name="health_override_one_open"),
        ]

    def __str__(self):
        return f"{self.score} for {self.customer_id} until {self.expires_on}"


class HealthScan(models.Model):
    """
    One recompute of every customer's health on the workers (``retention/health/nightly.py``): the
    slices of ids it was cut into, those done and what they counted. The last slice done records
    the books' tally and sets ``finished_at``.
    """

    # A scan unfinished after this long has lost a slice (a worker gone): it will not finish.
    STALLED_AFTER = datetime.timedelta(hours=1)

    started_at = models.DateTimeField(help_text="The scores are computed as of this moment.")
    slices = models.PositiveIntegerField()
    slices_done = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    snapshots = models.PositiveIntegerField(default=0)
    cleared = models.PositiveIntegerField(default=0)
    overrides_ended = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Health scan of {self.started_at:%Y-%m-%d %H:%M}: {self.slices_done}/{self.slices} slices"

    @property
    def stalled(self):
        return self.finished_at is None and timezone.now() - self.started_at > self.STALLED_AFTER

    @property
    def duration(self):
        return self.finished_at - self.started_at if self.finished_at else None


class BookDay(models.Model):
    """
    One book (a team's customers of one owner) on one day, as the nightly scan counted it: the
    customers in the program by band, their value at risk, the check-in coverage, and the revenue
    retention of the 12 months to that day. The dashboard's trends compare these rows.

    Coverage is known only for the days the scan ran (it reads the live check-in clock); the rest
    can be recounted for any past day from the snapshots and the purchases.
    """

    date = models.DateField()
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    customers = models.PositiveIntegerField(default=0)
    healthy = models.PositiveIntegerField(default=0)
    watch = models.PositiveIntegerField(default=0)
    at_risk = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    value_at_risk = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    covered = models.PositiveIntegerField(null=True, blank=True)
    due = models.PositiveIntegerField(null=True, blank=True)
    overdue = models.PositiveIntegerField(null=True, blank=True)
    revenue_base = models.DecimalField(
        max_digits=16, decimal_places=2, default=0,
        help_text="Purchases in the 12 months before the last 12, of the customers who bought then.",
    )
    revenue_kept = models.DecimalField(
        max_digits=16, decimal_places=2, default=0,
        help_text="Of those customers, the last 12 months' purchases up to what each bought before.",
    )
    revenue_now = models.DecimalField(
        max_digits=16, decimal_places=2, default=0,
        help_text="Of those customers, all the last 12 months' purchases.",
    )
    figures = models.JSONField(
        default=dict, blank=True,
        help_text="What happened over the 30, 90 and 365 days to the day, and the cohorts "
        "(retention.health.flows).",
    )

    class Meta:
        ordering = ["date", "team", "owner"]
        indexes = [models.Index(fields=["date", "team"], name="book_day_date_team")]

    def __str__(self):
        return f"{self.date} {self.team_id}/{self.owner_id}"


class DigestPreference(models.Model):
    """Whether a manager gets the weekly digest (Monday 08:00 in ``timezone``); on unless switched off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference"
    )
    weekly_digest = models.BooleanField(
        "send me the weekly digest", default=True,
        help_text="On Monday at 08:00: customers who became at risk, saves, and overdue check-ins "
        "by account manager.",
    )
    timezone = models.CharField(
        "my time zone", max_length=64, default=default_timezone, validators=[validate_timezone],
        help_text="An IANA name such as Europe/Berlin: the digest arrives at 08:00 here.",
    )

    def __str__(self):
        return f"Digest of {self.user}: {'on' if self.weekly_digest else 'off'}"
