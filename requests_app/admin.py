"""Deputy requests in the Django admin: read-only records, corrections audited, nothing deleted."""

from django.contrib import admin

from maslikhat.core.admin import AuditedItemAdmin, ReadOnlyRecordAdmin

from .models import DeputyRequest, RegistrationCounter, Response


class ResponseInline(admin.StackedInline):
    model = Response
    extra = 0
    can_delete = False
    fields = ("kind", "status", "outcome", "text", "drafted_by", "approved_by", "sent_at")
    readonly_fields = fields


@admin.register(DeputyRequest)
class DeputyRequestAdmin(AuditedItemAdmin):
    """Read-only but for a typo in the title or the address, written to the history.

    State changes go through the portal's services, never the admin.
    """

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
    editable_fields = ("title", "address")
    inlines = [ResponseInline]


@admin.register(RegistrationCounter)
class RegistrationCounterAdmin(ReadOnlyRecordAdmin):
    """Numbers are gap-free per year: the counter is never edited or deleted here."""

    list_display = ("year", "last_number")
