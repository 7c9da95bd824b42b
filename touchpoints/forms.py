import datetime

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Layout, Row
from django import forms
from django.utils import timezone

from retention.typed import TypedDates

from .models import Complaint, Promise, Touchpoint


class ContactChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.role})" if obj.role else obj.name


class TouchpointForm(TypedDates, forms.ModelForm):
    contacts = ContactChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    # A promise made during the touch (new touchpoints only).
    promise_description = forms.CharField(
        label="What was promised", max_length=300, required=False,
        help_text="To the first contact chosen above.",
    )
    promise_due_on = forms.DateField(
        label="Due on", required=False, widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Touchpoint
        fields = ["kind", "direction", "happened_at", "contacts", "outcome", "mood",
                  "duration_minutes", "summary", "notes"]
        widgets = {
            "happened_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"duration_minutes": "Minutes"}

    def __init__(self, *args, customer, contacts=None, **kwargs):
        """``contacts``: the customer's contacts already loaded, to render the choices from."""
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["contacts"].queryset = customer.contacts.all()
        if contacts is None:
            contacts = self.fields["contacts"].queryset
        else:  # no second query (a server-side cursor on PostgreSQL) to list them again
            field = self.fields["contacts"]
            field.choices = [(c.pk, field.label_from_instance(c)) for c in contacts]
        self.fields["kind"].choices = [
            c for c in Touchpoint.Kind.choices if c[0] != Touchpoint.Kind.SYSTEM
        ]
        for name in ("outcome", "mood"):  # an empty choice in words, not "---------"
            self.fields[name].choices = [("", "Not set"), *self.fields[name].choices[1:]]
        self.fields["summary"].widget.attrs.update(
            {"placeholder": "What was it about?", "data-autofocus-wide": True}
        )
        if not self.instance.pk:
            self.initial.setdefault("happened_at", timezone.localtime().replace(second=0, microsecond=0))
            primary = next((c for c in contacts if c.is_primary), None)
            if primary is not None:
                self.initial.setdefault("contacts", [primary.pk])
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "summary",
            Row(Column("kind"), Column("direction"), Column("happened_at")),
            Row(Column("outcome"), Column("mood"), Column("duration_minutes")),
            "contacts",
            "notes",
        )
        if self.instance.pk:
            del self.fields["promise_description"], self.fields["promise_due_on"]
        else:
            # A promise made during the touch, folded away until wanted.
            self.helper.layout.append(Layout(
                HTML('<details class="mb-3"{% if form.promise_description.value or '
                     'form.promise_due_on.errors %} open{% endif %}><summary class="mb-2">'
                     'Promise made?</summary>'),
                Row(Column("promise_description", css_class="col-md-8"),
                    Column("promise_due_on", css_class="col-md-4")),
                HTML("</details>"),
            ))

    def clean_happened_at(self):
        value = self.cleaned_data["happened_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("A touchpoint cannot be in the future.")
        return value

    def clean(self):
        data = super().clean()
        what, due = data.get("promise_description", "").strip(), data.get("promise_due_on")
        if what and not due and "promise_due_on" not in self.errors:
            self.add_error("promise_due_on", "When is it due?")
        if due and not what:
            self.add_error("promise_description", "What was promised?")
        if due and due < self.customer.local_today():
            self.add_error("promise_due_on", "A new promise cannot be due in the past.")
        return data

    def log_arguments(self):
        """The cleaned data as ``touchpoint_log`` takes it: fields, contacts and any promise."""
        data = dict(self.cleaned_data)
        what, due = data.pop("promise_description", ""), data.pop("promise_due_on", None)
        contacts = data.pop("contacts")
        data["contacts"] = contacts
        if what:
            contact = contacts[0] if contacts else None
            data["promise"] = {"description": what, "due_on": due, "contact": contact}
        return data


CONTACT_KINDS = [c for c in Touchpoint.Kind.choices if c[0] != Touchpoint.Kind.SYSTEM]


class QuickLogForm(forms.Form):
    """Today's one-line log: what kind, how it went, what it was about; now, the primary contact."""

    kind = forms.ChoiceField(
        choices=CONTACT_KINDS, initial=Touchpoint.Kind.CALL,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    outcome = forms.ChoiceField(
        choices=[("", "Outcome…"), *Touchpoint.Outcome.choices], required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    summary = forms.CharField(max_length=200, widget=forms.TextInput(attrs={
        "class": "form-control form-control-sm", "placeholder": "What was it about?",
        "autofocus": True,
    }))

    def __init__(self, *args, customer, **kwargs):
        # Several of these forms can be open on Today at once: ids unique per customer.
        kwargs.setdefault("auto_id", f"quick-{customer.pk}-%s")
        super().__init__(*args, **kwargs)
        if self.errors.get("summary"):
            self.fields["summary"].widget.attrs["class"] += " is-invalid"


def _contact_choices(field, customer, with_email=False):
    contacts = customer.contacts.all()
    if with_email:
        contacts = contacts.exclude(email="")
    field.queryset = contacts
    return contacts


class PromiseForm(TypedDates, forms.ModelForm):
    class Meta:
        model = Promise
        fields = ["description", "contact", "due_on"]
        widgets = {"due_on": forms.DateInput(attrs={"type": "date"})}
        labels = {"contact": "To"}

    def __init__(self, *args, customer, autofocus=False, **kwargs):
        kwargs.setdefault("auto_id", "promise_%s")  # beside the log form on the customer page
        super().__init__(*args, **kwargs)
        self.customer = customer
        contacts = _contact_choices(self.fields["contact"], customer)
        self.fields["contact"].label_from_instance = lambda c: c.name
        self.fields["contact"].empty_label = "The customer as a whole"
        if not self.is_bound:
            primary = next((c for c in contacts if c.is_primary), None)
            self.initial.setdefault("contact", primary.pk if primary else None)
            self.initial.setdefault("due_on", customer.local_today() + datetime.timedelta(days=7))
        self.fields["description"].widget.attrs["placeholder"] = "Send the revised quote"
        if autofocus:
            self.fields["description"].widget.attrs["autofocus"] = True
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "description", Row(Column("contact", css_class="col-7"), Column("due_on", css_class="col-5"))
        )

    def clean_due_on(self):
        due = self.cleaned_data["due_on"]
        if due < self.customer.local_today():
            raise forms.ValidationError("A new promise cannot be due in the past.")
        return due


class PromiseCloseForm(TypedDates, forms.Form):
    status = forms.ChoiceField(choices=[
        (Promise.Status.KEPT, "Kept"), (Promise.Status.EXCEEDED, "Exceeded"),
        (Promise.Status.BROKEN, "Broken"),
    ])
    kept_on = forms.DateField(required=False)


class ComplaintForm(TypedDates, forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ["summary", "severity", "contact", "opened_at", "description"]
        widgets = {
            "opened_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"contact": "From", "opened_at": "Received"}

    def __init__(self, *args, customer, autofocus=False, **kwargs):
        kwargs.setdefault("auto_id", "complaint_%s")  # beside the log form on the customer page
        super().__init__(*args, **kwargs)
        self.customer = customer
        _contact_choices(self.fields["contact"], customer)
        self.fields["contact"].label_from_instance = lambda c: c.name
        self.fields["contact"].empty_label = "The customer as a whole"
        self.fields["summary"].widget.attrs["placeholder"] = "What is the complaint about?"
        if autofocus:
            self.fields["summary"].widget.attrs["autofocus"] = True
        if not self.is_bound:
            self.initial.setdefault(
                "opened_at", timezone.localtime().replace(second=0, microsecond=0)
            )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "summary",
            Row(Column("severity"), Column("contact"), Column("opened_at")),
            "description",
        )

    def clean_opened_at(self):
        value = self.cleaned_data["opened_at"]
        if value > timezone.now() + datetime.timedelta(minutes=5):
            raise forms.ValidationError("A complaint cannot be received in the future.")
        return value


class ComplaintResolveForm(forms.Form):
    resolution_notes = forms.CharField(
        label="How was it resolved?", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000
    )


class SnoozeForm(TypedDates, forms.Form):
    until = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="Why", max_length=200)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        if not self.is_bound:
            self.initial.setdefault("until", customer.local_today() + datetime.timedelta(days=7))

    def clean_until(self):
        until = self.cleaned_data["until"]
        today = self.customer.local_today()
        if until <= today:
            raise forms.ValidationError("Choose a date after today.")
        if until > today + datetime.timedelta(days=365):
            raise forms.ValidationError("Snooze for at most a year.")
        return until


class MeetingNotesForm(forms.Form):
    contacts = ContactChoiceField(
        queryset=None, label="To", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one attendee with an email address."},
    )
    # Enter in the subject must not send the email: sending is only ever the button.
    subject = forms.CharField(max_length=300, widget=forms.TextInput(
        attrs={"data-enter-does-not-submit": ""}))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 16, "class": "font-monospace"}))

    def __init__(self, *args, touchpoint, **kwargs):
        super().__init__(*args, **kwargs)
        _contact_choices(self.fields["contacts"], touchpoint.customer, with_email=True)
        self.fields["contacts"].label_from_instance = lambda c: f"{c.name} <{c.email}>"
        self.helper = FormHelper()
        self.helper.form_tag = False
