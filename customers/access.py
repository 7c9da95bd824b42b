"""
Fetching what a user may see, or answering 404.

Views never check permissions themselves: they fetch through these helpers, which all filter
through ``Customer.objects.visible_to(user)``. Another team's object is indistinguishable from one
that does not exist.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Customer


def visible_customers(user):
    return Customer.objects.visible_to(user)


def customer_for_user(user, pk, queryset=None):
    queryset = Customer.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), pk=pk)


def object_for_user(user, queryset, pk, customer_field="customer"):
    """An object that belongs to a customer (a contact, a touchpoint, …) if ``user`` sees it."""
    visible = Customer.objects.visible_to(user).values("pk")
    return get_object_or_404(queryset.filter(**{f"{customer_field}__in": visible}), pk=pk)


def require_manager(user):
    """Managers (of at least one team) and admins; anyone else gets 404."""
    if not (user.is_superuser or user.managed_teams.exists()):
        raise Http404
