from django.contrib import admin

from .models import AuditEvent, Contact, Customer, CustomerChange, KeyDate, Purchase, Tag, Team
from .services import customer_value_recompute


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "automated_checkins"]
    filter_horizontal = ["members", "managers"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ContactInline(admin.StackedInline):  # its fields labelled, unlike a table row's
    model = Contact
    extra = 0
    fields = ["name", "role", "email", "phone", "is_primary", "unsubscribed_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "team", "owner", "next_checkin_due", "archived_at"]
    list_filter = ["status", "team"]
    list_select_related = ["team", "owner"]
    search_fields = ["name", "external_id"]
    raw_id_fields = ["owner", "referred_by"]
    readonly_fields = ["last_contacted_at", "next_checkin_due", "lifetime_value",
                       "value_last_12_months", "version", "created_at", "updated_at"]
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "email", "unsubscribed_at"]
    search_fields = ["name", "email"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(KeyDate)
class KeyDateAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "date", "recurrence"]
    raw_id_fields = ["customer", "contact"]


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """Purchases changed here keep their customers' stored values right, as the pages do."""

    list_display = ["customer", "date", "amount", "description"]
    raw_id_fields = ["customer"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        previous = Purchase.objects.filter(pk=obj.pk).values_list("customer_id", flat=True).first()
        super().save_model(request, obj, form, change)
        _recompute(previous, obj.customer_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _recompute(obj.customer_id)

    def delete_queryset(self, request, queryset):
        customer_ids = list(queryset.values_list("customer_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        _recompute(*customer_ids)


def _recompute(*customer_ids):
    for customer in Customer.objects.filter(pk__in=[pk for pk in customer_ids if pk]):
        customer_value_recompute(customer=customer)


@admin.register(CustomerChange)
class CustomerChangeAdmin(admin.ModelAdmin):
    list_display = ["customer", "field", "user", "changed_at"]
    raw_id_fields = ["customer"]
    show_full_result_count = False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the app and never edited (``/audit/`` is its page)."""

    list_display = ["at", "actor_name", "address", "action", "summary"]
    list_filter = ["action"]
    search_fields = ["summary", "target", "actor_name"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
