from customers.access import is_manager
from touchpoints.messaging.wording import brand as installation_brand


def navigation(request):
    """What the navigation bar needs to know about the user; one cheap query, only when logged in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_manager": is_manager(user)}


def brand(request):
    """The installation's name and colour, for the pages customers see (survey, unsubscribe)."""
    return {"brand": installation_brand()}
