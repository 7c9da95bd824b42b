from django.contrib import admin

from .models import Invitation, Response, Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "question", "is_active"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "customer", "contact", "created_at", "expires_at", "answered_at"]
    list_select_related = ["survey", "customer", "contact"]
    raw_id_fields = ["customer", "contact"]
    readonly_fields = ["token"]
    show_full_result_count = False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["customer", "score", "category", "created_at"]
    list_filter = ["category"]
    list_select_related = ["customer"]
    raw_id_fields = ["invitation", "customer"]
    show_full_result_count = False
