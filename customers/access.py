"""
Who may see or do what: every such rule lives here, and views call it.

Views never check permissions themselves. They fetch through these helpers, which all filter
through the rule of ``Customer.objects.visible_to(user)`` (``filter_visible`` for the objects
that belong to a customer), and mark the pages of a role with ``@manager_required`` or
``@admin_required``. Another team's object, or a page of a role the user does not have, is
indistinguishable from one that does not exist: 404.

The role decorators also mark the view (``required_role``), so the URL sweep of
``retention/tests/test_access_sweep.py`` finds every manager-only and admin-only route by itself.
"""

import functools

from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Customer, CustomerImport, ImportMapping, Team, filter_visible

MANAGER = "manager"
ADMIN = "admin"


# Customers and what belongs to them ------------------------------------------------------------


def visible_customers(user):
    return Customer.objects.visible_to(user)


def customer_for_user(user, pk, queryset=None):
    queryset = Customer.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), pk=pk)


def object_for_user(user, queryset, pk, customer_field="customer"):
    """An object that belongs to a customer (a contact, a touchpoint, …) if ``user`` sees it."""
    return get_object_or_404(filter_visible(queryset, user, customer=customer_field), pk=pk)


def referrer_visible(user, customer):
    """Whether ``user`` may be shown who referred ``customer``: only a referrer they see."""
    return customer.referred_by_id is not None and (
        visible_customers(user).filter(pk=customer.referred_by_id).exists()
    )


def customer_import_for_user(user, pk):
    """An uploaded import is its uploader's alone: anyone else gets 404."""
    return get_object_or_404(CustomerImport.objects.filter(user__isnull=False), pk=pk, user_id=user.pk)


def import_mapping_for_user(user, pk):
    """
    A saved column mapping, to change or delete: its author's, or any for an admin. (Everyone may
    use every mapping: it holds column names, nothing of a customer.)
    """
    mappings = ImportMapping.objects.all()
    if not user.is_superuser:
        mappings = mappings.filter(created_by_id=user.pk)
    return get_object_or_404(mappings, pk=pk)


# People and roles ------------------------------------------------------------------------------


def is_manager(user):
    """A manager of at least one team, or an admin: who reviews books and reassigns customers."""
    return user.is_authenticated and (user.is_superuser or user.managed_teams.exists())


def is_admin(user):
    """Admins run the programs and their wording."""
    return user.is_authenticated and user.is_superuser


def managed_members(user):
    """The account managers of the teams ``user`` manages (every team's, for an admin)."""
    return (
        get_user_model().objects
        .filter(teams__in=Team.objects.managed_by(user).values("pk"), is_active=True)
        .distinct().order_by("first_name", "last_name", "username")
    )


def member_for_user(user, *, username=None, pk=None):
    """
    Whose day (Today) ``user`` may open, named by ``username`` or ``pk`` (a string from the URL;
    neither: their own): themselves, or an active account manager of a team they manage. Anyone
    else's answers 404, whether or not that person exists.
    """
    if username is None and not pk:
        return user
    people = get_user_model().objects.filter(is_active=True)
    if username is not None:
        person = get_object_or_404(people, username=username)
    elif str(pk).isdigit():
        person = get_object_or_404(people, pk=int(pk))
    else:
        raise Http404
    if person != user and not managed_members(user).filter(pk=person.pk).exists():
        raise Http404
    return person


def require_manager(user):
    """Managers and admins; anyone else gets 404. Views say it with ``@manager_required``."""
    if not is_manager(user):
        raise Http404


def require_admin(user):
    """Admins only (programs, templates); anyone else gets 404. Views say it with ``@admin_required``."""
    if not is_admin(user):
        raise Http404


def manager_required(view):
    """A view for managers and admins only: anyone else gets 404."""
    return _checked(view, MANAGER, require_manager)


def admin_required(view):
    """A view for admins only: anyone else gets 404."""
    return _checked(view, ADMIN, require_admin)


def _checked(view, role, require):
    # Put the decorator above the HTTP-method ones, so that a page of a role the user does not
    # have answers 404 to every method rather than telling which methods it takes.
    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        require(request.user)
        return view(request, *args, **kwargs)

    checked.required_role = role
    return checked


def required_role(view):
    """``MANAGER``, ``ADMIN`` or None: the role a view was marked with by the decorators above."""
    return getattr(view, "required_role", None)
