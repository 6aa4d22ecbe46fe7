"""The forms of the import page: the upload, and the columns and names staff choose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .matching import GROUPS
from .models import ImportKind

COLUMN_PREFIX = "column::"
NAME_PREFIX = "name::"


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices)
    file = forms.FileField(
        label=_("File (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def chosen_columns(data: QueryDict, headers: list[str]) -> dict[str, str] | None:
    """``{header: field code or ""}`` from the mapping form, or None when it was not sent."""
    chosen: dict[str, str] = {}
    for key in data:
        value = str(data.get(key, ""))
        if not key.startswith(COLUMN_PREFIX):
            continue
        try:
            position = int(key[len(COLUMN_PREFIX) :])
        except ValueError:
            continue
        if 0 <= position < len(headers):
            chosen[headers[position]] = value
    return chosen or None


def chosen_names(data: QueryDict) -> dict[str, dict[str, str]]:
    """``{group: {name: value}}`` from the names form (``name::<group>::<name>``)."""
    chosen: dict[str, dict[str, str]] = {}
    for key in data:
        value = str(data.get(key, ""))
        if not key.startswith(NAME_PREFIX) or not value:
            continue
        parts: list[Any] = key[len(NAME_PREFIX) :].split("::", 1)
        if len(parts) != 2 or parts[0] not in GROUPS:
            continue
        chosen.setdefault(parts[0], {})[parts[1]] = value
    return chosen
