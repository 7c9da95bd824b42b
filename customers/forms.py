import datetime
import re
import zoneinfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Contact, Customer, Team

BIRTHDAY_RE = re.compile(r"^(?:(?P<year>\d{4})|-)-(?P<month>\d{2})-(?P<day>\d{2})$")


def parse_birthday(value):
    """``YYYY-MM-DD`` or ``--MM-DD`` → (year or None, month, day); ValueError when not a date."""
    match = BIRTHDAY_RE.match(value.strip())
    if not match:
        raise ValueError("Use YYYY-MM-DD, or --MM-DD when the year is not known.")
    year = int(match["year"]) if match["year"] else None
    month, day = int(match["month"]), int(match["day"])
    try:
        datetime.date(year or 2000, month, day)  # 2000 is a leap year: allows 29 February
    except ValueError:
        raise ValueError("That is not a date on the calendar.") from None
    if year is not None and not 1900 <= year <= datetime.date.today().year:
        raise ValueError("The year of birth looks wrong.")
    return year, month, day


def split_tags(value):
    """'a; b, c' → ['a', 'b', 'c'], without blanks or repeats, case kept."""
    seen, tags = set(), []
    for name in re.split(r"[;,]", value or ""):
        name = name.strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            tags.append(name[:50])
    return tags


def assignable_users(user):
    """People a user may make owner: the members of the teams the user sees."""
    User = get_user_model()
    teams = Team.objects.visible_to(user)
    return (
        User.objects.filter(is_active=True)
        .filter(Q(teams__in=teams) | Q(managed_teams__in=teams) | Q(pk=user.pk))
        .distinct()
        .order_by("username")
    )


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class CustomerForm(forms.ModelForm):
    tags = forms.CharField(
        required=False, help_text="Separate tags with semicolons or commas.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. enterprise; renewal-2027"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = UserChoiceField(queryset=None, required=False)

    class Meta:
        model = Customer
        fields = [
            "name", "status", "churn_reason", "customer_since", "owner", "team", "timezone",
            "cadence_days", "cadence_max_days", "allow_automated_checkins", "source",
            "external_id", "needs", "interests",
        ]
        widgets = {
            "customer_since": forms.DateInput(attrs={"type": "date"}),
            "needs": forms.Textarea(attrs={"rows": 3}),
            "interests": forms.Textarea(attrs={"rows": 3}),
            "churn_reason": forms.Textarea(attrs={"rows": 2}),
            "timezone": forms.TextInput(attrs={"list": "timezones"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.visible_to(user)
        self.fields["owner"].queryset = assignable_users(user)
        self.fields["name"].widget.attrs["autofocus"] = True
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["tags"].initial = "; ".join(t.name for t in self.instance.tags.all())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "name",
            Row(Column("status"), Column("customer_since")),
            "churn_reason",
            Row(Column("owner"), Column("team")),
            Row(Column("timezone"), Column("cadence_days"), Column("cadence_max_days")),
            "allow_automated_checkins",
            "tags",
            Row(Column("source"), Column("external_id")),
            "needs",
            "interests",
            "version",
        )

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(
                "Not a known time zone; use an IANA name such as Europe/Berlin."
            )
        return value

    def clean_external_id(self):
        return (self.cleaned_data["external_id"] or "").strip() or None

    def clean_tags(self):
        return split_tags(self.cleaned_data["tags"])

    def clean(self):
        cleaned = super().clean()
        cadence, maximum = cleaned.get("cadence_days"), cleaned.get("cadence_max_days")
        if cadence and maximum and maximum < cadence:
            self.add_error("cadence_max_days", "Must be at least the check-in cadence.")
        if cleaned.get("status") == Customer.Status.CHURNED and not cleaned.get("churn_reason"):
            self.add_error("churn_reason", "Say why the customer churned.")
        owner, team = cleaned.get("owner"), cleaned.get("team")
        if owner and team and not (
            owner.is_superuser or team.members.filter(pk=owner.pk).exists()
            or team.managers.filter(pk=owner.pk).exists()
        ):
            self.add_error("owner", f"{owner} is not in the team {team}.")
        return cleaned

    def service_data(self):
        """Every edited field, tags as a list of names, for ``customer_update``."""
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "tags"]}


class ContactForm(forms.ModelForm):
    birthday = forms.CharField(
        required=False, help_text="YYYY-MM-DD, or --MM-DD when the year is not known.",
        widget=forms.TextInput(attrs={"placeholder": "--03-14"}),
    )

    class Meta:
        model = Contact
        fields = ["name", "role", "email", "phone", "is_primary", "last_verified_on"]
        widgets = {"last_verified_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        if self.instance.pk:
            self.fields["birthday"].initial = self.instance.birthday_display
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_birthday(self):
        value = self.cleaned_data["birthday"].strip()
        if not value:
            return None
        try:
            return parse_birthday(value)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def save(self, commit=True):
        contact = super().save(commit=False)
        year, month, day = self.cleaned_data["birthday"] or (None, None, None)
        contact.birthday_year, contact.birthday_month, contact.birthday_day = year, month, day
        return contact
