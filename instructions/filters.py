"""Filters of the instruction registry: shared by the HTML list, the API and exports."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.fields import ModelChoiceIterator

from maslikhat.directory.models import Commission, Convocation, Department, Deputy

from . import queries
from .models import Instruction, InstructionStatus, Meeting, MeetingKind, Protocol, ReportPeriod

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RecentChoices(ModelChoiceIterator):
    """The options of a select over a table that keeps growing (meetings, protocols): the
    newest rows only, and the chosen row, when it is older, first in a group of its own.

    The field still accepts any existing row (its queryset is the whole table): an
    address with an older one keeps working, and the page shows what it filters by.
    """

    def __iter__(self) -> Iterator[Any]:
        field: Any = self.field
        if field.empty_label is not None:
            yield ("", field.empty_label)
        recent = list(field.recent_rows())
        chosen = field.chosen_row()
        if chosen is not None and all(row.pk != chosen.pk for row in recent):
            yield (str(_("Chosen (not among the latest)")), [self.choice(chosen)])
        for row in recent:
            yield self.choice(row)

    def __len__(self) -> int:
        return sum(1 for _choice in self)

    def __bool__(self) -> bool:
        return True


def _chosen(filterset: django_filters.FilterSet, name: str) -> Any:
    """The row the address filters by, as the form read it (no query of its own)."""
    return getattr(filterset.form, "cleaned_data", {}).get(name)


def _protocol_label(protocol: Protocol) -> str:
    return f"{protocol} · {protocol.meeting.title}"


PROTOCOL_HELP = _(
    "The latest protocols are listed. For an older one, open its page under "
    "“Meetings and protocols” and follow “Its instructions in the registry”."
)
MEETING_HELP = _(
    "The latest meetings are listed. For an older one, open its page under "
    "“Meetings and protocols” and follow “Its instructions in the registry”."
)


def offer_recent(
    field: forms.Field,
    *,
    recent: Callable[[], Iterable[Model]],
    chosen: Callable[[], Model | None],
    help_text: StrOrPromise,
) -> None:
    """Let a model select offer ``recent()`` rows (and ``chosen()``) instead of its table."""
    field.recent_rows = recent  # type: ignore[attr-defined]
    field.chosen_row = chosen  # type: ignore[attr-defined]
    field.iterator = RecentChoices  # type: ignore[attr-defined]
    field.widget.choices = field.choices  # type: ignore[attr-defined]
    field.help_text = help_text


class InstructionFilter(django_filters.FilterSet):
    # A column of the row itself: no join to repeat rows, so no DISTINCT (which would sort
    # every matching row before the page's LIMIT instead of walking the list's index).
    status = django_filters.MultipleChoiceFilter(
        choices=InstructionStatus.choices, label=_("Status"), distinct=False
    )
    protocol = django_filters.ModelChoiceFilter(
        queryset=Protocol.objects.select_related("meeting"), label=_("Protocol")
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        protocol = fields["protocol"]
        # Protocol numbers repeat across meetings: the meeting's title tells them apart.
        protocol.label_from_instance = _protocol_label
        # Meetings and protocols grow without end: the selects (the registry's, the API's
        # browsable form) offer the newest ones; any other is still accepted by id.
        offer_recent(
            protocol,
            recent=queries.recent_protocols,
            chosen=lambda: _chosen(self, "protocol"),
            help_text=PROTOCOL_HELP,
        )
        offer_recent(
            fields["meeting"],
            recent=queries.recent_meetings,
            chosen=lambda: _chosen(self, "meeting"),
            help_text=MEETING_HELP,
        )

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offer_recent(
            self.form.fields["meeting"],
            recent=queries.recent_meetings,
            chosen=lambda: _chosen(self, "meeting"),
            help_text=MEETING_HELP,
        )

    class Meta:
        model = Protocol
        fields = ["meeting", "number"]


INSTRUCTION_ORDERING_FIELDS = ["due_date", "number", "status", "created_at", "updated_at"]
