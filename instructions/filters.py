"""Filters of the instruction registry: shared by the HTML list, the API and exports."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.directory.models import Commission, Convocation, Department, Deputy

from .models import Instruction, InstructionStatus, Meeting, MeetingKind, Protocol, ReportPeriod


class InstructionFilter(django_filters.FilterSet):
    # A column of the row itself: no join to repeat rows, so no DISTINCT (which would sort
    # every matching row before the page's LIMIT instead of walking the list's index).
    status = django_filters.MultipleChoiceFilter(
        choices=InstructionStatus.choices, label=_("Status"), distinct=False
    )
    protocol = django_filters.ModelChoiceFilter(
        queryset=Protocol.objects.all(), label=_("Protocol")
    )
    meeting = django_filters.ModelChoiceFilter(
        field_name="protocol__meeting", queryset=Meeting.objects.all(), label=_("Meeting")
    )
    lead_department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), label=_("Lead department")
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(),
        method="filter_department",
        label=_("Department (lead or co-executor)"),
    )
    controller_commission = django_filters.ModelChoiceFilter(
        queryset=Commission.objects.all(), label=_("Controlling commission")
    )
    controller_deputy = django_filters.ModelChoiceFilter(
        queryset=Deputy.objects.select_related("user"), label=_("Controlling deputy")
    )
    convocation = django_filters.ModelChoiceFilter(
        queryset=Convocation.objects.all(), label=_("Convocation")
    )
    report_period = django_filters.ChoiceFilter(
        choices=ReportPeriod.choices, label=_("Periodic reports")
    )
    is_overdue = django_filters.BooleanFilter(field_name="overdue", label=_("Overdue"))
    due_this_week = django_filters.BooleanFilter(
        method="filter_due_this_week", label=_("Due this week")
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due by")
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label=_("Due from")
    )
    search = django_filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Instruction
        fields = [
            "status",
            "protocol",
            "lead_department",
            "controller_commission",
            "controller_deputy",
            "convocation",
            "report_period",
            "is_overdue",
        ]

    def filter_department(
        self, queryset: QuerySet, name: str, value: Department | None
    ) -> QuerySet:
        if value is None:
            return queryset
        # EXISTS rather than a join: no row twice, so no DISTINCT over the whole list.
        co_executes = Instruction.co_departments.through.objects.filter(
            instruction_id=OuterRef("pk"), department=value
        )
        return queryset.filter(Q(lead_department=value) | Exists(co_executes))

    def filter_due_this_week(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        today = timezone.localdate()
        end = today + datetime.timedelta(days=6 - today.weekday())
        return queryset.filter(
            status__in=[InstructionStatus.ON_CONTROL, InstructionStatus.RETURNED],
            due_date__gte=today,
            due_date__lte=end,
        )

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()[:200]
        if not value:
            return queryset
        condition = Q()
        for word in value.split()[:10]:
            condition &= Q(text__icontains=word) | Q(number=word)
        return queryset.filter(condition)


class MeetingFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices, label=_("Kind"))
    commission = django_filters.ModelChoiceFilter(
        queryset=Commission.objects.all(), label=_("Commission")
    )
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"))
    convocation = django_filters.ModelChoiceFilter(
        queryset=Convocation.objects.all(), label=_("Convocation")
    )

    class Meta:
        model = Meeting
        fields = ["kind", "commission", "convocation", "is_field_visit"]


class ProtocolFilter(django_filters.FilterSet):
    meeting = django_filters.ModelChoiceFilter(queryset=Meeting.objects.all(), label=_("Meeting"))

    class Meta:
        model = Protocol
        fields = ["meeting", "number"]


INSTRUCTION_ORDERING_FIELDS = ["due_date", "number", "status", "created_at", "updated_at"]
