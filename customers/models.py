"""
Teams, customers and the people and dates that belong to them.

The visibility rule lives here and nowhere else: ``Customer.objects.visible_to(user)``. Every
model that hangs off a customer filters through it (``filter_visible``, see ``customers.access``).

Long because it holds every table of the customer book; the rules that change these rows are in
``services``, ``changes`` (lifecycle and edits) and ``checkin`` (the check-in clock). The tables of
the CSV import and export (``csv_models``) and of the audit log (``audit``) are imported at the end.
"""

import datetime
import secrets
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from .books import copy_fields
from .parsing import is_timezone_name


def new_token():
    """An unguessable URL token: 192 bits of randomness, URL-safe."""
    return secrets.token_urlsafe(24)


def default_timezone():
    return settings.TIME_ZONE


def validate_timezone(value):
    if not is_timezone_name(value):
        raise ValidationError(
            "“%(value)s” is not a known time zone; use an IANA name such as Europe/Berlin.",
            params={"value": value},
        )


def visible_team_ids(user):
    """
    The ids of the teams whose customers ``user`` (active, not an admin) sees: member or manager.

    Read once and passed to the database as a list of constants, so the planner knows how many
    customers a filter keeps (a subquery on the team tables it estimates blindly). Remembered on
    the user object for one request when ``remember_team_ids`` allowed it (a middleware does, for
    ``request.user``): a page asks several times, and a request's user object is its own. Other
    user objects are asked afresh every time, so code that changes someone's teams sees it at once.
    """
    team_ids = getattr(user, "_retention_team_ids", None)
    if team_ids is None:
        team_ids = sorted(
            Team.objects.filter(Q(members=user) | Q(managers=user)).order_by()
            .values_list("pk", flat=True).distinct()
        )
        if hasattr(user, "_retention_team_ids"):
            user._retention_team_ids = team_ids
    return team_ids


def remember_team_ids(user):
    """Let ``visible_team_ids`` keep this user's team ids on the object (one request's user)."""
    user._retention_team_ids = None


def filter_visible(queryset, user, customer="customer"):
    """
    ``queryset`` of a model that belongs to a customer (``customer``: the path to it), cut to the
    customers ``user`` sees: the visibility rule of ``Customer.objects.visible_to``, on a join.
    """
    if not (user.is_authenticated and user.is_active):
        return queryset.none()
    if user.is_superuser:
        return queryset
    prefix = f"{customer}__" if customer else ""
    return queryset.filter(**{f"{prefix}team_id__in": visible_team_ids(user)})


class CustomerOwnedQuerySet(models.QuerySet):
    """For models that belong to a customer: visible exactly when their customer is."""

    def visible_to(self, user):
        return filter_visible(self, user)


class TeamQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Teams whose customers ``user`` may see: all for an admin, else member or managed."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(pk__in=visible_team_ids(user))

    def managed_by(self, user):
        if user.is_superuser:
            return self
        return self.filter(managers=user)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True,
        help_text="Account managers who work this team's customers.",
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_teams", blank=True,
        help_text="Managers who review this team and may reassign its customers.",
    )
    automated_checkins = models.BooleanField(
        default=False,
        help_text="Send the automated check-in email to this team's customers who allow it.",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one visibility rule: a user's teams (as member or manager); an admin sees all."""
        return filter_visible(self, user, customer="")

    def current(self):
        """Customers not archived: the ones lists and programs work on."""
        return self.filter(archived_at__isnull=True)

    def in_program(self):
        """Customers the retention program keeps in touch with."""
        return self.filter(in_program_q())


def in_program_q(customer=""):
    """``CustomerQuerySet.in_program`` as a condition on ``customer`` (a path; "" for Customer)."""
    prefix = f"{customer}__" if customer else ""
    return Q(**{f"{prefix}archived_at__isnull": True,
                f"{prefix}status__in": [Customer.Status.ACTIVE, Customer.Status.INACTIVE]})


class HealthBand(models.TextChoices):
    HEALTHY = "healthy", "Healthy"
    WATCH = "watch", "Watch"
    AT_RISK = "at_risk", "At risk"


class Customer(models.Model):
    HealthBand = HealthBand

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        CHURNED = "churned", "Churned"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    churn_reason = models.TextField(blank=True)
    customer_since = models.DateField(
        null=True, blank=True, help_text="When the relationship began: the anniversary date."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="owned_customers",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="customers")
    timezone = models.CharField(
        max_length=64, default=default_timezone, validators=[validate_timezone],
        help_text="Greetings and check-ins go out by the customer's local date.",
    )
    cadence_days = models.PositiveSmallIntegerField(
        "check-in cadence (days)", default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )
    cadence_max_days = models.PositiveSmallIntegerField(
        "overdue after (days)", default=45,
        validators=[MinValueValidator(1), MaxValueValidator(732)],
        help_text="Past this many days without contact the customer counts as overdue.",
    )
    allow_automated_checkins = models.BooleanField(default=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers")
    needs = models.TextField("needs", blank=True)
    interests = models.TextField("interests", blank=True)
    referred_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    source = models.CharField(max_length=100, blank=True)
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    website = models.CharField(max_length=200, blank=True)
    website_domain = models.CharField(
        max_length=253, blank=True, editable=False,
        help_text="The website's domain (acme.example), by which an import may find the customer.",
    )

    # Kept up to date by the services that change them, so lists never scan touchpoints.
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    next_checkin_due = models.DateField(null=True, blank=True)
    lifetime_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    value_last_12_months = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0")
    )
    # The latest survey answer (kept by the surveys app when one arrives).
    last_survey_score = models.PositiveSmallIntegerField(null=True, blank=True)
    last_survey_kind = models.CharField(max_length=10, blank=True, help_text="nps or csat")
    last_survey_at = models.DateTimeField(null=True, blank=True)
    # The health score (kept by retention's health scan and its one-customer recompute).
    health_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text="0–100; empty while nothing is known about the customer.",
    )
    health_band = models.CharField(max_length=10, choices=HealthBand.choices, blank=True)
    health_factors = models.JSONField(
        default=dict, blank=True, help_text="Each factor's score and weight, and the reasons."
    )
    health_computed_at = models.DateTimeField(null=True, blank=True)
    # Set by changes from outside (a survey answer); the health sweep recomputes them each minute.
    health_stale = models.BooleanField(default=False, db_default=False, editable=False)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["team", "name"], name="customer_team_name"),
            models.Index(fields=["owner", "next_checkin_due"], name="customer_owner_due"),
            models.Index(fields=["next_checkin_due"], name="customer_due"),
            models.Index(fields=["last_contacted_at"], name="customer_last_contact"),
            models.Index(fields=["-lifetime_value"], name="customer_value"),
            models.Index(fields=["customer_since"], name="customer_since"),
            models.Index(fields=["website_domain"], name="customer_website_domain",
                         condition=~Q(website_domain="")),
            models.Index(fields=["id"], name="customer_health_stale", condition=Q(health_stale=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_max_days__gte=models.F("cadence_days")),
                name="customer_cadence_max_gte_cadence",
                violation_error_message="“Overdue after” must be at least the check-in cadence.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customer_detail", args=[self.pk])

    @property
    def is_archived(self):
        return self.archived_at is not None

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self):
        return timezone.now().astimezone(self.tz).date()

    def days_since_contact(self, today=None):
        if self.last_contacted_at is None:
            return None
        today = today or self.local_today()
        return (today - self.last_contacted_at.astimezone(self.tz).date()).days

    def checkin_clock_start(self):
        """The date the check-in clock runs from: the last contact, else when they joined."""
        if self.last_contacted_at is not None:
            return self.last_contacted_at.astimezone(self.tz).date()
        if self.customer_since is not None:
            return self.customer_since
        created = self.created_at or timezone.now()
        return created.astimezone(self.tz).date()

    def compute_next_checkin_due(self):
        return self.checkin_clock_start() + datetime.timedelta(days=self.cadence_days)

    def checkin_state(self, today=None):
        """'ok', 'due' (past the cadence) or 'overdue' (past the maximum)."""
        if self.next_checkin_due is None:
            return "ok"
        today = today or self.local_today()
        # Counted from the due date, so a snoozed check-in is not overdue before its new date.
        overdue_on = self.next_checkin_due + datetime.timedelta(
            days=self.cadence_max_days - self.cadence_days
        )
        if today >= overdue_on:
            return "overdue"
        if today >= self.next_checkin_due:
            return "due"
        return "ok"

    def primary_contact(self):
        contacts = list(self.contacts.all())
        for contact in contacts:
            if contact.is_primary:
                return contact
        return contacts[0] if contacts else None


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # A birthday may be known without its year, so it is kept in parts.
    birthday_year = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    birthday_day = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    is_primary = models.BooleanField("primary contact", default=False)
    last_verified_on = models.DateField(
        null=True, blank=True, help_text="When someone last confirmed these details are current."
    )
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    unsubscribe_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # The customer's book, kept by the database, so Today reads a book's birthdays of the week
    # without looking up every customer who has one (customers/books.py).
    team, owner = copy_fields("team", "owner").values()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_primary", "name", "pk"]
        indexes = [
            models.Index(fields=["birthday_month", "birthday_day"], name="contact_birthday"),
            models.Index(fields=["owner", "birthday_month", "birthday_day"], name="contact_book_birthday"),
            models.Index(fields=["email"], name="contact_email"),
            # An import finds a customer by a contact's email, regardless of case.
            models.Index(Lower("email"), name="contact_email_lower"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(birthday_month__isnull=True, birthday_day__isnull=True,
                            birthday_year__isnull=True)
                | Q(birthday_month__isnull=False, birthday_day__isnull=False),
                name="contact_birthday_complete",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def first_name(self):
        return self.name.split()[0] if self.name.strip() else ""

    @property
    def is_subscribed(self):
        return self.unsubscribed_at is None

    @property
    def birthday_display(self):
        """ISO form: ``YYYY-MM-DD``, or ``--MM-DD`` when the year is not known."""
        if self.birthday_month is None:
            return ""
        if self.birthday_year:
            return f"{self.birthday_year:04d}-{self.birthday_month:02d}-{self.birthday_day:02d}"
        return f"--{self.birthday_month:02d}-{self.birthday_day:02d}"


class KeyDate(models.Model):
    """A special occasion for a customer or one of its contacts, besides birthdays."""

    class Recurrence(models.TextChoices):
        YEARLY = "yearly", "Every year"
        ONCE = "once", "Once"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="key_dates")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="key_dates"
    )
    name = models.CharField(max_length=100)
    date = models.DateField()
    recurrence = models.CharField(max_length=10, choices=Recurrence.choices, default=Recurrence.YEARLY)

    class Meta:
        ordering = ["date", "pk"]

    def __str__(self):
        return f"{self.name} ({self.date:%Y-%m-%d})"


class Purchase(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases")
    date = models.DateField(default=datetime.date.today)
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    description = models.CharField(max_length=200, blank=True)
    # The order number in the shop or billing system it came from: sent again, it updates the purchase.
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["customer", "-date"], name="purchase_customer_date")]

    def __str__(self):
        return f"{self.amount} on {self.date:%Y-%m-%d}"


class CustomerChange(models.Model):
    """One field of one customer changed by one person: the customer's history."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    field = models.CharField(max_length=50)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="The customer's version this change produced."
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["customer", "-changed_at"], name="change_customer_time")]

    def __str__(self):
        return f"{self.field}: {self.old_value!r} → {self.new_value!r}"


# The tables of the CSV import and export and of the audit log live beside; Django finds them here.
from .audit import AuditEvent  # noqa: E402,F401
from .csv_models import CustomerImport, CustomerImportRow, ExportLog, ImportMapping  # noqa: E402,F401
