"""
API tokens in the Django admin: every user's, to see which are in use and to revoke one (a leaked
token, someone who left). Tokens are made on the profile page or with ``api_token_create``, and
revoked rather than deleted, so the admin adds, edits and deletes none.
"""

from django.contrib import admin, messages

from .models import ApiToken
from .tokens import api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=token) for token in queryset.select_related("user"))
        messages.success(request, f"{revoked} token(s) revoked; they are refused from the next request.")
