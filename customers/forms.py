"""The customers app's forms: they validate what people type and hand it to the services."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from retention.typed import TypedDates

from .access import referrer_visible
from .changes import STATUS_TRANSITIONS, status_change_problems
from .csv_io.columns import CONTACT_TARGETS, CUSTOMER_TARGETS, TARGET_LABELS
from .csv_io.reading import DELIMITER_LABELS, ENCODINGS
from .models import Contact, Customer, KeyDate, Purchase, Team
from .parsing import is_timezone_name, parse_birthday, split_tags
from .selectors import assignable_users, reassign_candidates


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class CustomerForm(TypedDates, forms.ModelForm):
    tags = forms.CharField(
        required=False, help_text="Separate tags with semicolons or commas.",
        widget=forms.TextInput(attrs={"placeholder": "e.g. enterprise; renewal-2027"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = UserChoiceField(queryset=None, required=False)
    referred_by = forms.CharField(
        required=False, max_length=200,
        help_text="The external id or the exact name of the customer who referred this one.",
    )

    class Meta:
        model = Customer
        fields = [
            "name", "status", "churn_reason", "customer_since", "owner", "team", "timezone",
            "cadence_days", "cadence_max_days", "allow_automated_checkins", "source",
            "external_id", "website", "needs", "interests",
        ]
        widgets = {
            "customer_since": forms.DateInput(attrs={"type": "date"}),
            "needs": forms.Textarea(attrs={"rows": 3}),
            "interests": forms.Textarea(attrs={"rows": 3}),
            "churn_reason": forms.Textarea(attrs={"rows": 2}),
            "timezone": forms.TextInput(attrs={"list": "timezones"}),
            "website": forms.URLInput(attrs={"placeholder": "https://acme.example", "inputmode": "url"}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["team"].queryset = Team.objects.visible_to(user)
        self.fields["owner"].queryset = assignable_users(user)
        self.fields["owner"].empty_label = "Nobody"
        self.fields["team"].empty_label = "Choose a team…"
        self.fields["name"].widget.attrs["autofocus"] = True
        self.fields["churn_reason"].help_text = "Required when the status is churned."
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["tags"].initial = "; ".join(t.name for t in self.instance.tags.all())
            self.fields["referred_by"].initial = self._referrer_label()
            self.fields["status"].help_text = _next_statuses_help(self.instance.status)
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
            "website",
            "referred_by",
            "needs",
            "interests",
            "version",
        )

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        if not is_timezone_name(value):
            raise forms.ValidationError(
                "Not a known time zone; use an IANA name such as Europe/Berlin."
            )
        return value

    def clean_website(self):
        """An http(s) address; "acme.example" alone means https://acme.example."""
        value = self.cleaned_data["website"].strip()
        if not value:
            return ""
        if "://" not in value:
            value = f"https://{value}"
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise forms.ValidationError("Enter a web address such as https://acme.example.") from None
        return value

    def clean_external_id(self):
        return (self.cleaned_data["external_id"] or "").strip() or None

    def clean_tags(self):
        return split_tags(self.cleaned_data["tags"])

    # A referrer in a team the user does not see is kept, but not named (as on the customer page).
    HIDDEN_REFERRER = "(a customer of another team)"

    def _referrer_label(self):
        """How the current referrer shows in the field: its external id, else its name."""
        referrer = self.instance.referred_by if self.instance.referred_by_id else None
        if referrer is None:
            return ""
        if not referrer_visible(self.user, self.instance):
            return self.HIDDEN_REFERRER
        return referrer.external_id or referrer.name

    def clean_referred_by(self):
        """
        The customer typed in by external id or exact name, among those the user sees. Left as
        it was, the current referrer stays even if it could no longer be looked up that way.
        """
        value = self.cleaned_data["referred_by"].strip()
        if not value:
            return None
        if self.instance.pk and self.instance.referred_by_id and value == self._referrer_label():
            return self.instance.referred_by
        visible = Customer.objects.visible_to(self.user)
        matches = list(visible.filter(external_id=value)[:1])
        if not matches:
            matches = list(visible.filter(name__iexact=value).order_by("pk")[:2])
        if not matches:
            raise forms.ValidationError(
                f"No customer you can see has the external id or the name “{value}”."
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                f"More than one customer is called “{value}”; type its external id instead."
            )
        referrer = matches[0]
        if self.instance.pk and referrer.pk == self.instance.pk:
            raise forms.ValidationError("A customer cannot refer itself.")
        return referrer

    def clean(self):
        cleaned = super().clean()
        cadence, maximum = cleaned.get("cadence_days"), cleaned.get("cadence_max_days")
        if cadence and maximum and maximum < cadence:
            self.add_error("cadence_max_days", "Must be at least the check-in cadence.")
        status = cleaned.get("status")
        if status:
            # Said here with the other problems; customer_update enforces it whatever the caller.
            old = self.instance.status if self.instance.pk else status
            problems = status_change_problems(old=old, new=status,
                                              churn_reason=cleaned.get("churn_reason") or "")
            for field, message in problems.items():
                self.add_error(field, message)
        owner, team = cleaned.get("owner"), cleaned.get("team")
        # Who may own a team's customers: whoever sees the team (member, manager or admin).
        if owner and team and not Team.objects.visible_to(owner).filter(pk=team.pk).exists():
            self.add_error("owner", f"{owner} is not in the team {team}.")
        return cleaned

    def service_data(self):
        """Every edited field, tags as a list of names, for ``customer_update``."""
        return {
            name: self.cleaned_data[name] for name in [*self.Meta.fields, "tags", "referred_by"]
        }


def _next_statuses_help(status):
    labels = [Customer.Status(s).label.lower() for s in STATUS_TRANSITIONS.get(status, ())]
    if not labels:
        return ""
    return f"From {Customer.Status(status).label.lower()} it can become {' or '.join(labels)}."


class ContactForm(TypedDates, forms.ModelForm):
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


class PurchaseForm(TypedDates, forms.ModelForm):
    prefix = "purchase"  # it shares the customer page with other forms

    class Meta:
        model = Purchase
        fields = ["date", "amount", "description"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}),
            "amount": forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "inputmode": "decimal"}),
        }

    def __init__(self, *args, customer, autofocus=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["amount"].label = f"Amount ({settings.CURRENCY})"
        self.fields["date"].initial = customer.local_today
        self.fields["description"].widget.attrs["placeholder"] = "What was bought"
        if autofocus:
            self.fields["date"].widget.attrs["autofocus"] = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(Row(Column("date"), Column("amount")), "description")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount <= 0:
            raise forms.ValidationError("The amount must be more than zero.")
        return amount

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date and date > self.customer.local_today():
            raise forms.ValidationError("A purchase cannot be in the future.")
        return date


class KeyDateForm(TypedDates, forms.ModelForm):
    prefix = "key_date"  # it shares the customer page with other forms

    class Meta:
        model = KeyDate
        fields = ["name", "date", "recurrence", "contact"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}
        labels = {"name": "Occasion", "recurrence": "Repeats", "contact": "For contact"}

    def __init__(self, *args, customer, contacts=None, autofocus=False, **kwargs):
        """``contacts``: the customer's contacts already loaded, to render the choices from."""
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()
        self.fields["contact"].empty_label = "The customer as a whole"
        if contacts is not None:
            self.fields["contact"].choices = [("", "The customer as a whole")] + [
                (c.pk, c.name) for c in contacts
            ]
        self.fields["contact"].required = False
        self.fields["name"].widget.attrs["placeholder"] = "e.g. Wedding anniversary"
        if autofocus:
            self.fields["name"].widget.attrs["autofocus"] = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("name"), Column("date")), Row(Column("recurrence"), Column("contact"))
        )


class IdListField(forms.Field):
    """Many ``name=<id>`` values (ticked checkboxes) → a sorted list of distinct ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            return sorted({int(v) for v in value or ()})
        except (TypeError, ValueError):
            raise forms.ValidationError("Pick customers from the list.") from None


class ReassignForm(forms.Form):
    """The list page's bulk action: the ticked customers and their new owner."""

    MAX_CUSTOMERS = 500

    customers = IdListField(required=False)
    owner = UserChoiceField(queryset=None, label="New owner",
                            error_messages={"required": "Choose the new owner."})
    querystring = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = reassign_candidates(user)

    def clean_customers(self):
        ids = self.cleaned_data["customers"]
        if not ids:
            raise forms.ValidationError("Tick the customers to reassign first.")
        if len(ids) > self.MAX_CUSTOMERS:
            raise forms.ValidationError(f"Reassign at most {self.MAX_CUSTOMERS} customers at a time.")
        return ids


class CustomerImportForm(forms.Form):
    """The CSV upload; ``too_large`` when the upload handler stopped an over-large file."""

    file = forms.FileField(
        label="CSV file",
        help_text="An export of another CRM, a newsletter tool or a spreadsheet saved as CSV: any "
                  "encoding Excel writes, separated by commas, semicolons or tabs.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def __init__(self, *args, max_bytes, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.fields["file"].required = not too_large
        self.helper = FormHelper()
        self.helper.form_tag = False

    def _too_large_message(self):
        from django.template.defaultfilters import filesizeformat

        return (
            f"The file is larger than {filesizeformat(self.max_bytes)}, the most an import may be. "
            "Split it into smaller files and import them one after another."
        )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if self.too_large or (upload is not None and upload.size > self.max_bytes):
            raise forms.ValidationError(self._too_large_message())
        if upload is not None and upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class ImportMappingForm(forms.Form):
    """
    The mapping step: how to read the file (encoding, delimiter, date order), the field each column
    feeds (``column_<n>``, "" for none; several columns may feed one field), whether a website's
    domain finds customers, and a name to save the mapping under.
    """

    encoding = forms.ChoiceField(
        label="Encoding", choices=[(k, v[1]) for k, v in ENCODINGS.items()],
        widget=forms.Select(attrs={"class": "form-select", "data-reread": ""}),
    )
    delimiter = forms.ChoiceField(
        label="Columns separated by", choices=DELIMITER_LABELS.items(),
        widget=forms.Select(attrs={"class": "form-select", "data-reread": ""}),
    )
    date_order = forms.ChoiceField(
        label="Dates like 05/02/2024 are", choices=[("dmy", "day/month/year (5 February)"),
                                                    ("mdy", "month/day/year (May 2)")],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    match_website = forms.BooleanField(
        label="Also find existing customers by their website's domain", required=False,
        help_text="After the external id and the contact's email.",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    save_as = forms.CharField(
        label="Save this mapping as", max_length=100, required=False,
        help_text="Optional. A saved mapping is offered again for a file with the same columns.",
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )

    def __init__(self, *args, header, **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        for index, name in enumerate(header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=f"Import “{name.strip() or f'column {index + 1}'}” as", required=False,
                choices=TARGET_CHOICES,
                widget=forms.Select(attrs={"class": "form-select form-select-sm", "data-column": index}),
            )

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.header))]

    def clean(self):
        cleaned = super().clean()
        targets = self.targets()
        if not {"name", "contact_name", "contact_first_name", "contact_last_name"} & set(targets):
            raise forms.ValidationError(
                "Map a column to the customer name, or to the contact's name (or first and last "
                "name) for customers who are people."
            )
        return cleaned

    def targets(self):
        return [self.cleaned_data.get(f"column_{index}", "") or "" for index in range(len(self.header))]


TARGET_CHOICES = [
    ("", "Not imported"),
    ("Customer", [(target, TARGET_LABELS[target]) for target in CUSTOMER_TARGETS]),
    ("Contact", [(target, TARGET_LABELS[target]) for target in CONTACT_TARGETS]),
]
