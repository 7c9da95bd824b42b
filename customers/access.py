"""
Fetching what a user may see, or answering 404.

Views never check permissions themselves: they fetch through these helpers, which all filter
through the rule of ``Customer.objects.visible_to(user)`` (``filter_visible`` for the objects
that belong to a customer). Another team's object is indistinguishable from one
that does not exist.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Customer, CustomerImport, filter_visible


def visible_customers(user):
    return Customer.objects.visible_to(user)


def customer_for_user(user, pk, queryset=None):
    queryset = Customer.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), pk=pk)


def object_for_user(user, queryset, pk, customer_field="customer"):
    """An object that belongs to a customer (a contact, a touchpoint, …) if ``user`` sees it."""
    return get_object_or_404(filter_visible(queryset, user, customer=customer_field), pk=pk)


def is_manager(user):
    """A manager of at least one team, or an admin: who reviews books and reassigns customers."""
    return user.is_authenticated and (user.is_superuser or user.managed_teams.exists())


def require_manager(user):
    """Managers and admins; anyone else gets 404."""
    if not is_manager(user):
        raise Http404


def customer_import_for_user(user, pk):
    """An uploaded import is its uploader's alone: anyone else gets 404."""
    return get_object_or_404(CustomerImport.objects.filter(user__isnull=False), pk=pk, user_id=user.pk)


def require_admin(user):
    """Admins only (programs, templates); anyone else gets 404."""
    if not user.is_superuser:
        raise Http404
