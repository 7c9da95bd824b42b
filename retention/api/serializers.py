"""
What the API reads and writes, resource by resource.

Reading: each resource as it stands, people by username, related records by id, money as a decimal
string. Writing: the serializers check the JSON types (and document them in the schema); the rules
are the pages' own, through their forms (``binding``), so nothing is checked twice in two ways.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers.models import Contact, Customer, KeyDate, Purchase
from surveys.models import Response
from touchpoints.models import Complaint, Promise, Touchpoint


def username_field(**kwargs):
    return serializers.SlugRelatedField(slug_field="username", read_only=True, **kwargs)


def choice_or_blank(choices, **kwargs):
    """A read-only choice that may be empty (not set, or not known yet)."""
    return serializers.ChoiceField(choices, allow_blank=True, read_only=True, **kwargs)


class ContactSerializer(serializers.ModelSerializer):
    birthday = serializers.CharField(
        source="birthday_display", read_only=True,
        help_text="YYYY-MM-DD, or --MM-DD when the year is not known; empty when unknown.")
    subscribed = serializers.BooleanField(source="is_subscribed", read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "name", "role", "email", "phone", "birthday", "is_primary",
                  "last_verified_on", "subscribed"]
        read_only_fields = fields


class KeyDateSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyDate
        fields = ["id", "name", "date", "recurrence", "contact"]
        read_only_fields = fields


class KeyDateWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id (on creation only).")
    name = serializers.CharField(max_length=100)
    date = serializers.DateField()
    recurrence = serializers.ChoiceField(KeyDate.Recurrence.choices, required=False)
    contact = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="One of the customer's contacts; none: the customer.")


class KeyDateDetailSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeyDate
        fields = ["id", "customer", "name", "date", "recurrence", "contact"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    owner = username_field(allow_null=True)
    team_name = serializers.CharField(source="team.name", read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    contacts = ContactSerializer(many=True, read_only=True)
    key_dates = KeyDateSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField(help_text="The customer's page.")
    health_band = choice_or_blank(Customer.HealthBand.choices, help_text="Empty while the score is unknown.")
    last_survey_kind = choice_or_blank([("nps", "NPS"), ("csat", "CSAT")])

    class Meta:
        model = Customer
        fields = [
            "id", "external_id", "name", "status", "churn_reason", "customer_since", "owner", "team",
            "team_name", "timezone", "cadence_days", "cadence_max_days", "allow_automated_checkins",
            "tags", "source", "website", "needs", "interests", "referred_by", "last_contacted_at",
            "next_checkin_due", "lifetime_value", "value_last_12_months", "last_survey_score",
            "last_survey_kind", "last_survey_at", "health_score", "health_band", "version",
            "created_at", "updated_at", "archived_at", "contacts", "key_dates", "url",
        ]
        read_only_fields = fields

    def get_url(self, customer) -> str:
        return settings.SITE_URL + customer.get_absolute_url()


class CustomerWriteSerializer(serializers.Serializer):
    """A customer to create or change. Left out on a change, a field keeps its value."""

    name = serializers.CharField(max_length=200)
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    status = serializers.ChoiceField(Customer.Status.choices, required=False)
    churn_reason = serializers.CharField(required=False, allow_blank=True)
    customer_since = serializers.DateField(required=False, allow_null=True)
    owner = serializers.CharField(required=False, allow_null=True, help_text="A username.")
    team = serializers.IntegerField(required=False, help_text="The team's id.")
    timezone = serializers.CharField(max_length=64, required=False)
    cadence_days = serializers.IntegerField(required=False, min_value=1, max_value=366)
    cadence_max_days = serializers.IntegerField(required=False, min_value=1, max_value=732)
    allow_automated_checkins = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    source = serializers.CharField(max_length=100, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    needs = serializers.CharField(required=False, allow_blank=True)
    interests = serializers.CharField(required=False, allow_blank=True)
    referred_by = serializers.CharField(
        max_length=200, required=False, allow_null=True, allow_blank=True,
        help_text="The referrer's external id or exact name.")
    version = serializers.IntegerField(
        required=False, min_value=1,
        help_text="On a change: the version it is based on. If the customer has changed since, "
                  "the answer is 409 and nothing is saved.")

    def form_data(self):
        """The validated fields as the customer form takes them."""
        data = dict(self.validated_data)
        data.pop("version", None)
        if "tags" in data:
            data["tags"] = "; ".join(data["tags"])
        if "owner" in data:
            data["owner"] = _user_pk(data["owner"])
        for name in ("external_id", "referred_by", "customer_since"):
            if name in data and data[name] is None:
                data[name] = ""
        return data


def _user_pk(username):
    """A username as the form's choice of user: its id, or a value no choice matches."""
    if not username:
        return ""
    pk = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    if pk is None:
        raise serializers.ValidationError({"owner": [f"There is no user “{username}”."]})
    return pk


class ContactWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id (on creation only).")
    name = serializers.CharField(max_length=200)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=50, required=False, allow_blank=True)
    birthday = serializers.CharField(required=False, allow_blank=True,
                                     help_text="YYYY-MM-DD, or --MM-DD when the year is not known.")
    is_primary = serializers.BooleanField(required=False)
    last_verified_on = serializers.DateField(required=False, allow_null=True)


class PurchaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Purchase
        fields = ["id", "customer", "external_id", "date", "amount", "description", "created_at"]
        read_only_fields = fields


class PurchaseWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id.")
    external_id = serializers.CharField(
        max_length=100, required=False, allow_null=True,
        help_text="The order number: sent again, it updates that purchase instead of adding one.")
    date = serializers.DateField(required=False)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class TouchpointSerializer(serializers.ModelSerializer):
    author = username_field(allow_null=True)
    outcome = choice_or_blank(Touchpoint.Outcome.choices)
    mood = choice_or_blank(Touchpoint.Mood.choices)

    class Meta:
        model = Touchpoint
        fields = ["id", "customer", "kind", "direction", "happened_at", "duration_minutes", "outcome",
                  "mood", "summary", "notes", "contacts", "author", "created_at", "updated_at"]
        read_only_fields = fields


class TouchpointWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id (on creation only).")
    kind = serializers.ChoiceField(
        [c for c in Touchpoint.Kind.choices if c[0] != Touchpoint.Kind.SYSTEM], required=False)
    direction = serializers.ChoiceField(Touchpoint.Direction.choices, required=False)
    happened_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=0,
                                                max_value=2_147_483_647)
    outcome = serializers.ChoiceField(Touchpoint.Outcome.choices, required=False, allow_blank=True)
    mood = serializers.ChoiceField(Touchpoint.Mood.choices, required=False, allow_blank=True)
    summary = serializers.CharField(max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True)
    contacts = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="Ids of the customer's contacts who took part.")


class PromiseSerializer(serializers.ModelSerializer):
    owner = username_field(allow_null=True)

    class Meta:
        model = Promise
        fields = ["id", "customer", "contact", "touchpoint", "owner", "description", "due_on", "status",
                  "kept_on", "notes", "created_at", "closed_at"]
        read_only_fields = fields


class PromiseWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id.")
    description = serializers.CharField(max_length=300)
    due_on = serializers.DateField()
    contact = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="To one of the customer's contacts; none: the customer.")


class PromiseCloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField([Promise.Status.KEPT, Promise.Status.EXCEEDED, Promise.Status.BROKEN])
    kept_on = serializers.DateField(required=False, allow_null=True,
                                    help_text="When it was delivered; today by default.")


class ComplaintSerializer(serializers.ModelSerializer):
    handled_by = username_field(allow_null=True)
    opened_by = username_field(allow_null=True)

    class Meta:
        model = Complaint
        fields = ["id", "customer", "contact", "summary", "description", "severity", "status",
                  "opened_at", "first_response_due_at", "resolution_due_at", "acknowledged_at",
                  "resolved_at", "closed_at", "resolution_notes", "handled_by", "opened_by"]
        read_only_fields = fields


class ComplaintWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id.")
    summary = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(Complaint.Severity.choices, required=False)
    contact = serializers.IntegerField(required=False, allow_null=True)
    opened_at = serializers.DateTimeField(required=False, help_text="When it was received; now by default.")
    description = serializers.CharField(required=False, allow_blank=True)


class ComplaintResolveSerializer(serializers.Serializer):
    resolution_notes = serializers.CharField(max_length=5000)


class SurveyResponseSerializer(serializers.ModelSerializer):
    survey = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = Response
        fields = ["id", "customer", "survey", "campaign", "kind", "score", "category", "comment",
                  "created_at", "updated_at"]
        read_only_fields = fields


class HealthSerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="pk", read_only=True)
    score = serializers.IntegerField(source="health_score", read_only=True, allow_null=True)
    band = choice_or_blank(Customer.HealthBand.choices, source="health_band",
                           help_text="Empty while the score is unknown.")
    factors = serializers.JSONField(
        source="health_factors", read_only=True,
        help_text="Each factor's score (0–100, or null when unknown) and weight, and the reasons.")
    computed_at = serializers.DateTimeField(source="health_computed_at", read_only=True, allow_null=True)

    class Meta:
        model = Customer
        fields = ["customer", "name", "score", "band", "factors", "computed_at"]
        read_only_fields = fields


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    ids = serializers.ListField(child=serializers.IntegerField(),
                                help_text="The ids of the items, in the order sent.")
