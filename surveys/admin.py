from django.contrib import admin

from .models import Answer, Campaign, Invitation, Question, Response, Suggestion, Survey


class QuestionInline(admin.StackedInline):  # its fields labelled, unlike a table row's
    model = Question
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "question", "version", "is_active", "first_sent_at"]
    inlines = [QuestionInline]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "trigger", "status", "scheduled_for", "invited_count"]
    list_filter = ["status", "trigger"]
    raw_id_fields = ["created_by"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "customer", "contact", "created_at", "expires_at", "answered_at", "reminded_at"]
    list_select_related = ["survey", "customer", "contact"]
    raw_id_fields = ["customer", "contact", "campaign"]
    readonly_fields = ["token", "occasion_key"]
    show_full_result_count = False


class AnswerInline(admin.StackedInline):  # its fields labelled, unlike a table row's
    model = Answer
    extra = 0
    raw_id_fields = ["question"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "score", "category", "created_at", "updated_at"]
    list_filter = ["kind", "category"]
    list_select_related = ["customer"]
    raw_id_fields = ["invitation", "customer", "campaign", "suggestion"]
    show_full_result_count = False
    inlines = [AnswerInline]


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["text", "theme", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["text", "theme"]
    raw_id_fields = ["merged_into", "decided_by"]
