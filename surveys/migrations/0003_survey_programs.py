"""The survey programs with their default wording; answers recorded before campaigns get their survey."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

# A frozen copy, as a migration needs: running code reads surveys/defaults.py, and
# surveys/tests/test_survey_programs.py checks that the two say the same.
SIGN_OFF = "\n\nBest regards,\n{{ owner_name }}\n{{ signature }}"

PROGRAMS = {
    "survey": {
        "enabled": True, "send_hour": 9, "days": 0, "audience": "primary",
        "subject": "{{ contact.first_name }}, one quick question",
        "body": "Hello {{ contact.first_name }},\n\n{{ survey.question }}\n\nClick a number below: "
                "your answer is recorded with that one click, and you can add a comment if you "
                "like. It takes less than a minute, and I read every answer." + SIGN_OFF,
    },
    "survey_reminder": {
        "enabled": True, "send_hour": 9, "days": 5, "audience": "primary",
        "subject": "A reminder: {{ survey.question }}",
        "body": "Hello {{ contact.first_name }},\n\na few days ago I asked you one quick question, "
                "and your answer would help us a lot: {{ survey.question }}\n\nOne click on a "
                "number below is all it takes." + SIGN_OFF,
    },
    "suggestion_done": {
        "enabled": True, "send_hour": 9, "days": 0, "audience": "primary",
        "subject": "You asked, we did",
        "body": "Hello {{ contact.first_name }},\n\nwhen you answered our survey, you suggested: "
                "“{{ suggestion.text }}”\n\nWe have done it: {{ suggestion.note }}\n\n"
                "Thank you for telling us. Keep the ideas coming: just reply to this email."
                + SIGN_OFF,
    },
}


def forwards(apps, schema_editor):
    Program = apps.get_model("touchpoints", "Program")
    for key, fields in PROGRAMS.items():
        Program.objects.get_or_create(key=key, defaults=fields)
    Response = apps.get_model("surveys", "Response")
    Invitation = apps.get_model("surveys", "Invitation")
    invitation = Invitation.objects.filter(pk=OuterRef("invitation_id"))
    Response.objects.filter(survey__isnull=True).update(
        survey_id=Subquery(invitation.values("survey_id")[:1]),
        kind=Subquery(invitation.values("survey__kind")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_campaigns_answers_suggestions"),
        ("touchpoints", "0005_followup_kinds_programs_and_team_messages"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
