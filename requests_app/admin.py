from django.contrib import admin

from .models import DeputyRequest, Extension, RegistrationCounter, Response


class ResponseInline(admin.StackedInline):
    model = Response
    extra = 0
    can_delete = False
    fields = ("kind", "status", "outcome", "text", "drafted_by", "approved_by", "sent_at")
    readonly_fields = fields


class ExtensionInline(admin.TabularInline):
    model = Extension
    extra = 0
    can_delete = False
    fields = ("previous_due_date", "new_due_date", "status", "requested_by", "decided_by", "reason")
    readonly_fields = fields


@admin.register(DeputyRequest)
class DeputyRequestAdmin(admin.ModelAdmin):
    """Read-mostly: state changes go through the portal's services, never the admin."""

    list_display = (
        "number",
        "title",
        "status",
        "author",
        "lead_department",
        "due_date",
        "is_public",
    )
    list_filter = ("status", "is_public", "category", "convocation")
    search_fields = ("number", "title")
    list_select_related = ("author__user", "lead_department")
    readonly_fields = [f.name for f in DeputyRequest._meta.fields]
    inlines = [ResponseInline, ExtensionInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(RegistrationCounter)
class RegistrationCounterAdmin(admin.ModelAdmin):
    list_display = ("year", "last_number")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
