from customers.access import is_manager


def navigation(request):
    """What the navigation bar needs to know about the user; one cheap query, only when logged in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_manager": is_manager(user)}
