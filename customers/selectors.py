"""Reading customers for pages and exports: one filter for the list and its CSV export."""

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import Contact, Customer

SORTS = {
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "last_contact": ["last_contacted_at", "pk"],
    "-last_contact": ["-last_contacted_at", "-pk"],
    "due": ["next_checkin_due", "pk"],
}


def customer_search(*, user, params):
    """
    The customers ``user`` sees, filtered and sorted by ``params`` (a QueryDict from the list
    page's URL, so a filtered view can be bookmarked, shared and exported as it is).
    """
    customers = Customer.objects.visible_to(user)
    customers = customers.filter(archived_at__isnull=params.get("archived") != "1")

    query = params.get("q", "").strip()
    if query:
        matching_contacts = Contact.objects.filter(customer=OuterRef("pk")).filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(phone__icontains=query)
        )
        customers = customers.filter(
            Q(name__icontains=query) | Q(external_id=query) | Exists(matching_contacts)
        )
    status = params.get("status", "")
    if status in Customer.Status.values:
        customers = customers.filter(status=status)
    team = params.get("team", "")
    if team.isdigit():
        customers = customers.filter(team_id=int(team))
    if params.get("mine") == "1":
        customers = customers.filter(owner=user)
    if params.get("due") == "1":
        customers = customers.filter(next_checkin_due__lte=timezone.localdate())

    sort = params.get("sort", "name")
    return customers.order_by(*SORTS.get(sort, SORTS["name"]))
