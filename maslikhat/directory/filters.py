"""Filters for directory lists, shared by the API and the HTML pages."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .models import Commission, Department, DepartmentKind, Deputy, Mandate


class IdFilter(django_filters.NumberFilter):
    """An id in a query string: a positive 64-bit integer, else a clear 400 (never a 500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class NameSearchFilter(django_filters.FilterSet):
    """``?search=`` over the three language versions of the name and the code."""

    search = django_filters.CharFilter(method="filter_search", label=_("Search"))

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name_ru__icontains=value)
            | Q(name_kk__icontains=value)
            | Q(name_en__icontains=value)
            | Q(code__icontains=value)
        )


class DepartmentFilter(NameSearchFilter):
    kind = django_filters.ChoiceFilter(choices=DepartmentKind.choices, label=_("Kind"))
    district = IdFilter(field_name="district_id", label=_("District"))
    code = django_filters.CharFilter(field_name="code", label=_("Code"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Department
        fields = ["kind", "district", "code", "is_active"]


class CommissionFilter(NameSearchFilter):
    convocation = IdFilter(field_name="convocation_id", label=_("Convocation"))

    class Meta:
        model = Commission
        fields = ["convocation", "code"]


class DeputyFilter(django_filters.FilterSet):
    convocation = IdFilter(field_name="convocation_id", label=_("Convocation"))
    party = django_filters.CharFilter(field_name="party__code", label=_("Party"))
    district = IdFilter(field_name="district_id", label=_("District"))
    commission = IdFilter(field_name="commissions", label=_("Commission"))
    mandate = django_filters.ChoiceFilter(choices=Mandate.choices, label=_("Mandate"))
    is_active = django_filters.BooleanFilter(label=_("Active"))
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Deputy
        fields = ["convocation", "party", "district", "commission", "mandate", "is_active"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(user__last_name__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__middle_name__icontains=value)
        )
