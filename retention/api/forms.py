"""The form that makes an API token on the profile page."""

from django import forms

from .models import ApiToken

EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What it is for, to tell your tokens apart.",
        widget=forms.TextInput(attrs={"placeholder": "Accounting sync"}),
        error_messages={"required": "Give the token a name."},
    )
    expires_in_days = forms.TypedChoiceField(
        label="Expires", choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False,
    )

