"""The forms of the survey pages: the customer's answer, and what managers set up and triage."""

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from customers.models import Customer
from customers.selectors import assignable_users
from retention.typed import TypedDates
from touchpoints.models import Touchpoint

from .answers import ANSWER_MAX_LENGTH
from .models import Campaign, Question, Suggestion, Survey
from .services import MAX_QUESTIONS


def _no_form_tag(form):
    form.helper = FormHelper()
    form.helper.form_tag = False


class AnswerForm(forms.Form):
    """The score, the free text and the further questions; ``step=score`` is the one-click post."""

    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Your score")
    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, survey, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.questions = list(questions)
        self.fields["score"].choices = [(n, str(n)) for n in survey.score_range]
        self.fields["score"].label = survey.question
        self.fields["score"].error_messages["required"] = "Choose a score: click one of the numbers."
        self.fields["score"].error_messages["invalid_choice"] = (
            f"Choose a score from {survey.score_range[0]} to {survey.score_range[-1]}."
        )
        self.fields["comment"].label = survey.comment_prompt
        for question in self.questions:
            name = f"q{question.pk}"
            if question.kind == Question.Kind.TEXT:
                field = forms.CharField(
                    required=False, max_length=ANSWER_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
                )
            else:
                options = (
                    [str(n) for n in range(1, 6)]
                    if question.kind == Question.Kind.SCALE
                    else question.choice_list
                )
                field = forms.ChoiceField(
                    required=False, choices=[(o, o) for o in options], widget=forms.RadioSelect
                )
            field.label = question.text
            field.question = question
            self.fields[name] = field

    @property
    def is_one_click(self):
        return self.data.get("step") == "score"

    def extra_answers(self):
        return {q.pk: self.cleaned_data.get(f"q{q.pk}") or "" for q in self.questions}

    def question_fields(self):
        return [self[f"q{q.pk}"] for q in self.questions]


class SurveyForm(forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["name", "kind", "question", "comment_prompt", "valid_days", "is_active"]
        labels = {"question": "The score question", "is_active": "On (campaigns and triggers may use it)"}
        widgets = {"kind": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs["autofocus"] = True
        _no_form_tag(self)


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(choices=Question.Kind.choices, initial=Question.Kind.SCALE, required=False)
    text = forms.CharField(max_length=300, required=False, label="Question")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Single choice: one option a line.",
    )


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=0, min_num=MAX_QUESTIONS, max_num=MAX_QUESTIONS, validate_max=True
)


def question_initial(survey):
    rows = (
        [{"kind": q.kind, "text": q.text, "choices": q.choices} for q in survey.questions.all()]
        if survey.pk
        else []
    )
    return rows + [{} for _ in range(MAX_QUESTIONS - len(rows))]


class CampaignForm(TypedDates, forms.Form):
    """A campaign: which survey, to whom (the customer list's filters), when."""

    WHEN = [("now", "Send now"), ("later", "Send at a set time")]

    survey = forms.ModelChoiceField(queryset=Survey.objects.filter(is_active=True).order_by("-kind", "name"),
                                    empty_label=None)
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="For the results; the survey's name and the date if left empty.",
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Customer.Status.choices],
        required=False,
        initial=Customer.Status.ACTIVE,
        label="Customer status",
    )
    team = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False, label="Account manager")
    tag = forms.CharField(max_length=50, required=False)
    when = forms.ChoiceField(choices=WHEN, initial="now", widget=forms.RadioSelect)
    scheduled_for = forms.DateTimeField(
        required=False, label="Send at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reminder_days = forms.IntegerField(
        min_value=0,
        max_value=60,
        initial=5,
        label="Remind after (days)",
        help_text="One reminder to those who have not answered; 0 for none.",
    )

    def __init__(self, *args, user, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "Every team you see"), *[(str(t.pk), t.name) for t in teams]]
        self.fields["owner"].choices = [
            ("", "Anyone"),
            *[(str(u.pk), u.get_full_name() or u.username) for u in assignable_users(user)],
        ]
        self.fields["survey"].label_from_instance = lambda s: f"{s.name} · {s.get_kind_display()}"
        _no_form_tag(self)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") == "later":
            at = cleaned.get("scheduled_for")
            if at is None:
                self.add_error("scheduled_for", "Choose when to send it.")
            elif at <= timezone.now():
                self.add_error("scheduled_for", "Choose a time in the future, or send now.")
        return cleaned

    def filters(self):
        return {
            key: self.cleaned_data[key].strip()
            for key in ("status", "team", "owner", "tag")
            if self.cleaned_data.get(key, "").strip()
        }


class TriggerForm(forms.ModelForm):
    on = forms.BooleanField(required=False, label="On")

    class Meta:
        model = Campaign
        fields = ["survey", "trigger_days", "reminder_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = Survey.objects.filter(is_active=True).order_by("-kind", "name")
        self.fields["survey"].empty_label = None  # NPS surveys first: the usual choice
        self.fields["on"].initial = self.instance.status == Campaign.Status.ON
        self.fields["trigger_days"].label = (
            "Every (months)" if self.instance.trigger == Campaign.Trigger.PERIODIC else "After (days)"
        )
        self.fields["trigger_days"].help_text = ""
        _no_form_tag(self)


class SuggestionForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in Suggestion.Status.choices if c[0] != "merged"])
    theme = forms.CharField(
        max_length=80, required=False, widget=forms.TextInput(attrs={"list": "suggestion-themes"})
    )
    note = forms.CharField(
        required=False,
        label="What we did",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Told to each customer who asked when you mark it done.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == Suggestion.Status.DONE and not cleaned.get("note", "").strip():
            self.add_error("note", "Say in a sentence what was done: the customers who asked are told.")
        return cleaned


class FollowUpLogForm(forms.Form):
    """A touchpoint logged against a follow-up (a recovery call, a referral ask)."""

    kind = forms.ChoiceField(
        choices=[(k, label) for k, label in Touchpoint.Kind.choices if k in Touchpoint.CONTACT_KINDS],
        initial=Touchpoint.Kind.CALL,
    )
    summary = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autofocus": True}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
