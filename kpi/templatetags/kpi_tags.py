"""The KPI's words for templates: period keys in words, a ranking's rows with their
components, and the weights' notes the portal itself wrote, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext

from kpi import presenters

register = template.Library()

#: The note the portal stores with the default weights (migrations 0002 and 0003): a
#: sentence of the portal, shown translated, not as stored.
DEFAULT_WEIGHTS_NOTE = "The default weights of the methodology."
#: The note of the version that added promises kept (migration 0004), shown translated too.
PROMISES_WEIGHTS_NOTE = (
    "Promises kept joins the composite with 0.10; the other weights are scaled by 0.9."
)


@register.filter
def kpi_period(key: str) -> str:
    """``2026-Q4`` → "IV квартал 2026" (``presenters.period_label``)."""
    return presenters.period_label(str(key))


@register.filter
def kpi_weight(value: Any) -> str:
    """A weight with two decimals, or three where it has them (0.35, 0.315), "—" for none."""
    if value is None or value == "":
        return "—"
    number = float(value)
    digits = 2 if round(number, 2) == round(number, 3) else 3
    return formats.number_format(round(number, digits), digits)


@register.filter
def kpi_weights_note(note: str) -> str:
    """A version's note as written, but the portal's own default note translated."""
    if note == DEFAULT_WEIGHTS_NOTE:
        return gettext("The default weights of the methodology.")
    if note == PROMISES_WEIGHTS_NOTE:
        return gettext(
            "Promises kept joins the composite with 0.10; the other weights are scaled by 0.9."
        )
    return note


@dataclass(frozen=True)
class PublicRow:
    """A ranking row as the public rankings show it: no score without enough data."""

    entity: dict[str, Any]
    rank: int | None
    insufficient_data: bool
    rated_items: int
    composite: float | None
    cells: list[presenters.Cell]


@register.filter
def kpi_rows(ranking: Any, kind: str) -> list[PublicRow]:
    """The rows of a ``selectors.Rankings``: ranked ones first, then those with not enough
    data (no composite, no components: only how many items were rated)."""
    if ranking is None:
        return []
    rows = [
        PublicRow(
            entity=row.entity,
            rank=row.rank,
            insufficient_data=row.insufficient_data,
            rated_items=row.rated_items,
            composite=None if row.insufficient_data else row.composite,
            cells=[] if row.insufficient_data else presenters.cells_of(kind, row.components),
        )
        for row in ranking.rows
    ]
    return [row for row in rows if not row.insufficient_data] + [
        row for row in rows if row.insufficient_data
    ]
