"""The public survey page, reached by customers through the unique link in their email."""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .forms import AnswerForm
from .models import Invitation
from .services import AnswerRefused, response_record


@login_not_required
@require_http_methods(["GET", "POST"])
def answer(request, token):
    invitation = (
        Invitation.objects.select_related("survey", "customer").filter(token=token).first()
    )
    if invitation is None:
        return render(request, "surveys/unknown.html", status=404)
    if invitation.is_answered:
        return render(request, "surveys/thanks.html", {"invitation": invitation, "again": True})
    if invitation.is_expired:
        return render(request, "surveys/expired.html", {"invitation": invitation}, status=410)

    form = AnswerForm(request.POST or None, survey=invitation.survey)
    if request.method == "POST" and form.is_valid():
        try:
            response_record(invitation=invitation, score=form.cleaned_data["score"],
                            comment=form.cleaned_data["comment"])
        except AnswerRefused as refused:
            if refused.reason == "expired":
                return render(request, "surveys/expired.html", {"invitation": invitation}, status=410)
            return render(request, "surveys/thanks.html", {"invitation": invitation, "again": True})
        return render(request, "surveys/thanks.html", {"invitation": invitation})
    return render(request, "surveys/answer.html", {"invitation": invitation, "form": form})
