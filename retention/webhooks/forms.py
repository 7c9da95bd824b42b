"""The endpoint form: where events go and which ones. The address is checked as it is saved."""

from crispy_forms.helper import FormHelper
from django import forms

from .addresses import AddressRefused, target_for
from .events import CATALOGUE


class EndpointForm(forms.Form):
    url = forms.URLField(
        label="URL", max_length=500, assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/retention",
                                     "autocomplete": "url", "autofocus": True}),
        help_text="Where events are posted, over https. It must resolve to a public address.",
    )
    description = forms.CharField(
        max_length=200, required=False,
        help_text="What receives the events, for the people who read this page later.",
    )
    events = forms.MultipleChoiceField(
        label="Events", widget=forms.CheckboxSelectMultiple,
        choices=[(name, f"{name} — {meaning}") for name, meaning in CATALOGUE.items()],
        error_messages={"required": "Choose at least one event to send."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            target_for(url)
        except AddressRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url
