"""
The public survey page, ``/s/<token>/``: no login, reached through the unique link in an email.

- A GET records nothing, whatever its query: a score link (``?score=7``) shows that score with one
  button to confirm it, which ``static/js/survey-answer.js`` presses at once when script runs. So
  a mail scanner or link preview that fetches every link changes nothing, and a person's click is
  one click.
- The one-click POST (``step=score``) records the score (the first answer in one statement,
  ``answers.first_answer_record``) and sends the customer on to the full page (comment and
  further questions), where every later POST amends the same response until the invitation
  expires: never a second one.
- Unknown or tampered tokens: 404; expired: 410; both friendly and telling nothing. Every request
  counts against the client's rate limit (``retention.ratelimit``).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from retention.ratelimit import rate_limited

from .answers import AnswerRefused, first_answer_record, invitation_opened, response_record
from .forms import AnswerForm
from .models import Invitation, Response


def public_rate_limit():
    return settings.PUBLIC_RATE_LIMIT_PER_MINUTE


@login_not_required
@never_cache
@rate_limited("public", limit=public_rate_limit)
@require_http_methods(["GET", "POST"])
def answer(request, token):
    # The one-click POST, the busiest request, shows no page. The first answer to an invitation is
    # one statement by the token; anything else (an amendment, an expired or unknown token, a score
    # out of range) takes the long way below, which answers it or says why not.
    if request.method == "POST" and request.POST.get("step") == "score":
        score = request.POST.get("score", "")
        if score.isdigit() and len(score) <= 2 and first_answer_record(token=token, score=int(score)):
            return redirect(f"{reverse('surveys:answer', args=[token])}?recorded=1", permanent=False)
    # The one-click long way reads the survey alone. The pages name the customer and the account
    # manager.
    one_click = request.method == "POST" and request.POST.get("step") in ("score", "opened")
    related = ("survey",) if one_click else ("survey", "customer__owner")
    invitation = Invitation.objects.select_related(*related).filter(token=token).order_by().first()
    if invitation is None:
        return render(request, "surveys/public/unknown.html", status=404)
    # The response is read lazily: the one-click post (the busiest request) never needs it.
    context = {
        "invitation": invitation,
        "survey": invitation.survey,
        "response": lambda: Response.objects.filter(invitation=invitation).first(),
    }
    if invitation.is_expired:
        return render(request, "surveys/public/expired.html", context, status=410)

    if request.method == "POST":
        step = request.POST.get("step")
        if step == "opened":
            invitation_opened(invitation=invitation)
            return HttpResponse(status=204)
        questions = [] if step == "score" else list(invitation.survey.questions.all())
        form = AnswerForm(request.POST, survey=invitation.survey, questions=questions)
        if form.is_valid():
            try:
                if form.is_one_click:
                    response_record(invitation=invitation, score=form.cleaned_data["score"])
                    return redirect(f"{invitation.get_absolute_url()}?recorded=1", permanent=False)
                response = response_record(
                    invitation=invitation,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                    answers=form.extra_answers(),
                )
            except AnswerRefused:
                return render(request, "surveys/public/expired.html", context, status=410)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return render(request, "surveys/public/thanks.html", {**context, "response": response})
        return render(
            request, "surveys/public/answer.html", {**context, "form": form, "questions": questions}
        )

    response = context["response"] = context["response"]()
    score = request.GET.get("score", "")
    if score.isdigit() and int(score) in invitation.survey.score_range:
        return render(request, "surveys/public/confirm.html", {**context, "score": int(score)})
    questions = list(invitation.survey.questions.all())
    initial = {}
    if response is not None:
        initial = {
            "score": response.score,
            "comment": response.comment,
            **{f"q{a.question_id}": a.value for a in response.answers.all()},
        }
    form = AnswerForm(initial=initial, survey=invitation.survey, questions=questions)
    return render(
        request,
        "surveys/public/answer.html",
        {
            **context,
            "form": form,
            "questions": questions,
            "recorded": request.GET.get("recorded") == "1",
        },
    )
