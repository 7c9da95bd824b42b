"""
The audit log: who did what sensitive thing, when, from where, to what.

Recorded: sign-ins and failed sign-ins, exports, imports, bulk reassignments, archiving and
restoring customers, program (wording and schedule) changes, survey sends, health-score overrides,
and changes to users and teams. Admins read it on ``/audit/`` (``audit_views.py``), with filters
and a CSV export; nothing in the app edits or deletes an entry (the admin shows it read-only).

``audit_record(action, ...)`` is called where the action happens, by the service or view that does
it; who and from where come from the request being served (``AuditContextMiddleware`` keeps them
for the request), so services need not pass them. Changes to users and teams, made in the Django
admin, are recorded by signal receivers (``connect``).
"""

import contextvars

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from retention.security import client_address

_context = contextvars.ContextVar("audit_context", default=(None, ""))


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        EXPORT = "export", "Export"
        IMPORT = "import", "Import"
        REASSIGN = "reassign", "Reassignment"
        ARCHIVE = "archive", "Archived"
        RESTORE = "restore", "Restored"
        PROGRAM = "program", "Program changed"
        SURVEY_SEND = "survey_send", "Survey sent"
        HEALTH_OVERRIDE = "health_override", "Health override"
        USER = "user", "User changed"
        TEAM = "team", "Team changed"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as written: the entry still says who it was after the user is renamed or deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    target = models.CharField(max_length=200, blank=True, help_text="What it was done to.")
    summary = models.CharField(max_length=500)

    class Meta:
        app_label = "customers"
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["-at"], name="audit_time"),
            models.Index(fields=["action", "-at"], name="audit_action_time"),
            models.Index(fields=["actor", "-at"], name="audit_actor_time"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.summary}"


def audit_record(action, summary, *, target="", actor=None, address=None):
    """
    Record one sensitive action. ``actor`` and ``address`` default to the request being served
    (none for a command or a worker: the entry says "system").
    """
    request_actor, request_address = _context.get()
    actor = actor if actor is not None else request_actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        address=(address if address is not None else request_address) or None,
        action=action,
        target=str(target)[:200],
        summary=str(summary)[:500],
    )


class AuditContextMiddleware:
    """Keeps who is asking and from where for the request, for ``audit_record``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _context.set((getattr(request, "user", None), client_address(request)))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


# Receivers -------------------------------------------------------------------------------------


def _logged_in(sender, request, user, **kwargs):
    audit_record(AuditEvent.Action.LOGIN, f"{user.get_username()} signed in", actor=user,
                 address=_address(request))


def _login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    audit_record(AuditEvent.Action.LOGIN_FAILED, f"Failed sign-in as “{username}”", target=username,
                 address=_address(request))


def _address(request):
    return client_address(request) if request is not None else ""


def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return  # a sign-in stamps last_login: recorded as the sign-in itself
    what = "created" if created else "changed"
    audit_record(AuditEvent.Action.USER, f"User {instance.get_username()} {what}",
                 target=f"user {instance.pk}")


def _user_deleted(sender, instance, **kwargs):
    audit_record(AuditEvent.Action.USER, f"User {instance.get_username()} deleted",
                 target=f"user {instance.pk}")


def _team_saved(sender, instance, created, **kwargs):
    what = "created" if created else "changed"
    audit_record(AuditEvent.Action.TEAM, f"Team {instance.name} {what}", target=f"team {instance.pk}")


def _team_deleted(sender, instance, **kwargs):
    audit_record(AuditEvent.Action.TEAM, f"Team {instance.name} deleted", target=f"team {instance.pk}")


def _team_people_changed(sender, instance, action, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    field = "managers" if sender is type(instance).managers.through else "members"
    names = ", ".join(
        sorted(get_user_model().objects.filter(pk__in=pk_set or ()).values_list("username", flat=True))
    )
    verb = {"post_add": "added to", "post_remove": "removed from", "post_clear": "cleared from"}[action]
    audit_record(AuditEvent.Action.TEAM, f"{names or 'Everyone'} {verb} the {field} of team {instance.name}",
                 target=f"team {instance.pk}")


def connect():
    from .models import Team

    user_model = get_user_model()
    user_logged_in.connect(_logged_in, dispatch_uid="customers.audit.login")
    user_login_failed.connect(_login_failed, dispatch_uid="customers.audit.login_failed")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="customers.audit.user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid="customers.audit.user_deleted")
    post_save.connect(_team_saved, sender=Team, dispatch_uid="customers.audit.team_saved")
    post_delete.connect(_team_deleted, sender=Team, dispatch_uid="customers.audit.team_deleted")
    for through in (Team.members.through, Team.managers.through):
        m2m_changed.connect(_team_people_changed, sender=through,
                            dispatch_uid=f"customers.audit.team_people.{through.__name__}")
