"""
Reading survey rows for the pages that show them beside other apps' rows: the customer's timeline
(answers are one of its sources) and the recovery tasks at the top of Today.
"""

from customers.access import managed_members
from touchpoints.models import FollowUp
from touchpoints.selectors import TIMELINE_SOURCES, TimelineSource

RESPONSES = TimelineSource(
    key="survey",
    rank=3,
    template="surveys/timeline/_response.html",
    time_field="created_at",
    rows=lambda customer: customer.survey_responses.select_related(
        "survey", "invitation__contact"
    ).prefetch_related("answers__question"),
    filters={"surveys": ("Survey answers", None)},
)

# The customer page's timeline: touchpoints, promises, complaints, and survey answers.
CUSTOMER_TIMELINE = [*TIMELINE_SOURCES, RESPONSES]


def recoveries_open(*, viewer, assignee, limit=50):
    """Open recovery tasks of ``assignee`` among the customers ``viewer`` sees, most urgent first."""
    return (
        FollowUp.objects.visible_to(viewer)
        .open()
        .filter(kind=FollowUp.Kind.RECOVERY, assignee=assignee)
        .select_related("customer")
        .order_by("due_on", "pk")[:limit]
    )


def recoveries_flagged(*, manager, limit=50):
    """
    Open recovery tasks of the account managers of the teams ``manager`` manages: each unhappy
    customer is flagged to the owner's manager as well as to the owner.
    """
    return (
        FollowUp.objects.visible_to(manager)
        .open()
        .filter(kind=FollowUp.Kind.RECOVERY, assignee__in=managed_members(manager).exclude(pk=manager.pk))
        .select_related("customer", "assignee")
        .order_by("due_on", "pk")[:limit]
    )
