"""The dashboard's small forms: a task for the owner, and the new owner of one customer."""

from django import forms
from django.contrib.auth import get_user_model

from retention.typed import TypedDates


class OwnerTaskForm(TypedDates, forms.Form):
    title = forms.CharField(label="Task for the owner", max_length=200,
                            error_messages={"required": "Say what the owner should do."})
    due_on = forms.DateField(label="Due", widget=forms.DateInput(attrs={"type": "date"}),
                             error_messages={"required": "Choose a due date.",
                                             "invalid": "Enter the date as YYYY-MM-DD."})


class CustomerReassignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="New owner",
                                   error_messages={
                                       "required": "Choose the new owner.",
                                       "invalid_choice": "Choose a member of the customer's team.",
                                   })

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = candidates
