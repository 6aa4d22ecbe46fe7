"""Filters of the promise list: ``department``, ``state`` (``overdue`` derived), ``due_before``."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from maslikhat.directory.filters import IdFilter

from .models import ACTIVE_STATES, Commitment, CommitmentState

OVERDUE = "overdue"

STATE_CHOICES = [*CommitmentState.choices, (OVERDUE, _("Overdue"))]


class CommitmentFilter(django_filters.FilterSet):
    department = IdFilter(field_name="department_id", label=_("Department"))
    state = django_filters.ChoiceFilter(
        choices=STATE_CHOICES, method="filter_state", label=_("State")
    )
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lte", label=_("Due by")
    )

    class Meta:
        model = Commitment
        fields = ["department", "state", "due_before"]

    def filter_state(
        self, queryset: QuerySet[Commitment], name: str, value: str
    ) -> QuerySet[Commitment]:
        """A stored state, or ``overdue``: open or rescheduled and past due (annotated)."""
        if value == OVERDUE:
            return queryset.filter(state__in=ACTIVE_STATES, due_date__lt=timezone.localdate())
        return queryset.filter(state=value)
