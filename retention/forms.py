"""Forms of the pages composed here: the user's own profile (the weekly digest)."""

from django import forms

from customers.parsing import is_timezone_name

from .models import DigestPreference


class DigestPreferenceForm(forms.ModelForm):
    class Meta:
        model = DigestPreference
        fields = ["weekly_digest", "timezone"]

    def clean_timezone(self):
        value = self.cleaned_data["timezone"].strip()
        if not is_timezone_name(value):
            raise forms.ValidationError(
                f"“{value}” is not a known time zone; use an IANA name such as Europe/Berlin.")
        return value
