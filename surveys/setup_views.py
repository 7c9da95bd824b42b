"""
The survey pages managers work on besides campaigns: the surveys themselves (create, edit, preview
as the customer will see it), the suggestions to triage, and logging a touchpoint against a
recovery or referral task.
"""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.access import manager_required, object_for_user, visible_customers
from retention.http import safe_next
from retention.pagination import paginate
from touchpoints.models import FollowUp
from touchpoints.services import touchpoint_log

from .forms import AnswerForm, FollowUpLogForm, QuestionFormSet, SuggestionForm, SurveyForm, question_initial
from .models import Invitation, Suggestion, Survey
from .services import survey_save
from .suggestions import suggestion_askers, suggestion_update, suggestions_merge

# Surveys ---------------------------------------------------------------------------------------


@manager_required
@require_GET
def survey_list(request):
    surveys = Survey.objects.annotate(invitation_count=Count("invitations")).order_by("-is_active", "name")
    return render(request, "surveys/surveys.html", {"surveys": surveys})


@manager_required
@require_http_methods(["GET", "POST"])
def survey_new(request):
    return _survey_form(request, Survey())


@manager_required
@require_http_methods(["GET", "POST"])
def survey_edit(request, name):
    return _survey_form(request, get_object_or_404(Survey, name=name))


def _survey_form(request, survey):
    # The form validates a copy: a refused edit must not rename the survey the page links to.
    form = SurveyForm(request.POST or None, instance=copy.copy(survey) if survey.pk else None)
    questions = QuestionFormSet(request.POST or None, initial=question_initial(survey), prefix="questions")
    if request.method == "POST":
        if form.is_valid() and questions.is_valid():
            try:
                saved = survey_save(
                    survey=survey,
                    data={f: form.cleaned_data[f] for f in form.fields},
                    questions=[q.cleaned_data for q in questions],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if survey.pk and saved.pk != survey.pk:
                    messages.success(
                        request,
                        f"“{saved.name}” was sent before, so your changes are its "
                        f"version {saved.version}; answers to the earlier one are kept.",
                    )
                else:
                    messages.success(request, f"“{saved.name}” was saved.")
                return redirect("surveys:survey_edit", name=saved.name)
        messages.error(request, "Nothing was saved: please correct the errors below.")
    return render(
        request, "surveys/survey_form.html", {"survey": survey, "form": form, "questions": questions}
    )


@manager_required
@require_GET
def survey_preview(request, name):
    """The survey page exactly as a customer sees it, with an example customer; nothing can be sent."""
    survey = get_object_or_404(Survey, name=name)
    questions = list(survey.questions.all())
    example = Invitation(survey=survey, token="preview", expires_at=Invitation.default_expiry(survey))
    return render(
        request,
        "surveys/public/answer.html",
        {
            "invitation": example,
            "survey": survey,
            "form": AnswerForm(survey=survey, questions=questions),
            "questions": questions,
            "preview": True,
            "customer_name": "Example Ltd",
        },
    )


# Suggestions -----------------------------------------------------------------------------------


@manager_required
@require_GET
def suggestion_list(request):
    status = request.GET.get("status", "open")
    theme = request.GET.get("theme", "").strip()
    suggestions = Suggestion.objects.visible_to(request.user).exclude(status=Suggestion.Status.MERGED)
    themes = list(
        suggestions.exclude(theme="").order_by().values("theme").annotate(n=Count("pk")).order_by("theme")
    )
    if status == "open":
        suggestions = suggestions.open()
    elif status in Suggestion.Status.values:
        suggestions = suggestions.filter(status=status)
    if theme:
        suggestions = suggestions.filter(theme__iexact=theme)
    suggestions = suggestions.annotate(askers=Count("responses")).order_by("theme", "-created_at", "-pk")
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(
        request,
        "surveys/suggestions.html",
        {
            "page": paginate(suggestions, request.GET.get("page"), per_page=50),
            "status": status,
            "theme": theme,
            "themes": themes,
            "statuses": [c for c in Suggestion.Status.choices if c[0] != "merged"],
            "querystring": querystring.urlencode(),
        },
    )


@manager_required
@require_http_methods(["GET", "POST"])
def suggestion_detail(request, pk):
    suggestion = get_object_or_404(Suggestion.objects.visible_to(request.user), pk=pk)
    initial = {"status": suggestion.status, "theme": suggestion.theme, "note": suggestion.note}
    form = SuggestionForm(request.POST or None, initial=initial)
    if request.method == "POST" and suggestion.status != Suggestion.Status.MERGED:
        if form.is_valid():
            try:
                told = suggestion_update(suggestion=suggestion, user=request.user, **form.cleaned_data)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    "Saved."
                    + (
                        f" {told} customer{'s' if told != 1 else ''} will be told “you asked, we did”."
                        if told
                        else ""
                    ),
                )
                return redirect(suggestion)
        else:
            messages.error(request, "Nothing was saved: please correct the errors below.")
    visible = Suggestion.objects.visible_to(request.user).exclude(pk=suggestion.pk)
    return render(
        request,
        "surveys/suggestion_detail.html",
        {
            "suggestion": suggestion,
            "form": form,
            "askers": suggestion_askers(suggestion).filter(
                customer__in=visible_customers(request.user).values("pk")
            )[:100],
            "duplicates": visible.exclude(status=Suggestion.Status.MERGED).order_by("-created_at")[:100],
            "themes": visible.exclude(theme="").order_by().values_list("theme", flat=True).distinct()[:200],
        },
    )


@manager_required
@require_POST
def suggestion_merge(request, pk):
    target = get_object_or_404(Suggestion.objects.visible_to(request.user), pk=pk)
    ids = [int(v) for v in request.POST.getlist("duplicates") if v.isdigit()]
    duplicates = list(Suggestion.objects.visible_to(request.user).filter(pk__in=ids))
    try:
        merged = suggestions_merge(target=target, duplicates=duplicates, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{merged} suggestion{'s' if merged != 1 else ''} merged into this one.")
    return redirect(target)


# A touchpoint logged against a follow-up -------------------------------------------------------


@require_http_methods(["GET", "POST"])
def followup_log(request, pk):
    """Log the call (or meeting…) made for a task; the task closes with it."""
    follow_up = object_for_user(request.user, FollowUp.objects.select_related("customer"), pk)
    form = FollowUpLogForm(request.POST or None, initial={"summary": follow_up.title[:200]})
    if request.method == "POST" and follow_up.is_open and form.is_valid():
        touchpoint_log(
            customer=follow_up.customer, user=request.user, follow_up=follow_up, **form.cleaned_data
        )
        messages.success(request, f"Logged, and “{follow_up.title}” is done.")
        return redirect(safe_next(request, "today"))
    return render(
        request,
        "surveys/followup_log.html",
        {
            "follow_up": follow_up,
            "form": form,
            "next": safe_next(request, "today"),
        },
    )
