"""What the KPI pages show, made from what the selectors read: plain data in, words out.

A score becomes a cell ("83% (62–94%)" with "5 answers due" under it), a period key a
label ("июль 2026", "III квартал 2026", "Последние 90 дней"), a ranking the rows and
sortable columns of its table, an entity's history the trend chart and the table under
it. Nothing here reads the database or computes a score: every number comes from a stored snapshot
(``kpi/selectors.py``), and the pages (``kpi/views/``) only parse input, read, present
and render.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from maslikhat.directory.actors import Actor

from . import permissions
from .calculators import DEFAULT_WEIGHTS, DEPARTMENT, DEPUTY
from .forms import COMPONENT_LABELS, FlagReviewForm, WeightsForm, component_label
from .models import FlagStatus, RaterFlag, SurveyPool
from .periods import CONVOCATION, MONTH, QUARTER, ROLLING, YEAR, InvalidPeriod, Period
from .selectors import (
    EntityHistory,
    MethodologyPage,
    Rankings,
    WeightsPage,
    WeightsVersion,
    default_period,
)

#: Shares (shown as "83% (62–94%)", the 95% Wilson interval in brackets).
SHARE_KEYS = frozenset(
    {"timeliness", "rework", "resolution", "discipline", "follow_through", "promises"}
)
#: Bayesian means of 1–5 ratings.
RATING_KEYS = frozenset({"quality", "request_quality"})
#: Where less is better: sorting by these starts with the smallest.
LOWER_IS_BETTER = frozenset({"rework", "speed", "open_overdue"})

#: What a component's n counts, in words ("5 answers due"), per component key.
N_WORDS: dict[str, Callable[[int], str]] = {
    "timeliness": lambda n: ngettext("%(count)d answer due", "%(count)d answers due", n),
    "speed": lambda n: ngettext("%(count)d final answer", "%(count)d final answers", n),
    "quality": lambda n: ngettext("%(count)d rating", "%(count)d ratings", n),
    "request_quality": lambda n: ngettext("%(count)d rating", "%(count)d ratings", n),
    "rework": lambda n: ngettext("%(count)d final answer", "%(count)d final answers", n),
    "resolution": lambda n: ngettext("%(count)d closed", "%(count)d closed", n),
    "discipline": lambda n: ngettext("%(count)d instruction due", "%(count)d instructions due", n),
    "promises": lambda n: ngettext("%(count)d promise due", "%(count)d promises due", n),
    "follow_through": lambda n: ngettext(
        "%(count)d answer to evaluate", "%(count)d answers to evaluate", n
    ),
}

PERIOD_GROUPS: tuple[tuple[str, str | Promise], ...] = (
    (ROLLING, _("Rolling")),
    (MONTH, _("Months")),
    (QUARTER, _("Quarters")),
    (YEAR, _("Years")),
    (CONVOCATION, _("Convocations")),
)
HISTORY_CHOICES: tuple[tuple[str, str | Promise], ...] = (
    ("month", _("By month")),
    ("quarter", _("By quarter")),
    ("year", _("By year")),
)


# --- Numbers in words ----------------------------------------------------------------------------


def _rounded(value: float, digits: int) -> Decimal:
    """Rounded half up, as people round (3.6875 → 3.69), not half to even."""
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _percent(value: float | None) -> str:
    return "—" if value is None else formats.number_format(_rounded(100 * value, 0), 0)


def _number(value: float | None, digits: int) -> str:
    return "—" if value is None else formats.number_format(_rounded(value, digits), digits)


@dataclass(frozen=True)
class Cell:
    """One component as a row of a table shows it."""

    key: str
    label: str
    text: str  # "83% (62–94%)", "3.69", "4.5", "12" or "—"
    n_text: str = ""  # "5 answers due"
    extra: str = ""  # "1 extended", "mean of the ratings 4.20"
    value: float | None = None  # for sorting
    has_data: bool = False


def component_cell(kind: str, key: str, component: Mapping[str, Any] | None) -> Cell:
    """A component of a snapshot (``calculators``' dict) in words."""
    label = str(component_label(kind, key))
    if not component:
        return Cell(key=key, label=label, text="—")
    value = component.get("value")
    n = int(component.get("n") or 0)
    n_text = N_WORDS[key](n) % {"count": n} if key in N_WORDS else ""
    extra = ""
    if key in SHARE_KEYS:
        if value is None:
            text = "—"
        else:
            text = gettext("%(value)s%% (%(low)s–%(high)s%%)") % {
                "value": _percent(value),
                "low": _percent(component.get("low")),
                "high": _percent(component.get("high")),
            }
        extended = int(component.get("extended") or 0)
        if key == "timeliness" and extended:
            extra = ngettext(
                "%(count)d with an approved extension",
                "%(count)d with an approved extension",
                extended,
            ) % {"count": extended}
        if key == "promises":
            extra = promises_extra(component)
    elif key in RATING_KEYS:
        text = _number(value, 2)
        if component.get("mean") is not None:
            extra = gettext("mean of the ratings %(mean)s") % {
                "mean": _number(component["mean"], 2)
            }
    elif key == "speed":
        text = _number(value, 1)
        if value is not None:
            extra = gettext("working days (median)")
    else:  # counts: open overdue, requests, activity
        text = "—" if value is None else formats.number_format(value, 0)
    return Cell(
        key=key,
        label=label,
        text=text,
        n_text=n_text,
        extra=extra,
        value=None if value is None else float(value),
        has_data=value is not None,
    )


def promises_extra(component: Mapping[str, Any]) -> str:
    """Under promises kept: "not enough data" below the minimum, kept late, disputed."""
    parts = []
    if component.get("insufficient_data") and int(component.get("n") or 0):
        parts.append(
            gettext("not enough data (fewer than %(min)d due)")
            % {"min": int(component.get("min_n") or 0)}
        )
    kept_late = int(component.get("kept_late") or 0)
    if kept_late:
        parts.append(
            ngettext("%(count)d kept late", "%(count)d kept late", kept_late) % {"count": kept_late}
        )
    disputed = int(component.get("disputed") or 0)
    if disputed:
        parts.append(
            ngettext("%(count)d disputed", "%(count)d disputed", disputed) % {"count": disputed}
        )
    return "; ".join(parts)


def cells_of(kind: str, components: Mapping[str, Any]) -> list[Cell]:
    """Every component of ``kind`` in the order of the methodology, missing ones as "—"."""
    return [component_cell(kind, key, components.get(key)) for key, _ in COMPONENT_LABELS[kind]]


# --- Periods -------------------------------------------------------------------------------------


ROMAN = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def roman(number: int) -> str:
    """4 → "IV", 8 → "VIII": quarters and convocations are numbered so in Russian and Kazakh."""
    digits = []
    for value, letters in ROMAN:
        while number >= value:
            digits.append(letters)
            number -= value
    return "".join(digits)


#: Where quarters are numbered in Roman numerals ("IV квартал 2026") and month names are
#: written in lower case ("июль 2026"); elsewhere "Q4 2026" and "July 2026".
ROMAN_NUMBERING_LANGUAGES = frozenset({"ru", "kk"})


def period_label(key: str) -> str:
    """A period key in words, in the active language: ``2026-07`` → "июль 2026",
    ``2026-Q4`` → "IV квартал 2026", ``2026`` → "2026 год", ``rolling90`` → "Последние
    90 дней", ``conv-8`` → "VIII созыв". A key that cannot be read is shown as it is."""
    try:
        period = Period.parse(key)
    except InvalidPeriod:
        return key
    local = (get_language() or "").split("-")[0] in ROMAN_NUMBERING_LANGUAGES
    if period.kind == MONTH and period.year and period.month:
        label = formats.date_format(datetime.date(period.year, period.month, 1), "F Y")
        return label.lower() if local else label
    if period.kind == QUARTER and period.quarter:
        number = roman(period.quarter) if local else str(period.quarter)
        return gettext("Q%(quarter)s %(year)s") % {"quarter": number, "year": period.year}
    if period.kind == YEAR:
        return pgettext("a calendar year as a period", "%(year)s") % {"year": period.year}
    if period.kind == ROLLING and period.days:
        return ngettext("Last %(days)d day", "Last %(days)d days", period.days) % {
            "days": period.days
        }
    return gettext("%(roman)s convocation") % {"roman": roman(int(period.convocation or 0))}


@dataclass(frozen=True)
class AskedPeriod:
    """``?period=`` as read: its key (None when absent or unreadable) and why it was not read."""

    key: str | None
    error: str = ""


def parse_period(raw: str | None) -> AskedPeriod:
    """The period a page was asked for; one that cannot be read is reported, not a 500."""
    if not raw:
        return AskedPeriod(key=None)
    try:
        return AskedPeriod(key=Period.parse(raw).key)
    except InvalidPeriod as exc:
        return AskedPeriod(key=None, error=str(exc.message))


@dataclass
class PeriodChoice:
    """The period shown and the options of the period chooser, grouped by kind of period."""

    key: str
    label: str
    error: str = ""  # Period.parse's message when ?period= could not be read
    groups: list[dict[str, Any]] = field(default_factory=list)


def period_choice(key: str, computed: list[str], *, error: str = "") -> PeriodChoice:
    """The chooser with ``key`` selected: the computed periods, and ``key`` if not among them."""
    keys = computed if key in computed else [key, *computed]
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in PERIOD_GROUPS}
    for option in keys:
        by_kind[Period.parse(option).kind].append(
            {"key": option, "label": period_label(option), "selected": option == key}
        )
    groups = [
        {"label": label, "options": by_kind[kind]} for kind, label in PERIOD_GROUPS if by_kind[kind]
    ]
    return PeriodChoice(key=key, label=period_label(key), error=error, groups=groups)


def choose_period(raw: str | None, computed: list[str]) -> PeriodChoice:
    """The period of ``?period=`` (or the default of ``selectors.default_period``) and the
    chooser's options; a period that cannot be read is reported and the default shown."""
    asked = parse_period(raw)
    return period_choice(asked.key or default_period(computed), computed, error=asked.error)


# --- Addresses ---------------------------------------------------------------------------------


def query(params: Mapping[str, Any], **updates: Any) -> str:
    """``?…`` of ``params`` with ``updates`` (None removes a parameter)."""
    merged = {key: value for key, value in params.items() if value != ""}
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "?" + urlencode(merged) if merged else "?"


def entity_url(kind: str, entity_id: int, period: str) -> str:
    name = "kpi:department" if kind == DEPARTMENT else "kpi:deputy"
    return reverse(name, args=[entity_id]) + "?" + urlencode({"period": period})


# --- The rankings table --------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingLine:
    entity_id: int
    name: str
    url: str
    rank: int | None
    insufficient_data: bool
    rated_items: int
    composite: float | None
    cells: list[Cell]


def ranking_lines(kind: str, rankings: Rankings | None, period: str) -> list[RankingLine]:
    if rankings is None:
        return []
    return [
        RankingLine(
            entity_id=row.entity["id"],
            name=row.entity.get("name") or str(row.entity["id"]),
            url=entity_url(kind, row.entity["id"], period),
            rank=row.rank,
            insufficient_data=row.insufficient_data,
            rated_items=row.rated_items,
            composite=row.composite,
            cells=cells_of(kind, row.components),
        )
        for row in rankings.rows
    ]


def sort_keys(kind: str) -> set[str]:
    """What ``?sort=`` may name (with or without a leading ``-``)."""
    return {"rank", "composite", *(key for key, _ in COMPONENT_LABELS[kind])}


def sorted_lines(lines: list[RankingLine], sort: str) -> list[RankingLine]:
    """The rows in the order of ``?sort=`` (``key`` ascending, ``-key`` descending).

    Entities without a value for the key come last either way; the ranking's own order
    (rank, then composite) settles ties, since Python's sort is stable.
    """
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    # Entities with too few rated items have no rank and no score: always last.
    ranked = [line for line in lines if not line.insufficient_data]
    unranked = [line for line in lines if line.insufficient_data]
    if key in ("", "rank"):
        return (ranked if not descending else list(reversed(ranked))) + unranked

    def value(line: RankingLine) -> float | None:
        if key == "composite":
            return line.composite
        return next((cell.value for cell in line.cells if cell.key == key), None)

    present = [line for line in ranked if value(line) is not None]
    missing = [line for line in ranked if value(line) is None]
    present.sort(key=lambda line: value(line) or 0.0, reverse=descending)
    return present + missing + unranked


def sort_columns(kind: str, params: Mapping[str, Any], current: str) -> list[dict[str, Any]]:
    """Each column's header: its label and the address that sorts by it (best first)."""
    columns = [("composite", _("Composite")), *COMPONENT_LABELS[kind]]
    result = []
    for key, label in columns:
        best_first = key if key in LOWER_IS_BETTER else f"-{key}"
        # A second click on the column sorts it the other way round.
        target = best_first
        if current == best_first:
            target = key if best_first.startswith("-") else f"-{key}"
        state = ""
        if current.lstrip("-") == key:
            state = "descending" if current.startswith("-") else "ascending"
        result.append(
            {"key": key, "label": label, "url": query(params, sort=target), "state": state}
        )
    return result


# --- An entity's page ----------------------------------------------------------------------------


def trend_chart(kind: str, history: EntityHistory) -> dict[str, Any]:
    """The trend chart's data (composite, and the shares in %) and the table under it."""
    labels = [period_label(point.period) for point in history.points]
    datasets: list[dict[str, Any]] = [
        {
            "key": "composite",
            "label": gettext("Composite (0–100)"),
            "data": [point.composite for point in history.points],
            "hidden": False,
        }
    ]
    for key, label in COMPONENT_LABELS[kind]:
        if key not in SHARE_KEYS:
            continue
        data = []
        for point in history.points:
            value = (point.components.get(key) or {}).get("value")
            data.append(None if value is None else round(100 * value, 1))
        datasets.append(
            {
                "key": key,
                "label": gettext("%(component)s, %%") % {"component": label},
                "data": data,
                "hidden": True,
            }
        )
    rows = [
        {
            "period": label,
            "rank": point.rank,
            "insufficient_data": point.insufficient_data,
            "composite": point.composite,
            "cells": cells_of(kind, point.components),
        }
        for label, point in zip(labels, history.points, strict=True)
    ]
    return {"chart": {"labels": labels, "datasets": datasets}, "rows": rows}


def weights_table(kind: str, weights: Mapping[str, float]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "weight": weights[key]}
        for key, label in COMPONENT_LABELS[kind]
        if key in weights
    ]


def weights_headers(kind: str) -> list[str | Promise]:
    return [label for key, label in COMPONENT_LABELS[kind] if key in DEFAULT_WEIGHTS[kind]]


def history_rows(kind: str, versions: Iterable[WeightsVersion]) -> list[dict[str, Any]]:
    """The weights' versions, newest first, each with its weights in the headers' order."""
    # The headers' columns (``weights_headers``): a version without a component (older than
    # it) shows an empty cell in its column.
    keys = [key for key, _ in COMPONENT_LABELS[kind] if key in DEFAULT_WEIGHTS[kind]]
    return [
        {
            "version": version,
            "weights": [version.weights.get(key) for key in keys],
        }
        for version in versions
    ]


# --- The perception survey -----------------------------------------------------------------------


def survey_chart(report: list[dict[str, Any]], questions: list[dict[str, str]]) -> dict[str, Any]:
    """The gap (deputies − civil servants) per question over the years, oldest first: only
    rounds whose results are published (closed)."""
    rounds = sorted(
        (entry for entry in report if entry["results_published"]), key=lambda e: e["year"]
    )
    return {
        "labels": [str(entry["year"]) for entry in rounds],
        "datasets": [
            {
                "key": question["key"],
                "label": question["label"],
                "data": [entry["gap"][question["key"]] for entry in rounds],
                "hidden": False,
            }
            for question in questions
        ],
    }


def survey_rounds(
    report: list[dict[str, Any]], questions: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Each round's table: per question the two pools' means and the gap, and the counts."""
    servants, deputies = SurveyPool.CIVIL_SERVANTS, SurveyPool.DEPUTIES
    return [
        {
            "entry": entry,
            "lines": [
                {
                    "label": question["label"],
                    "civil_servants": entry["pools"][servants][question["key"]],
                    "deputies": entry["pools"][deputies][question["key"]],
                    "gap": entry["gap"][question["key"]],
                }
                for question in questions
            ],
            "n_civil_servants": entry["pools"][servants]["n"],
            "n_deputies": entry["pools"][deputies]["n"],
            "hidden_civil_servants": entry["pools"][servants]["suppressed"],
            "hidden_deputies": entry["pools"][deputies]["suppressed"],
        }
        for entry in report
    ]


def chart_rows(chart: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The survey chart as the table under it: one row per year, one gap per question."""
    return [
        {"year": year, "gaps": [dataset["data"][index] for dataset in chart["datasets"]]}
        for index, year in enumerate(chart["labels"])
    ]


# --- The KPI section's own menu and the staff pages ----------------------------------------------


def section_menu(actor: Actor, active: str) -> list[dict[str, Any]]:
    """Rankings, methodology, survey for everyone; activities and staff pages by role."""
    entries: list[tuple[str, str | Promise, str]] = [
        ("index", _("Rankings"), "bar-chart"),
        ("methodology", _("Methodology"), "calculator"),
        ("survey", _("Perception survey"), "clipboard-data"),
    ]
    if permissions.can_see_activities(actor):
        entries.append(("activities", _("Activities"), "people"))
    if permissions.can_see_weights_page(actor):
        entries.append(("weights", _("Weights"), "sliders"))
    if permissions.can_see_flags(actor):
        entries.append(("flags", _("Rater flags"), "flag"))
    return [
        {"url": reverse(f"kpi:{name}"), "label": label, "icon": icon, "active": name == active}
        for name, label, icon in entries
    ]


def own_page(actor: Actor) -> str | None:
    """The signed-in deputy's or department officer's own KPI page."""
    if actor.deputy_id is not None:
        return reverse("kpi:deputy", args=[actor.deputy_id])
    if actor.department_id is not None:
        return reverse("kpi:department", args=[actor.department_id])
    return None


KIND_TITLES: tuple[tuple[str, str | Promise], ...] = (
    (DEPARTMENT, _("Departments")),
    (DEPUTY, _("Deputies")),
)


def methodology_sections(page: MethodologyPage) -> list[dict[str, Any]]:
    """The methodology per kind: its formulas, weights in force and their history."""
    keys = {DEPARTMENT: "departments", DEPUTY: "deputies"}
    return [
        {
            "kind": kind,
            "title": title,
            "section": page.data[keys[kind]],
            "weights": weights_table(kind, page.data[keys[kind]]["weights"]),
            "history": history_rows(kind, page.history[kind]),
            "weights_headers": weights_headers(kind),
        }
        for kind, title in KIND_TITLES
    ]


def promises_note(page: MethodologyPage) -> dict[str, Any]:
    """Promises kept on the methodology page: its minimum, its weight in force, and the
    first version of the departments' weights that gave it one (None while none did)."""
    section = page.data["departments"]
    since = [
        version.version
        for version in page.history[DEPARTMENT]
        if version.weights.get("promises", 0) > 0
    ]
    return {
        "min_due": page.data["constants"]["promises_min_due"],
        "weight": section["weights"].get("promises"),
        "version": section["weights_version"],
        "since_version": min(since) if since else None,
    }


def weights_sections(
    versions: Mapping[str, WeightsPage], forms: Mapping[str, WeightsForm]
) -> list[dict[str, Any]]:
    """The weights page per kind: the form, the version in force and every version."""
    return [
        {
            "kind": kind,
            "title": title,
            "form": forms[kind],
            "current": versions[kind].current,
            "headers": weights_headers(kind),
            "history": history_rows(kind, versions[kind].history),
        }
        for kind, title in KIND_TITLES
    ]


FLAG_FILTERS: tuple[tuple[str, str | Promise], ...] = (
    (FlagStatus.OPEN, _("Awaiting review")),
    ("all", _("All")),
)


def flag_entries(
    flags: Iterable[RaterFlag], names: Mapping[str, Mapping[int, Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """Each flag with its rater's name (``#id`` when unknown) and its own review form."""
    return [
        {
            "flag": flag,
            "rater": names.get(flag.rater_kind, {}).get(flag.rater_id, {}).get("name")
            or f"#{flag.rater_id}",
            "form": FlagReviewForm(auto_id=f"id_flag{flag.pk}_%s"),
        }
        for flag in flags
    ]


def flag_filters(status: str) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "url": f"?status={key}", "active": key == status}
        for key, label in FLAG_FILTERS
    ]
