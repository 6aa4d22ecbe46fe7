from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .deadlines import CalendarDay, DeadlineRule


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
