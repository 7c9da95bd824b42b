"""The health score's forms: the admin's weights and thresholds, a manager's override."""

import datetime

from django import forms
from django.utils import timezone

from retention.typed import TypedDates

from ..models import HealthWeights
from .overrides import MAX_DAYS, override_problems
from .weights import SETTINGS

DEFAULT_DAYS = 30  # an override's expiry date, unless the manager chooses another


class WeightsForm(forms.ModelForm):
    class Meta:
        model = HealthWeights
        fields = SETTINGS
        widgets = {name: forms.NumberInput(attrs={"min": 0, "max": 100, "step": 1}) for name in SETTINGS}

    def clean(self):
        data = super().clean()
        factors = [name for name in SETTINGS if name not in ("watch_from", "healthy_from")]
        if all(data.get(name) is not None for name in factors) and not any(data.get(n) for n in factors):
            raise forms.ValidationError("Give at least one factor a weight above 0.")
        watch, healthy = data.get("watch_from"), data.get("healthy_from")
        if watch is not None and healthy is not None and healthy <= watch:
            self.add_error("healthy_from", "“Healthy from” must be above “watch from”.")
        return data

    def proposed(self):
        """The weights as submitted, unsaved (after ``is_valid``)."""
        return HealthWeights(**{name: self.cleaned_data[name] for name in SETTINGS})


class OverrideForm(TypedDates, forms.Form):
    score = forms.IntegerField(min_value=0, max_value=100, label="Score (0–100)",
                               error_messages={"required": "Give a score from 0 to 100."})
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Why",
                              help_text="Shown with the score, with your name.",
                              error_messages={"required": "Say why: the comment is shown with the score."})
    expires_on = forms.DateField(label="Until", widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text=f"The score goes back to the factors' on this day; "
                                           f"{MAX_DAYS} days at most.",
                                 error_messages={"required": "Choose an expiry date after today.",
                                                 "invalid": "Enter the date as YYYY-MM-DD."})

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            min=(self.today + datetime.timedelta(days=1)).isoformat(),
            max=(self.today + datetime.timedelta(days=MAX_DAYS)).isoformat())
        self.fields["expires_on"].initial = self.today + datetime.timedelta(days=DEFAULT_DAYS)
        self.fields["score"].widget.attrs["autofocus"] = True

    def clean(self):
        data = super().clean()
        if all(name in data for name in ("score", "comment", "expires_on")):
            for field, message in override_problems(today=self.today, **data).items():
                self.add_error(field, message)
        return data
