from django.contrib import admin

from .models import FollowUp, Touchpoint


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
