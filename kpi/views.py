"""The browser pages of the two-way KPI: rankings, an entity's page, the methodology,
the staff pages (weights, rater flags), deputies' activities and the perception survey.

Views parse input, call the selectors and services the API calls (``kpi/api.py``), and
shape the result for the templates: every number shown comes from a stored snapshot,
nothing is computed here. Charts get their data through ``json_script`` and are drawn
by ``static/js/kpi.js``; every chart has its numbers in a table under it.

Rankings, entity pages, the methodology and the survey report are public (domain.md:
the public sees KPI rankings and the methodology); the weights and the rater flags are
for maslikhat staff; activities for deputies (their own) and staff (anyone's).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maslikhat.core.web import call_service, form_errors_as_text
from maslikhat.directory import selectors as directory_selectors
from maslikhat.directory.actors import Actor, actor_for

from . import permissions, selectors, services
from .calculators import DEFAULT_WEIGHTS, DEPARTMENT, DEPUTY, MIN_RATED_ITEMS
from .forms import (
    COMPONENT_LABELS,
    ActivityForm,
    FlagReviewForm,
    SurveyAnswerForm,
    SurveyRoundOpenForm,
    WeightsForm,
    component_label,
)
from .models import DeputyActivity, FlagStatus, SurveyAnswer, SurveyPool
from .periods import CONVOCATION, MONTH, QUARTER, ROLLING, YEAR, InvalidPeriod, Period
from .selectors import NoSnapshot, RankingRow, Rankings

KINDS = (DEPARTMENT, DEPUTY)
DEFAULT_PERIOD = "rolling90"
PAGE_SIZE = 25

#: Shares (shown as "83% (62–94%)", the 95% Wilson interval in brackets).
SHARE_KEYS = frozenset({"timeliness", "rework", "resolution", "discipline", "follow_through"})
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


# --- The KPI section's own menu ----------------------------------------------------------------


def _section_menu(request: HttpRequest, active: str) -> list[dict[str, Any]]:
    """Rankings, methodology, survey for everyone; activities and staff pages by role."""
    actor = actor_for(request.user)
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


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    active: str = "",
    status: int = 200,
) -> HttpResponse:
    context["kpi_menu"] = _section_menu(request, active)
    return render(request, template, context, status=status)


# --- Formatting: numbers in, words out (never computing) -----------------------------------------


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


def component_cell(kind: str, key: str, component: dict[str, Any] | None) -> Cell:
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


def cells_of(kind: str, components: dict[str, Any]) -> list[Cell]:
    return [component_cell(kind, key, components.get(key)) for key, _ in COMPONENT_LABELS[kind]]


def period_label(key: str) -> str:
    """``2026-07`` → "July 2026", ``2026-Q3`` → "Q3 2026", ``rolling90`` → "Last 90 days"."""
    try:
        period = Period.parse(key)
    except InvalidPeriod:
        return key
    if period.kind == MONTH and period.year and period.month:
        return formats.date_format(datetime.date(period.year, period.month, 1), "F Y")
    if period.kind == QUARTER:
        return gettext("Q%(quarter)s %(year)s") % {"quarter": period.quarter, "year": period.year}
    if period.kind == YEAR:
        return str(period.year)
    if period.kind == ROLLING and period.days:
        return ngettext("Last %(days)d day", "Last %(days)d days", period.days) % {
            "days": period.days
        }
    return gettext("Convocation %(number)s, the whole term") % {"number": period.convocation}


def _query(params: QueryDict, **updates: Any) -> str:
    """``?…`` of ``params`` with ``updates`` (None removes a parameter)."""
    merged = {key: value for key, value in params.items() if value != ""}
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return "?" + urlencode(merged) if merged else "?"


# --- The period chooser ------------------------------------------------------------------------


@dataclass
class PeriodChoice:
    key: str
    label: str
    error: str = ""  # Period.parse's message when ?period= could not be read
    groups: list[dict[str, Any]] = field(default_factory=list)


def choose_period(raw: str | None, computed: list[str]) -> PeriodChoice:
    """The period of ``?period=`` (or the default), and the options of the chooser.

    The default is the rolling 90 days when they were computed, else the newest period
    that was. A period that cannot be read is reported and the default shown instead.
    """
    default = DEFAULT_PERIOD if DEFAULT_PERIOD in computed or not computed else computed[0]
    key, error = default, ""
    if raw:
        try:
            key = Period.parse(raw).key
        except InvalidPeriod as exc:
            error = str(exc.message)
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


def _rankings_or_none(kind: str, period: str) -> Rankings | None:
    try:
        return selectors.kpi_rankings(kind, period)
    except (NoSnapshot, InvalidPeriod):
        return None


#: The largest id a database column holds (SQLite and PostgreSQL bigint).
MAX_ID = 2**63 - 1


def _id_or_404(pk: int) -> int:
    """An id from the URL; one too large for the database is simply not found (not a 500)."""
    if pk > MAX_ID:
        raise Http404
    return pk


def _own_page(actor: Actor) -> str | None:
    """The signed-in deputy's or department officer's own KPI page."""
    if actor.deputy_id is not None:
        return reverse("kpi:deputy", args=[actor.deputy_id])
    if actor.department_id is not None:
        return reverse("kpi:department", args=[actor.department_id])
    return None


def _entity_url(kind: str, entity_id: int, period: str) -> str:
    name = "kpi:department" if kind == DEPARTMENT else "kpi:deputy"
    return reverse(name, args=[entity_id]) + "?" + urlencode({"period": period})


# --- /kpi/: the rankings ------------------------------------------------------------------------


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


def _sorted(lines: list[RankingLine], sort: str) -> list[RankingLine]:
    """The rows in the order of ``?sort=`` (``key`` ascending, ``-key`` descending).

    Entities without a value for the key come last either way; the ranking's own order
    (rank, then composite) settles ties, since Python's sort is stable.
    """
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key in ("", "rank"):
        return lines if not descending else list(reversed(lines))

    def value(line: RankingLine) -> float | None:
        if key == "composite":
            return line.composite
        return next((cell.value for cell in line.cells if cell.key == key), None)

    present = [line for line in lines if value(line) is not None]
    missing = [line for line in lines if value(line) is None]
    present.sort(key=lambda line: value(line) or 0.0, reverse=descending)
    return present + missing


def _sort_columns(kind: str, params: QueryDict, current: str) -> list[dict[str, Any]]:
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
            {
                "key": key,
                "label": label,
                "url": _query(params, sort=target),
                "state": state,
            }
        )
    return result


@require_GET
def kpi_index(request: HttpRequest) -> HttpResponse:
    """Rankings of departments or deputies for a period, every component shown."""
    kind = request.GET.get("kind", DEPARTMENT)
    if kind not in KINDS:
        kind = DEPARTMENT
    choice = choose_period(request.GET.get("period"), selectors.kpi_periods())
    rankings = _rankings_or_none(kind, choice.key)
    sort = request.GET.get("sort", "")
    allowed = {"rank", "composite", *(key for key, _ in COMPONENT_LABELS[kind])}
    if sort.lstrip("-") not in allowed:
        sort = ""
    lines = _sorted(_ranking_lines(kind, rankings, choice.key), sort)
    params = request.GET.copy()
    params["period"] = choice.key
    params["kind"] = kind
    context = {
        "kind": kind,
        "period": choice,
        "rankings": rankings,
        "lines": lines,
        "has_unranked": any(line.insufficient_data for line in lines),
        "sort": sort,
        "columns": _sort_columns(kind, params, sort),
        "rank_url": _query(params, sort=None),
        "tabs": [
            {
                "kind": tab,
                "label": label,
                "url": _query(params, kind=tab, sort=None),
                "active": tab == kind,
            }
            for tab, label in ((DEPARTMENT, _("Departments")), (DEPUTY, _("Deputies")))
        ],
        "own_page": _own_page(actor_for(request.user)),
        "min_rated_items": MIN_RATED_ITEMS,
    }
    return _render(request, "kpi/index.html", context, active="index")


def _ranking_lines(kind: str, rankings: Rankings | None, period: str) -> list[RankingLine]:
    if rankings is None:
        return []
    return [
        RankingLine(
            entity_id=row.entity["id"],
            name=row.entity.get("name") or str(row.entity["id"]),
            url=_entity_url(kind, row.entity["id"], period),
            rank=row.rank,
            insufficient_data=row.insufficient_data,
            rated_items=row.rated_items,
            composite=row.composite,
            cells=cells_of(kind, row.components),
        )
        for row in rankings.rows
    ]


# --- A department's or a deputy's page ----------------------------------------------------------


def _trend_chart(kind: str, history: selectors.EntityHistory) -> dict[str, Any]:
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


def _weights_table(kind: str, weights: dict[str, float]) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "weight": weights[key]}
        for key, label in COMPONENT_LABELS[kind]
        if key in weights
    ]


def _entity_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    entity = selectors.kpi_entity(kind, _id_or_404(pk))
    if entity is None:
        raise Http404
    choice = choose_period(request.GET.get("period"), selectors.kpi_periods())
    rankings = _rankings_or_none(kind, choice.key)
    row: RankingRow | None = None
    if rankings is not None:
        row = next((r for r in rankings.rows if r.entity["id"] == pk), None)
    trend = request.GET.get("trend", "month")
    if trend not in dict(HISTORY_CHOICES):
        trend = "month"
    history = selectors.kpi_entity_history(kind, pk, periods=trend)
    trend_data = _trend_chart(kind, history)
    if row is not None:
        weights, weights_version = row.weights, row.weights_version
    else:
        in_force = selectors.weights_in_force(kind)
        weights, weights_version = in_force.weights, in_force.version
    params = request.GET.copy()
    params["period"] = choice.key
    context: dict[str, Any] = {
        "kind": kind,
        "entity": entity,
        "period": choice,
        "rankings": rankings,
        "row": row,
        "cells": cells_of(kind, row.components) if row else [],
        "trend": trend,
        "trend_links": [
            {"key": key, "label": label, "url": _query(params, trend=key), "active": key == trend}
            for key, label in HISTORY_CHOICES
        ],
        "trend_chart": trend_data["chart"],
        "trend_rows": trend_data["rows"],
        "trend_columns": [label for _, label in COMPONENT_LABELS[kind]],
        "weights": _weights_table(kind, weights),
        "weights_version": weights_version,
        "rankings_url": reverse("kpi:index") + _query(QueryDict(), period=choice.key, kind=kind),
    }
    if kind == DEPUTY:
        context.update(_deputy_extras(request, pk, rankings))
    return _render(request, "kpi/entity.html", context, active="index")


def _deputy_extras(request: HttpRequest, pk: int, rankings: Rankings | None) -> dict[str, Any]:
    """The deputy's party and district, and their activities in the period.

    Only what is public about a deputy: name, party, district; the activities without
    their notes (a note may name the citizens who came).
    """
    # (Its commissions are not shown here: no need for the list's prefetch.)
    profile = (
        directory_selectors.deputy_list(user=request.user)
        .prefetch_related(None)
        .filter(pk=pk)
        .first()
    )
    activities: list[DeputyActivity] = []
    if rankings is not None:
        # No selector lists one deputy's activities for the public yet (``activity_list``
        # is scoped to the signed-in deputy or staff): one indexed read, bounded by the
        # period. Reported to the KPI backend's owner.
        activities = list(
            DeputyActivity.objects.filter(
                deputy_id=pk, date__range=(rankings.period_start, rankings.period_end)
            ).select_related("district")[:200]
        )
    return {"profile": profile, "activities": activities}


@require_GET
def department_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A department's KPI: composite and components for a period, the trend, the weights."""
    return _entity_page(request, DEPARTMENT, pk)


@require_GET
def deputy_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A deputy's KPI, as a department's, plus their activities in the period."""
    return _entity_page(request, DEPUTY, pk)


# --- The methodology ---------------------------------------------------------------------------


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    """The formulas, the weights in force, the safeguards and the weights' history."""
    data = selectors.methodology()
    sections = []
    for kind, key, title in (
        (DEPARTMENT, "departments", _("Departments")),
        (DEPUTY, "deputies", _("Deputies")),
    ):
        section = data[key]
        sections.append(
            {
                "kind": kind,
                "title": title,
                "section": section,
                "weights": _weights_table(kind, section["weights"]),
                "history": _history_rows(kind, selectors.weights_history(kind)),
                "weights_headers": _weights_headers(kind),
            }
        )
    return _render(
        request,
        "kpi/methodology.html",
        {"data": data, "sections": sections, "constants": data["constants"]},
        active="methodology",
    )


def _history_rows(kind: str, versions: Iterable[selectors.WeightsVersion]) -> list[dict[str, Any]]:
    keys = [key for key, _ in COMPONENT_LABELS[kind]]
    return [
        {
            "version": version,
            "weights": [version.weights.get(key) for key in keys if key in version.weights],
        }
        for version in versions
    ]


# --- Staff: the weights and the rater flags ----------------------------------------------------


def _require(request: HttpRequest, predicate: Callable[[Actor], bool]) -> Actor:
    """The actor, when ``predicate`` (one of ``kpi/permissions.py``) lets them in; else 403."""
    actor = actor_for(request.user)
    if not predicate(actor):
        raise PermissionDenied
    return actor


def _weights_headers(kind: str) -> list[str | Promise]:
    return [label for key, label in COMPONENT_LABELS[kind] if key in DEFAULT_WEIGHTS[kind]]


@login_required
@require_http_methods(["GET", "POST"])
def weights_edit(request: HttpRequest) -> HttpResponse:
    """Staff put a new version of the weights in force (one form per kind); the chair and
    administrators read the versions."""
    actor = _require(request, permissions.can_see_weights_page)
    can_edit = permissions.can_edit_weights(actor)
    forms_by_kind = {
        kind: WeightsForm(kind=kind, initial=selectors.weights_in_force(kind).weights)
        for kind in KINDS
    }
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        kind = request.POST.get("kind", "")
        if kind not in KINDS:
            messages.error(request, gettext("Choose the weights of departments or of deputies."))
            return redirect("kpi:weights")
        form = WeightsForm(request.POST, kind=kind)
        forms_by_kind[kind] = form
        status = 400
        if form.is_valid():
            saved = call_service(
                request,
                services.kpi_weights_set,
                form=form,
                success=lambda row: (
                    gettext("Version %(version)s of the weights is in force.")
                    % {"version": row.version}
                ),
                by=request.user,
                **form.service_kwargs(),
            )
            if saved.ok:
                return redirect(reverse("kpi:weights") + f"#weights-{kind}")
            status = saved.status
    sections = [
        {
            "kind": kind,
            "title": title,
            "form": forms_by_kind[kind],
            "current": selectors.weights_in_force(kind),
            "headers": _weights_headers(kind),
            "history": _history_rows(kind, selectors.weights_history(kind)),
        }
        for kind, title in ((DEPARTMENT, _("Departments")), (DEPUTY, _("Deputies")))
    ]
    return _render(
        request,
        "kpi/weights.html",
        {"sections": sections, "can_edit": can_edit},
        active="weights",
        status=status,
    )


FLAG_FILTERS: tuple[tuple[str, str | Promise], ...] = (
    (FlagStatus.OPEN, _("Awaiting review")),
    ("all", _("All")),
)


@login_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    """Raters who gave one score to 10 or more items in a row: staff review them, the chair
    and administrators read them."""
    actor = _require(request, permissions.can_see_flags)
    status = request.GET.get("status", FlagStatus.OPEN)
    if status not in dict(FLAG_FILTERS):
        status = FlagStatus.OPEN
    flags = selectors.rater_flag_list(status=None if status == "all" else status)
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = {
        kind: selectors.entity_labels(
            kind, [flag.rater_id for flag in rows if flag.rater_kind == kind]
        )
        for kind in KINDS
        if any(flag.rater_kind == kind for flag in rows)
    }
    entries = [
        {
            "flag": flag,
            "rater": names.get(flag.rater_kind, {}).get(flag.rater_id, {}).get("name")
            or f"#{flag.rater_id}",
            "form": FlagReviewForm(auto_id=f"id_flag{flag.pk}_%s"),
        }
        for flag in rows
    ]
    return _render(
        request,
        "kpi/flags.html",
        {
            "entries": entries,
            "page": page,
            "status": status,
            "filters": [
                {"key": key, "label": label, "url": f"?status={key}", "active": key == status}
                for key, label in FLAG_FILTERS
            ],
            "page_query": f"?status={status}",
            "can_review": permissions.can_review_flags(actor),
        },
        active="flags",
    )


@login_required
@require_POST
def flag_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: the ratings stand (dismiss) or were given formally (confirm), with a note."""
    _require(request, permissions.can_review_flags)
    form = FlagReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_as_text(form))
    else:
        call_service(
            request,
            services.rater_flag_review,
            success=gettext("The review of the flag was saved."),
            by=request.user,
            flag_id=_id_or_404(pk),
            status=form.cleaned_data["status"],
            note=form.cleaned_data.get("note") or "",
        )
    return redirect(reverse("kpi:flags") + _query(request.GET))


# --- Deputies' activities ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def activities(request: HttpRequest) -> HttpResponse:
    """A deputy records their receptions, reports and visits; staff record anyone's."""
    actor = _require(request, permissions.can_see_activities)
    records = permissions.can_record_activity(actor)
    own_deputy_id = actor.deputy_id if actor.is_deputy else None

    def make_form(data: QueryDict | None = None) -> ActivityForm:
        return ActivityForm(
            data,
            deputies=directory_selectors.deputy_list(user=request.user),
            districts=directory_selectors.district_list(),
            own_deputy_id=own_deputy_id,
        )

    form = make_form() if records else None
    status = 200
    if request.method == "POST":
        if not records:
            raise PermissionDenied
        form = make_form(request.POST)
        status = 400
        if form.is_valid():
            recorded = call_service(
                request,
                services.deputy_activity_record,
                form=form,
                success=gettext("The activity was recorded."),
                by=request.user,
                **form.service_kwargs(),
            )
            if recorded.ok:
                return redirect("kpi:activities")
            status = recorded.status
    page = Paginator(selectors.activity_list(actor=actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return _render(
        request,
        "kpi/activities.html",
        {
            "form": form,
            "page": page,
            "rows": list(page.object_list),
            "shows_deputy": not actor.is_deputy,
            "own_page": _own_page(actor),
            "page_query": "?",
        },
        active="activities",
        status=status,
    )


# --- The perception survey --------------------------------------------------------------------


def _survey_chart(report: list[dict[str, Any]], questions: list[dict[str, str]]) -> dict[str, Any]:
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


def _survey_page(
    request: HttpRequest,
    *,
    form: SurveyAnswerForm | None = None,
    open_form: SurveyRoundOpenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_for(request.user)
    questions = selectors.survey_questions()
    report = selectors.survey_report()
    open_round = selectors.survey_open_round()
    pool = services.survey_pool_of(actor)
    answered = False
    if open_round is not None and actor.user is not None and pool is not None:
        # No selector says whether a person answered a round yet: one indexed EXISTS on
        # the unique (round, respondent). Reported to the KPI backend's owner.
        answered = SurveyAnswer.objects.filter(round=open_round, respondent=actor.user).exists()
    may_answer = open_round is not None and pool is not None and not answered
    if may_answer and form is None:
        form = SurveyAnswerForm(questions=questions)
    staff = permissions.can_manage_survey_rounds(actor)
    rounds = [
        {
            "entry": entry,
            "lines": [
                {
                    "label": question["label"],
                    "civil_servants": entry["pools"][SurveyPool.CIVIL_SERVANTS][question["key"]],
                    "deputies": entry["pools"][SurveyPool.DEPUTIES][question["key"]],
                    "gap": entry["gap"][question["key"]],
                }
                for question in questions
            ],
            "n_civil_servants": entry["pools"][SurveyPool.CIVIL_SERVANTS]["n"],
            "n_deputies": entry["pools"][SurveyPool.DEPUTIES]["n"],
            "hidden_civil_servants": entry["pools"][SurveyPool.CIVIL_SERVANTS]["suppressed"],
            "hidden_deputies": entry["pools"][SurveyPool.DEPUTIES]["suppressed"],
        }
        for entry in report
    ]
    chart = _survey_chart(report, questions)
    context = {
        "questions": questions,
        "rounds": rounds,
        "chart": chart,
        "chart_rows": [
            {"year": year, "gaps": [dataset["data"][index] for dataset in chart["datasets"]]}
            for index, year in enumerate(chart["labels"])
        ],
        "open_round": open_round,
        "min_group_answers": selectors.survey_min_group_answers(),
        "pool": pool,
        "pool_label": SurveyPool(pool).label if pool else "",
        "answered": answered,
        "form": form if may_answer else None,
        "staff": staff,
        "open_form": open_form
        or (SurveyRoundOpenForm(initial={"year": timezone.localdate().year}) if staff else None),
    }
    return _render(request, "kpi/survey.html", context, active="survey", status=status)


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest) -> HttpResponse:
    """The survey report (public); a deputy or civil servant answers the open round here."""
    if request.method != "POST":
        return _survey_page(request)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={reverse('kpi:survey')}")
    form = SurveyAnswerForm(request.POST, questions=selectors.survey_questions())
    if not form.is_valid():
        return _survey_page(request, form=form, status=400)
    answered = call_service(
        request,
        services.survey_answer_submit,
        form=form,
        success=gettext("Thank you: your answers were recorded."),
        by=request.user,
        **form.service_kwargs(),
    )
    if answered.ok:
        return redirect("kpi:survey")
    return _survey_page(request, form=form, status=answered.status)


@login_required
@require_POST
def survey_round_open(request: HttpRequest) -> HttpResponse:
    """Staff open this year's round."""
    _require(request, permissions.can_manage_survey_rounds)
    form = SurveyRoundOpenForm(request.POST)
    if not form.is_valid():
        return _survey_page(request, open_form=form, status=400)
    opened = call_service(
        request,
        services.survey_round_open,
        form=form,
        success=lambda survey: (
            gettext("The survey round of %(year)s is open.") % {"year": survey.year}
        ),
        by=request.user,
        year=form.cleaned_data["year"],
    )
    if opened.ok:
        return redirect("kpi:survey")
    return _survey_page(request, open_form=form, status=opened.status)


@login_required
@require_POST
def survey_round_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff close a round; its answers then only feed the report."""
    _require(request, permissions.can_manage_survey_rounds)
    call_service(
        request,
        services.survey_round_close,
        success=lambda survey: (
            gettext("The survey round of %(year)s is closed.") % {"year": survey.year}
        ),
        by=request.user,
        round_id=_id_or_404(pk),
    )
    return redirect("kpi:survey")
