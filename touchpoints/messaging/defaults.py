"""
The programs a new installation starts with, and their default wording.

Running code reads these (``wording.program_settings`` recreates a program row an admin deleted
from them). The data migration ``touchpoints/migrations/0003_default_programs_and_targets.py``
keeps its own frozen copy, as a migration must; a test compares the two, so changing the wording
here means a new data migration for installations that already exist.
"""

SIGN_OFF = "\n\nBest regards,\n{{ owner_name }}\n{{ signature }}"


def _starts(subject="", body="", *, days=0):
    """A program as it starts: on, sending at 09:00 local time. ``days`` only means something for
    post_purchase (days after the purchase) and card_reminder (days ahead of the occasion)."""
    return {"enabled": True, "send_hour": 9, "days": days, "subject": subject, "body": body}


# {key: the Program fields it starts with}
PROGRAMS = {
    "checkin": _starts(
        "How are things going, {{ contact.first_name }}?",
        "Hello {{ contact.first_name }},\n\nit has been a little while since we last spoke, and I "
        "wanted to ask how everything is going at {{ customer.name }}. Is there anything we could do "
        "better, or anything new we can help with? Just reply to this email." + SIGN_OFF,
    ),
    "thank_you": _starts(
        "Thank you, {{ contact.first_name }}",
        "Hello {{ contact.first_name }},\n\nthank you for choosing us. I am your account manager and "
        "will be your contact from now on: if anything is unclear, or you need help, reply to this "
        "email and it comes straight to me." + SIGN_OFF,
    ),
    "birthday": _starts(
        "Happy birthday, {{ contact.first_name }}!",
        "Hello {{ contact.first_name }},\n\nall of us wish you a very happy birthday and a "
        "wonderful year ahead." + SIGN_OFF,
    ),
    "anniversary": _starts(
        "{{ years }} year{{ years|pluralize }} together",
        "Hello {{ contact.first_name }},\n\ntoday it is {{ years }} year{{ years|pluralize }} since "
        "{{ customer.name }} became our customer. Thank you for your trust, and here's to the "
        "years ahead." + SIGN_OFF,
    ),
    "key_date": _starts(
        "{{ occasion }}",
        "Hello {{ contact.first_name }},\n\nwe are thinking of you on this special day: "
        "{{ occasion }}. All the best from all of us." + SIGN_OFF,
    ),
    "post_purchase": _starts(
        "How is it going with your purchase?",
        "Hello {{ contact.first_name }},\n\na few days ago you bought {{ purchase.description }}. "
        "How is it going? If anything is not as you expected, reply and I will sort it out." + SIGN_OFF,
        days=7,
    ),
    "card_reminder": _starts(days=7),  # follow-ups for the owner: no wording
    "meeting_notes": _starts("Notes from our meeting: {{ touchpoint.summary }}"),  # the subject only
}
