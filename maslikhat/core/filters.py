"""What the item lists of every kind share: stable sorting and the look of the filter fields.

Deputy requests and protocol instructions keep their own FilterSets (their fields
differ); the list pages sort and style them the same way through these helpers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet

from .forms import date_input
from .web import searchable_select


class StableOrderingFilter(django_filters.OrderingFilter):
    """``?ordering=`` with the API's names; ties are broken by id so pages never overlap.

    ``tie_break`` is the last ordering term: ``"-id"`` keeps the newest first among
    equals (requests), ``"id"`` the order of entry (instructions of a protocol).
    """

    def __init__(self, *args: Any, tie_break: str = "id", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tie_break = tie_break

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        return qs.order_by(*(self.get_ordering_value(param) for param in value), self.tie_break)


def style_filter_widgets(
    filterset: django_filters.FilterSet,
    *,
    checkboxes: Iterable[str] = (),
    dates: Iterable[str] = (),
) -> None:
    """Give a list's filter fields the small Bootstrap controls of the filter panel.

    The fields named in ``checkboxes`` become a row of checkboxes (several statuses at
    once), those in ``dates`` a date picker.
    """
    fields = filterset.form.fields
    for name in checkboxes:
        fields[name].widget = forms.CheckboxSelectMultiple(choices=fields[name].choices)
    for name in dates:
        fields[name].widget = date_input()
    for field in fields.values():
        searchable_select(field)
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"
