"""The forms of the Programs page (an admin tunes a program) and the Outbox page's filter."""

from crispy_forms.helper import FormHelper
from django import forms

from retention.typed import TypedDates

from ..models import OutboxMessage, Program
from .wording import TUNABLE, TemplateProblem, compile_template, render_template, sample_context


class ProgramForm(forms.ModelForm):
    """An admin tunes a program; its wording must compile and render, or nothing is saved."""

    class Meta:
        model = Program
        fields = ["enabled", "send_hour", "days", "audience", "subject", "body"]
        widgets = {
            "send_hour": forms.Select(choices=[(hour, f"{hour:02d}:00") for hour in range(24)]),
            "body": forms.Textarea(attrs={"rows": 14, "class": "font-monospace"}),
        }
        labels = {"send_hour": "Send at (customer's local time)", "enabled": "On"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in TUNABLE.get(self.instance.key, ()):
                del self.fields[name]
        if "days" in self.fields:
            self.fields["days"].label = (
                "Days ahead" if self.instance.key == "card_reminder" else "Days after the purchase"
            )
            self.fields["days"].help_text = ""
        for name in ("subject", "body"):
            if name in self.fields:
                self.fields[name].required = True
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        for name in ("subject", "body"):
            if name not in self.fields or not cleaned.get(name):
                continue
            try:
                template = compile_template(cleaned[name], label=f"The {name}")
                render_template(template, sample_context(), label=f"The {name}")
            except TemplateProblem as problem:
                self.add_error(name, str(problem))
        return cleaned


class OutboxFilterForm(TypedDates, forms.Form):
    program = forms.ChoiceField(choices=[("", "Any program"), *Program.Key.choices], required=False,
                                widget=forms.Select(attrs={"class": "form-select"}))
    status = forms.ChoiceField(choices=[("", "Any status"), *OutboxMessage.Status.choices],
                               required=False, widget=forms.Select(attrs={"class": "form-select"}))
    reason = forms.ChoiceField(choices=[("", "Any reason"), *OutboxMessage.Reason.choices],
                               required=False, widget=forms.Select(attrs={"class": "form-select"}))
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "form-control"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(
        attrs={"type": "date", "class": "form-control"}))
    ref = forms.CharField(
        label="Reference", required=False, max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off", "spellcheck": "false",
                                      "placeholder": "X-Retention-Occasion or Message-ID"}),
    )

    def clean_ref(self):
        return self.cleaned_data["ref"].strip()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Choose a date on or after the start.")
        return cleaned
