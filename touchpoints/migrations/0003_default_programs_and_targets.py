"""The programs of the retention plan with their default wording, and complaint targets."""

from django.db import migrations

TARGETS = [("low", 48, 240), ("medium", 24, 120), ("high", 8, 48), ("critical", 2, 24)]

# A frozen copy, as a migration needs: running code reads touchpoints/messaging/defaults.py, and
# touchpoints/tests/test_program_wording.py checks that the two say the same.
SIGN_OFF = "\n\nBest regards,\n{{ owner_name }}\n{{ signature }}"

PROGRAMS = [
    ("checkin", True, 9, 0, "How are things going, {{ contact.first_name }}?",
     "Hello {{ contact.first_name }},\n\nit has been a little while since we last spoke, and I "
     "wanted to ask how everything is going at {{ customer.name }}. Is there anything we could do "
     "better, or anything new we can help with? Just reply to this email." + SIGN_OFF),
    ("thank_you", True, 9, 0, "Thank you, {{ contact.first_name }}",
     "Hello {{ contact.first_name }},\n\nthank you for choosing us. I am your account manager and "
     "will be your contact from now on: if anything is unclear, or you need help, reply to this "
     "email and it comes straight to me." + SIGN_OFF),
    ("birthday", True, 9, 0, "Happy birthday, {{ contact.first_name }}!",
     "Hello {{ contact.first_name }},\n\nall of us wish you a very happy birthday and a "
     "wonderful year ahead." + SIGN_OFF),
    ("anniversary", True, 9, 0, "{{ years }} year{{ years|pluralize }} together",
     "Hello {{ contact.first_name }},\n\ntoday it is {{ years }} year{{ years|pluralize }} since "
     "{{ customer.name }} became our customer. Thank you for your trust, and here's to the "
     "years ahead." + SIGN_OFF),
    ("key_date", True, 9, 0, "{{ occasion }}",
     "Hello {{ contact.first_name }},\n\nwe are thinking of you on this special day: "
     "{{ occasion }}. All the best from all of us." + SIGN_OFF),
    ("post_purchase", True, 9, 7, "How is it going with your purchase?",
     "Hello {{ contact.first_name }},\n\na few days ago you bought {{ purchase.description }}. "
     "How is it going? If anything is not as you expected, reply and I will sort it out." + SIGN_OFF),
    ("card_reminder", True, 9, 7, "", ""),
    ("meeting_notes", True, 9, 0, "Notes from our meeting: {{ touchpoint.summary }}", ""),
]


def create(apps, schema_editor):
    ComplaintTarget = apps.get_model("touchpoints", "ComplaintTarget")
    Program = apps.get_model("touchpoints", "Program")
    for severity, respond, resolve in TARGETS:
        ComplaintTarget.objects.get_or_create(
            severity=severity,
            defaults={"first_response_hours": respond, "resolution_hours": resolve},
        )
    for key, enabled, hour, days, subject, body in PROGRAMS:
        Program.objects.get_or_create(
            key=key, defaults={"enabled": enabled, "send_hour": hour, "days": days,
                               "subject": subject, "body": body},
        )


class Migration(migrations.Migration):
    dependencies = [("touchpoints", "0002_promises_complaints_outbox")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
