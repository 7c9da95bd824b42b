"""Per-request memory for the visibility rule."""

from .models import remember_team_ids


class VisibleTeamsMiddleware:
    """
    Lets ``visible_team_ids`` keep ``request.user``'s team ids for the request: a page filters by
    them several times (the list and its filters, each of Today's lists) and reads them once. The
    user object is loaded afresh for each request, so nothing outlives it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Public pages (@login_not_required) leave the user unloaded.
        if getattr(view_func, "login_required", True) and request.user.is_authenticated:
            remember_team_ids(request.user)
