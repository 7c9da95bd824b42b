"""The Django admin of the touchpoints app, the programs and the outbox included."""

from django.contrib import admin

from .models import (
    Complaint,
    ComplaintTarget,
    EmailSignature,
    FollowUp,
    OutboxMessage,
    Program,
    Promise,
    Touchpoint,
)


class LabelledListEditable:
    """
    The fields edited in the list (``list_editable``) named for screen readers by their column and
    row, "Enabled: Birthday greeting": Django puts them in table cells without a label.
    """

    def get_changelist_form(self, request, **kwargs):
        form = super().get_changelist_form(request, **kwargs)

        class Labelled(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    field.widget.attrs["aria-label"] = f"{field.label}: {self.instance}"

        return Labelled


@admin.register(Touchpoint)
class TouchpointAdmin(admin.ModelAdmin):
    list_display = ["summary", "kind", "customer", "author", "happened_at"]
    list_filter = ["kind", "direction"]
    list_select_related = ["customer", "author"]
    raw_id_fields = ["customer", "author", "contacts"]
    date_hierarchy = "happened_at"
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "customer", "assignee", "due_on", "status"]
    list_filter = ["kind", "status"]
    list_select_related = ["customer", "assignee"]
    raw_id_fields = ["customer", "assignee", "closed_by"]
    show_full_result_count = False


@admin.register(Program)
class ProgramAdmin(LabelledListEditable, admin.ModelAdmin):
    """Also editable in the app, with a preview, on the Programs page."""

    list_display = ["key", "enabled", "send_hour", "days", "subject"]
    list_editable = ["enabled"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["occasion_key", "program", "customer", "status", "attempts", "send_after", "sent_at"]
    list_filter = ["program", "status"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "contact", "sender", "touchpoint", "related_touchpoint"]
    search_fields = ["occasion_key"]
    show_full_result_count = False


@admin.register(EmailSignature)
class EmailSignatureAdmin(admin.ModelAdmin):
    list_display = ["user"]
    raw_id_fields = ["user"]


@admin.register(Promise)
class PromiseAdmin(admin.ModelAdmin):
    list_display = ["description", "customer", "owner", "due_on", "status", "kept_on"]
    list_filter = ["status"]
    list_select_related = ["customer", "owner"]
    raw_id_fields = ["customer", "contact", "touchpoint", "owner"]
    date_hierarchy = "due_on"
    show_full_result_count = False


@admin.register(ComplaintTarget)
class ComplaintTargetAdmin(LabelledListEditable, admin.ModelAdmin):
    """How fast complaints of each severity must be answered and resolved (new complaints only)."""

    list_display = ["severity", "first_response_hours", "resolution_hours"]
    list_editable = ["first_response_hours", "resolution_hours"]


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = ["summary", "customer", "severity", "status", "opened_at",
                    "first_response_due_at", "resolution_due_at", "handled_by"]
    list_filter = ["status", "severity"]
    list_select_related = ["customer", "handled_by"]
    raw_id_fields = ["customer", "contact", "handled_by", "opened_by"]
    date_hierarchy = "opened_at"
    show_full_result_count = False
