"""Reading touchpoints for pages: the customer's timeline."""

from retention.pagination import paginate

from .models import Touchpoint

TIMELINE_PAGE_SIZE = 25


def timeline_page(*, customer, page=1, kind=""):
    touchpoints = (
        customer.touchpoints.select_related("author").prefetch_related("contacts")
        .order_by("-happened_at", "-pk")
    )
    if kind in Touchpoint.Kind.values:
        touchpoints = touchpoints.filter(kind=kind)
    return paginate(touchpoints, page, per_page=TIMELINE_PAGE_SIZE)
