"""
Reading survey rows for the pages that show them beside other apps' rows: the customer's timeline
(answers are one of its sources) and the recovery tasks at the top of Today.
"""

from django.db.models import Q

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


def recoveries(*, viewer, assignee, limit=50):
    """
    ``(own, flagged)``: the open recovery tasks of ``assignee`` among the customers ``viewer`` sees,
    most urgent first; and, when ``viewer`` looks at their own day, those of the account managers
    of the teams they manage: each unhappy customer is flagged to the owner's manager as well as to
    the owner. One query (for an account manager the second half matches nobody).
    """
    whose = Q(assignee=assignee)
    if viewer == assignee:
        whose |= Q(assignee__in=managed_members(viewer).exclude(pk=viewer.pk).values("pk"))
    tasks = list(
        FollowUp.objects.visible_to(viewer).open().filter(whose, kind=FollowUp.Kind.RECOVERY)
        .select_related("customer", "assignee").order_by("due_on", "pk")[: 2 * limit]
    )
    own = [task for task in tasks if task.assignee_id == assignee.pk]
    return own[:limit], [task for task in tasks if task.assignee_id != assignee.pk][:limit]
