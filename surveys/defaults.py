"""
The wording the survey programs start with, and the settings of the standing triggers.

Running code reads these (a deleted program row is recreated from them); the data migration
``surveys/migrations/0003_survey_programs.py`` keeps its own frozen copy, as a migration must, and
a test compares the two. Admins tune the wording on the Programs page. Besides the placeholders of
every program, survey wording may use ``{{ survey.question }}``; the scale (every score a link),
the link to the page and the unsubscribe footer are added below the body by the app.
"""

SIGN_OFF = "\n\nBest regards,\n{{ owner_name }}\n{{ signature }}"

PROGRAMS = {
    "survey": {
        "enabled": True,
        "send_hour": 9,
        "days": 0,
        "audience": "primary",
        "subject": "{{ contact.first_name }}, one quick question",
        "body": "Hello {{ contact.first_name }},\n\n{{ survey.question }}\n\nClick a number below: "
        "your answer is recorded with that one click, and you can add a comment if you "
        "like. It takes less than a minute, and I read every answer." + SIGN_OFF,
    },
    "survey_reminder": {
        "enabled": True,
        "send_hour": 9,
        "days": 5,
        "audience": "primary",
        "subject": "A reminder: {{ survey.question }}",
        "body": "Hello {{ contact.first_name }},\n\na few days ago I asked you one quick question, "
        "and your answer would help us a lot: {{ survey.question }}\n\nOne click on a "
        "number below is all it takes." + SIGN_OFF,
    },
    "suggestion_done": {
        "enabled": True,
        "send_hour": 9,
        "days": 0,
        "audience": "primary",
        "subject": "You asked, we did",
        "body": "Hello {{ contact.first_name }},\n\nwhen you answered our survey, you suggested: "
        "“{{ suggestion.text }}”\n\nWe have done it: {{ suggestion.note }}\n\n"
        "Thank you for telling us. Keep the ideas coming: just reply to this email." + SIGN_OFF,
    },
}

# The standing triggers a new installation starts with, all off: (trigger, name, days).
TRIGGERS = [
    ("after_active", "New customers, two weeks in", 14),
    ("after_complaint", "After a complaint is resolved: were we able to fix it?", 2),
    ("periodic", "Every customer, every six months", 6),
]
