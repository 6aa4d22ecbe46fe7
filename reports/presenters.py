"""What the dashboards and the public statistics show, declared as data.

Each dashboard is a list of counter cards (title, the selector's counter it reads, its
colour, the registry filter it opens) and a list of charts (chart type, the rows it reads,
the field that labels a bar, its series). ``cards`` and ``charts`` turn those declarations
and a selector's result into what ``templates/reports/_counter_cards.html`` and
``_chart.html`` show; the ``*_context`` functions add the tables' links and sorting, so the
views in ``views.py`` and ``public_views.py`` only check access, read and render.
Nothing here reads requests from the database: every figure comes from ``selectors.py``
or ``public.py``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maslikhat.core.web import deadline_badge, page_calendar
from requests_app.models import DEADLINE_STATUSES, DeputyRequest, RequestStatus

from . import selectors

S = RequestStatus
IN_PROGRESS = [S.IN_PROGRESS.value]

# --- Declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """A counter card: ``counter`` of the selector's counters, linking to the registry
    filtered by ``filters(today)``."""

    label: str | Promise
    counter: str
    tone: str  # Bootstrap colour: primary, danger, warning, secondary, info
    filters: Callable[[datetime.date], dict[str, Any]]
    hint: str | Promise | None = None


@dataclass(frozen=True)
class Series:
    label: str | Promise
    field: str  # the row's field drawn


@dataclass(frozen=True)
class Chart:
    """A Chart.js chart: ``charts[key]`` in the template, drawn from the rows ``rows``."""

    key: str
    type: str  # bar, line, doughnut
    rows: str  # which rows it reads (a key of the selector's result or of prepared rows)
    label_field: str  # the row's field that labels a bar, a point or a slice
    series: tuple[Series, ...]
    empty_label: str | Promise | None = None  # the label of a row without a name
    horizontal: bool = False


def _week_end(today: datetime.date) -> datetime.date:
    return today + datetime.timedelta(days=6 - today.weekday())


def _due_this_week(today: datetime.date) -> dict[str, Any]:
    return {
        "status": IN_PROGRESS,
        "due_after": today.isoformat(),
        "due_before": _week_end(today).isoformat(),
    }


RECEIVED = Series(_("Received"), "received")

STAFF_CARDS: tuple[Card, ...] = (
    Card(
        _("Open"),
        "open",
        "primary",
        lambda today: {"status": [s.value for s in selectors.OPEN_STATUSES]},
        hint=_("Submitted, in progress or awaiting evaluation"),
    ),
    Card(
        _("Overdue"),
        "overdue_open",
        "danger",
        lambda today: {"status": IN_PROGRESS, "is_overdue": "true"},
        hint=_("In progress past the due date"),
    ),
    Card(
        _("Due this week"),
        "due_this_week",
        "warning",
        _due_this_week,
        hint=_("In progress, due by Sunday"),
    ),
    Card(
        _("Answered late"),
        "answered_late",
        "secondary",
        lambda today: {"status": [S.ANSWERED.value, S.CLOSED.value], "is_overdue": "true"},
        hint=_("The final answer came after the due date"),
    ),
    Card(
        _("Awaiting evaluation"),
        "awaiting_evaluation",
        "info",
        lambda today: {"status": [S.ANSWERED.value]},
        hint=_("Answered; the deputy has not evaluated the answer yet"),
    ),
)

STAFF_CHARTS: tuple[Chart, ...] = (
    Chart("funnel", "bar", "funnel", "label", (Series(_("Requests"), "count"),), horizontal=True),
    Chart(
        "departments",
        "bar",
        "top_departments",
        "name",
        (RECEIVED, Series(_("On time"), "on_time"), Series(_("Open overdue"), "overdue_open")),
        empty_label=_("Not routed yet"),
        horizontal=True,
    ),
    Chart("districts", "bar", "by_district", "name", (RECEIVED,), empty_label=_("No district")),
    Chart("categories", "bar", "by_category", "name", (RECEIVED,), horizontal=True),
    Chart("months", "line", "by_month", "month", (RECEIVED, Series(_("Answered"), "answered"))),
)

DEPARTMENT_CARDS: tuple[Card, ...] = (
    Card(_("In progress"), "in_progress", "primary", lambda today: {"status": IN_PROGRESS}),
    Card(
        _("Without an executor"),
        "unassigned",
        "warning",
        lambda today: {"status": IN_PROGRESS, "unassigned": "true"},
    ),
    Card(_("Due this week"), "due_this_week", "warning", _due_this_week),
    Card(
        _("Overdue"),
        "overdue_open",
        "danger",
        lambda today: {"status": IN_PROGRESS, "is_overdue": "true"},
    ),
    Card(
        _("Awaiting evaluation"),
        "awaiting_evaluation",
        "info",
        lambda today: {"status": [S.ANSWERED.value]},
    ),
)

DEPARTMENT_CHARTS: tuple[Chart, ...] = (
    Chart(
        "load",
        "bar",
        "executors",
        "name",
        (Series(_("Open"), "open"), Series(_("Overdue"), "overdue")),
        horizontal=True,
    ),
)

DEPUTY_CHARTS: tuple[Chart, ...] = (
    # Only the states the deputy has requests in: a slice of 0 would be invisible anyway.
    Chart("mine", "doughnut", "statuses_in_use", "label", (Series(_("Requests"), "count"),)),
)

PUBLIC_RECEIVED = Series(_("Registered"), "received")
PUBLIC_PUBLISHED = Series(_("Published"), "published")
PUBLIC_STATISTICS_CHARTS: tuple[Chart, ...] = (
    Chart(
        "districts",
        "bar",
        "by_district",
        "name",
        (PUBLIC_RECEIVED, PUBLIC_PUBLISHED),
        empty_label=_("No district"),
    ),
    Chart(
        "categories",
        "bar",
        "by_category",
        "name",
        (PUBLIC_RECEIVED, PUBLIC_PUBLISHED),
        horizontal=True,
    ),
    Chart(
        "months",
        "line",
        "by_month",
        "month",
        (PUBLIC_RECEIVED, Series(_("Answered"), "answered")),
    ),
)

#: The staff dashboard's filter bar (any other list filter still works from the address).
DASHBOARD_FILTERS = (
    "convocation",
    "submitted_after",
    "submitted_before",
    "lead_department",
    "district",
    "category",
)
#: Sortable columns of the staff dashboard's department table.
DEPARTMENT_SORTS: dict[str, str | Promise] = {
    "name": _("Department"),
    "received": _("Received"),
    "answered": _("Answered"),
    "on_time": _("On time"),
    "answered_late": _("Answered late"),
    "median_days": _("Median days"),
    "overdue_open": _("Open overdue"),
}
#: Departments drawn in the staff dashboard's chart (the table lists every one).
CHART_DEPARTMENTS = 12
#: The staff dashboard's tables whose rows open the registry filtered by the row.
ROW_FILTERS = {"by_district": "district", "by_category": "category"}
REGISTRY_FILTERS = frozenset({*selectors.ReportRequestFilter.base_filters, "scope", "ordering"}) - {
    "status"
}


# --- From declarations to what the templates show ----------------------------------------------


def cards(
    specs: Iterable[Card],
    counters: Mapping[str, Any],
    today: datetime.date,
    link: Callable[[dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """The counter cards: label, value, link (``link(filters)``), tone and hint if any."""
    result = []
    for spec in specs:
        card: dict[str, Any] = {"label": str(spec.label), "value": counters[spec.counter]}
        if spec.hint is not None:
            card["hint"] = str(spec.hint)
        card["url"] = link(spec.filters(today))
        card["tone"] = spec.tone
        result.append(card)
    return result


def chart(spec: Chart, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The data a ``<canvas data-chart>`` reads from its ``json_script`` block."""
    labels = []
    for row in rows:
        label = row[spec.label_field]
        if not label and spec.empty_label is not None:
            label = spec.empty_label
        labels.append(str(label) if isinstance(label, Promise) else label)
    datasets = [
        {"label": str(series.label), "data": [row[series.field] for row in rows]}
        for series in spec.series
    ]
    options = {"indexAxis": "y"} if spec.horizontal else {}
    return {"type": spec.type, "labels": labels, "datasets": datasets, "options": options}


def charts(
    specs: Iterable[Chart], rows: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, dict[str, Any]]:
    return {spec.key: chart(spec, rows[spec.rows]) for spec in specs}


def url(name: str, params: QueryDict | dict[str, Any] | None = None, **updates: Any) -> str:
    """``reverse(name)`` with ``params`` (a QueryDict keeps repeated keys) and ``updates``."""
    return with_query(reverse(name), params, **updates)


def with_query(path: str, params: QueryDict | dict[str, Any] | None = None, **updates: Any) -> str:
    """``path`` with ``params`` and ``updates`` as its query: for a page of many links to
    one address, reversed once (the staff dashboard links a hundred rows to the registry)."""
    merged: dict[str, list[str]] = {}
    if isinstance(params, QueryDict):
        merged = {k: [v for v in vs if v != ""] for k, vs in params.lists()}
    elif params:
        merged = {k: [str(v)] for k, v in params.items()}
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    pairs = [(k, v) for k, values in merged.items() for v in values]
    query = urlencode(pairs)
    return path + (f"?{query}" if query else "")


def registry_base(params: QueryDict) -> QueryDict:
    """The dashboard's filters that the registry understands (status is set per link)."""
    base = QueryDict(mutable=True)
    for key, values in params.lists():
        if key in REGISTRY_FILTERS:
            for value in values:
                if value != "":
                    base.appendlist(key, value)
    return base


def style_filter_form(form: forms.Form) -> None:
    """The filter bar's widgets: small Bootstrap controls, date pickers, stable ids."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(
                attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
            )
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select form-select-sm"
        else:
            widget.attrs["class"] = "form-control form-control-sm"
        field.widget.attrs["id"] = f"filter-{name}"


def with_badges(rows: list[DeputyRequest], today: datetime.date) -> list[DeputyRequest]:
    """Each request with its deadline badge ("N working days left", overdue)."""
    calendar = page_calendar(today, (row.due_date for row in rows))
    for row in rows:
        row.deadline_badge = deadline_badge(  # type: ignore[attr-defined]
            due=row.due_date,
            running=row.status in DEADLINE_STATUSES,
            late=row.is_overdue,
            today=today,
            calendar=calendar,
        )
    return rows


def sorted_departments(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    """The department table in the order of ``?sort=`` (``-key`` descending)."""
    key = sort.lstrip("-")
    if key not in DEPARTMENT_SORTS:
        return rows
    descending = sort.startswith("-")

    def value(row: dict[str, Any]) -> Any:
        item = row.get(key)
        if key == "name":
            return (item or "").lower()
        return -1 if item is None else item

    return sorted(rows, key=value, reverse=descending)


def department_sorts(params: QueryDict, sort: str) -> list[dict[str, Any]]:
    """Each header of the department table: the address that sorts by it, and its state.
    Numbers sort largest first on the first click, names from A."""
    result = []
    for key, label in DEPARTMENT_SORTS.items():
        if key == "name":
            target = "-name" if sort == "name" else "name"
        else:
            target = key if sort == f"-{key}" else f"-{key}"
        result.append(
            {
                "key": key,
                "label": label,
                "url": url("reports:dashboard", params, sort=target),
                "state": "desc" if sort == f"-{key}" else ("asc" if sort == key else ""),
            }
        )
    return result


def report_periods(today: datetime.date) -> list[str]:
    """The quarterly PDF report's periods offered: this quarter and the one before."""
    quarter = (today.month - 1) // 3 + 1
    previous = f"{today.year - 1}-Q4" if quarter == 1 else f"{today.year}-Q{quarter - 1}"
    return [f"{today.year}-Q{quarter}", previous]


# --- The three dashboards ------------------------------------------------------------------------


def staff_dashboard_context(data: dict[str, Any], params: QueryDict) -> dict[str, Any]:
    """The staff dashboard (``selectors.staff_dashboard``'s result) for its template."""
    summary = data["summary"]
    today = data["today"]
    form = data["filterset"].form
    style_filter_form(form)
    base = registry_base(params)

    registry_path = reverse("requests:list")

    def registry(**updates: Any) -> str:
        return with_query(registry_path, base, **updates)

    sort = params.get("sort", "-received")
    departments = sorted_departments(summary["by_department"], sort)
    for row in departments:
        department = row["id"]
        row["url"] = registry(lead_department=department) if department else None
        row["overdue_url"] = (
            registry(lead_department=department, status=IN_PROGRESS, is_overdue="true")
            if department
            else None
        )
    for rows, filter_name in ROW_FILTERS.items():
        for row in summary[rows]:
            row["url"] = registry(**{filter_name: row["id"]}) if row["id"] else None
    funnel = [{**step, "label": selectors.funnel_label(step["key"])} for step in summary["funnel"]]
    statuses = [
        {
            "status": status,
            "label": selectors.status_label(status),
            "count": count,
            "url": registry(status=[status]),
        }
        for status, count in summary["by_status"].items()
        if status != S.DRAFT
    ]
    # The chart shows the departments with the most requests; the table under it lists all.
    top_departments = sorted(summary["by_department"], key=lambda r: (-r["received"], r["name"]))
    chart_rows = {
        **summary,
        "funnel": funnel,
        "top_departments": top_departments[:CHART_DEPARTMENTS],
    }
    export_query = urlencode(
        [(k, v) for k, values in base.lists() for v in values if k != "ordering"]
    )
    return {
        "form": form,
        "visible_filters": [form[name] for name in DASHBOARD_FILTERS if name in form.fields],
        "errors": data["errors"],
        "is_filtered": any(params.get(name) for name in DASHBOARD_FILTERS),
        "summary": summary,
        "cards": cards(STAFF_CARDS, summary["counters"], today, lambda f: registry(**f)),
        "funnel": funnel,
        "statuses": statuses,
        "departments": departments,
        "chart_departments": CHART_DEPARTMENTS,
        "department_sorts": department_sorts(params, sort),
        "registry": with_badges(data["registry"], today),
        "registry_url": registry(status=IN_PROGRESS, is_overdue="true", ordering="due_date"),
        "all_url": reverse("requests:list") + (f"?{base.urlencode()}" if base else ""),
        "instructions": data["instructions"],
        "discipline": data["discipline"],
        "promises": data["promises"],
        "charts": charts(STAFF_CHARTS, chart_rows),
        "export_query": export_query,
        "report_periods": report_periods(today),
        "today": today,
    }


def department_dashboard_context(
    data: dict[str, Any], today: datetime.date, *, is_head: bool
) -> dict[str, Any]:
    """A department's dashboard (``selectors.department_dashboard``) for its template."""

    registry_path = reverse("requests:list")

    def registry(filters: dict[str, Any]) -> str:
        return with_query(registry_path, **filters)

    for row in data["executors"]:
        row["url"] = registry({"status": IN_PROGRESS, "executor": row["user_id"]})
    return {
        "department": data["department"],
        "is_head": is_head,
        "cards": cards(DEPARTMENT_CARDS, data["counters"], today, registry),
        "counters": data["counters"],
        "executors": data["executors"],
        "unassigned": data["unassigned"],
        "former_executors": data["former_executors"],
        "overdue": with_badges(data["overdue"], today),
        "overdue_url": registry(
            {"status": IN_PROGRESS, "is_overdue": "true", "ordering": "due_date"}
        ),
        "instructions": data["instructions"],
        "promises": data["promises"],
        "charts": charts(DEPARTMENT_CHARTS, data),
    }


def deputy_dashboard_context(data: dict[str, Any], today: datetime.date) -> dict[str, Any]:
    """A deputy's dashboard (``selectors.deputy_dashboard``) for its template."""
    for row in data["by_status"]:
        row["url"] = url("requests:list", scope="mine", status=[row["status"]])
    rows = {"statuses_in_use": [row for row in data["by_status"] if row["count"]]}
    return {
        **data,
        "overdue": with_badges(data["overdue"], today),
        "charts": charts(DEPUTY_CHARTS, rows),
        "evaluate_url": url("requests:list", scope="mine", status=[S.ANSWERED.value]),
        "new_url": reverse("requests:new"),
        "today": today,
    }
