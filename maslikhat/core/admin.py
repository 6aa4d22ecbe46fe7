"""The admin of the shared machinery, and the rules every admin of the item record follows.

Nothing of an item's record is hard-deleted: items, answers, evaluations, messages,
attachments, history, notifications. Their admins show no delete page and no bulk delete
(``KeptForeverAdmin``). State never changes in the admin — transitions go through the
services — and the few fields an administrator may correct there are written with an audit
event naming the administrator and each change from → to (``AuditedItemAdmin``), as the
services write theirs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import F
from django.forms import ModelForm
from django.http import HttpRequest

from . import services
from .deadlines import CalendarDay, DeadlineRule
from .extensions import Extension

#: The action code of an administrator's correction in an item's history.
ADMIN_EDIT_ACTION = "admin_edit"


class KeptForeverAdmin(admin.ModelAdmin):
    """An admin for rows that are never hard-deleted: no delete page, no bulk delete."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyRecordAdmin(KeptForeverAdmin):
    """Shown, never added, changed or deleted in the admin (the services write these rows)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _plain(value: Any) -> Any:
    """A field's value as the history stores it (JSON): primitives kept, the rest as text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class AuditedItemAdmin(KeptForeverAdmin):
    """An item in the admin: read-only but for ``editable_fields``, each edit audited.

    The state, the deadlines, the people and every other field stay read-only: they change
    only through the services. Saving a correction bumps the item's ``version`` (a form
    open elsewhere then gets its 409) and appends one history event with the changes.
    """

    editable_fields: tuple[str, ...] = ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        opts = self.model._meta
        names = [f.name for f in [*opts.fields, *opts.many_to_many]]
        return [name for name in names if name not in self.editable_fields]

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        changed = [name for name in form.changed_data if name in self.editable_fields]
        if not change or not changed:
            return  # nothing is added here, and an unchanged form writes nothing
        # Locked like the services lock it: the "from" values are the stored ones.
        before = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        changes = {
            name: [_plain(getattr(before, name)), _plain(getattr(obj, name))] for name in changed
        }
        update_fields = list(changed)
        versioned = _has_field(obj, "version")
        if versioned:
            obj.version = F("version") + 1
            update_fields.append("version")
        if _has_field(obj, "updated_at"):
            update_fields.append("updated_at")
        obj.save(update_fields=update_fields)
        if versioned:
            obj.refresh_from_db(fields=["version"])
        status = str(getattr(obj, "status", "") or "")
        services.audit_record(
            item=obj,
            actor=request.user,  # type: ignore[arg-type]
            action=ADMIN_EDIT_ACTION,
            from_status=status,
            to_status=status,
            changes=changes,
        )


def _has_field(obj: models.Model, name: str) -> bool:
    return any(f.name == name for f in obj._meta.concrete_fields)


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name_ru",
        "days",
        "unit",
        "max_extension_months",
        "notice_days",
        "is_active",
    )
    list_filter = ("unit", "is_active")
    search_fields = ("code", "name_ru", "name_kk", "name_en", "legal_basis")

    def get_readonly_fields(
        self, request: HttpRequest, obj: DeadlineRule | None = None
    ) -> tuple[str, ...] | list[Any]:
        # The code links the rule to the code that uses it: fixed once created.
        return ("code",) if obj is not None else ()


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name_ru")
    list_filter = ("kind",)
    search_fields = ("name_ru", "name_kk", "name_en")
    date_hierarchy = "date"


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyRecordAdmin):
    """Extensions of every item kind, as the services wrote them: asked, decided, kept."""

    list_display = ("item_type", "item_id", "new_due_date", "status", "requested_by", "created_at")
    list_filter = ("item_type", "status")
    list_select_related = ("requested_by",)
