from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from .models import Touchpoint


class ContactChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.role})" if obj.role else obj.name


class TouchpointForm(forms.ModelForm):
    contacts = ContactChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
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

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        contacts = customer.contacts.all()
        self.fields["contacts"].queryset = contacts
        self.fields["kind"].choices = [
            c for c in Touchpoint.Kind.choices if c[0] != Touchpoint.Kind.SYSTEM
        ]
        self.fields["summary"].widget.attrs.update(
            {"placeholder": "What was it about?", "autofocus": True}
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

    def clean_happened_at(self):
        value = self.cleaned_data["happened_at"]
        if value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("A touchpoint cannot be in the future.")
        return value
