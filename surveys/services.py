"""
Surveys themselves: creating and editing one, with its further questions.

A survey is edited in place until it is first sent. After that its questions are what answers were
given to, so an edit makes a **new version**: the old row keeps its questions, its invitations and
answers, is switched off and renamed "<name> (version N)"; the new one takes the name, and the
standing triggers and the campaigns still waiting to go out move to it.

Recording answers is in ``answers.py`` (``response_record``, ``invitation_create`` are imported
from there by callers that drive a survey end to end).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from .answers import AnswerRefused, invitation_create, response_record  # noqa: F401  (the app's entry points)
from .models import Campaign, Question, Survey

MAX_QUESTIONS = 5
FIELDS = ("name", "kind", "question", "comment_prompt", "valid_days", "is_active")


def _clean_questions(questions):
    cleaned = []
    for position, question in enumerate(questions):
        text = " ".join((question.get("text") or "").split())
        if not text:
            continue
        kind = question.get("kind") or Question.Kind.SCALE
        choices = "\n".join(
            line.strip() for line in (question.get("choices") or "").splitlines() if line.strip()
        )
        if kind == Question.Kind.CHOICE and len(choices.splitlines()) < 2:
            raise ValidationError(
                f"“{text}”: a single-choice question needs at least two options, one a line."
            )
        cleaned.append(
            Question(
                position=position,
                kind=kind,
                text=text,
                choices=choices if kind == Question.Kind.CHOICE else "",
            )
        )
    if len(cleaned) > MAX_QUESTIONS:
        raise ValidationError(f"At most {MAX_QUESTIONS} further questions: every one costs answers.")
    return cleaned


@transaction.atomic
def survey_save(*, survey, data, questions):
    """
    Create ``survey`` (unsaved) or save the changes ``data`` to it, with its further
    ``questions`` (``[{"kind", "text", "choices"}]`` in order). Returns the survey as saved: a new
    version when the one edited had been sent.
    """
    cleaned = _clean_questions(questions)
    if survey.pk is not None:
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey.pk is not None and survey.is_locked:
        return _new_version(survey, data, cleaned)
    for field in FIELDS:
        if field in data:
            setattr(survey, field, data[field])
    survey.full_clean()
    survey.save()
    survey.questions.all().delete()
    Question.objects.bulk_create([_attach(q, survey) for q in cleaned])
    return survey


def _attach(question, survey):
    question.survey = survey
    return question


def _new_version(old, data, questions):
    name = data.get("name", old.name)
    retired = f"{old.name} (version {old.version})"
    if Survey.objects.filter(name=retired).exists():
        retired = f"{retired} #{old.pk}"
    Survey.objects.filter(pk=old.pk).update(name=retired[:100], is_active=False)
    new = Survey(
        **{field: data.get(field, getattr(old, field)) for field in FIELDS},
        version=old.version + 1,
        previous=old,
    )
    new.name = name
    new.full_clean()
    new.save()
    Question.objects.bulk_create([_attach(q, new) for q in questions])
    Campaign.objects.filter(survey=old).exclude(trigger="").update(survey=new)
    Campaign.objects.filter(survey=old, status=Campaign.Status.SCHEDULED).update(survey=new)
    return new
