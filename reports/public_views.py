"""The public transparency portal: ``/public/`` and its pages, open without a login.

Everything here reads ``reports.public`` (published requests only, no personal data) and
the KPI snapshots; nothing writes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from maslikhat.core.pagination import BoundedCountPaginator

from . import presenters, public

PAGE_SIZE = 20


class CountedPaginator(Paginator):
    """A paginator of a list whose count is already known (no count query)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The front page: headline figures, the latest published requests, the plan."""
    return render(request, "public/index.html", {**public.public_home(), "section": "overview"})


@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """Published requests, searchable (``?search=``) and filterable."""
    filterset = public.public_request_list(request.GET)
    form = filterset.form
    for name, field in form.fields.items():
        widget = field.widget
        widget.attrs["class"] = (
            "form-select" if isinstance(widget, forms.Select) else "form-control"
        )
        widget.attrs["id"] = f"public-{name}"
    form.fields["search"].widget.attrs.update(
        {"type": "search", "placeholder": gettext("Words from the title or text, or a number")}
    )
    page = BoundedCountPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values if v]
    context = {
        "filter": filterset,
        "page": page,
        "rows": list(page.object_list),
        "page_query": "?" + urlencode(params) if params else "?",
        "is_filtered": bool(params),
        "section": "requests",
    }
    return render(request, "public/requests.html", context)


@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One published request and, once closed, the department's final answer."""
    item, answer = public.public_request(pk)
    return render(
        request, "public/request.html", {"item": item, "answer": answer, "section": "requests"}
    )


@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    """Registered requests by district, category and month; links open published ones."""
    data = public.public_statistics()
    charts = presenters.charts(presenters.PUBLIC_STATISTICS_CHARTS, data)
    return render(
        request, "public/statistics.html", {**data, "charts": charts, "section": "statistics"}
    )


def _default_period(periods: list[str]) -> str | None:
    today = timezone.localdate()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    for candidate in (quarter, "rolling90", str(today.year)):
        if candidate in periods:
            return candidate
    return periods[0] if periods else None


@require_GET
def rankings(request: HttpRequest) -> HttpResponse:
    """The KPI rankings of departments and deputies for a period (from the snapshots)."""
    from kpi.calculators import DEPARTMENT, DEPUTY
    from kpi.periods import InvalidPeriod
    from kpi.selectors import NoSnapshot, kpi_periods, kpi_rankings

    periods = kpi_periods()
    asked = request.GET.get("period") or ""
    period = asked if asked in periods else _default_period(periods)
    tables: dict[str, Any] = {DEPARTMENT: None, DEPUTY: None}
    if period is not None:
        for kind in tables:
            try:
                tables[kind] = kpi_rankings(kind, period)
            except (NoSnapshot, InvalidPeriod):
                tables[kind] = None
    context = {
        "periods": periods,
        "period": period,
        "unknown_period": bool(asked) and asked not in periods,
        "departments": tables[DEPARTMENT],
        "deputies": tables[DEPUTY],
        "export_query": urlencode({"period": period or "", "kind": DEPARTMENT}),
        "export_deputies_query": urlencode({"period": period or "", "kind": DEPUTY}),
        "section": "rankings",
    }
    return render(request, "public/rankings.html", context)


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    """How the KPI are computed: components, formulas, weights in force, safeguards."""
    from kpi.selectors import methodology as kpi_methodology

    content = kpi_methodology()
    context = {
        "methodology": content,
        "sections": [
            (content["departments"], gettext("Departments")),
            (content["deputies"], gettext("Deputies")),
        ],
        "section": "methodology",
    }
    return render(request, "public/methodology.html", context)


@require_GET
def deputy_list(request: HttpRequest) -> HttpResponse:
    """The council's active deputies: party, district, commissions, published requests."""
    context = {"deputies": list(public.public_deputies()), "section": "deputies"}
    return render(request, "public/deputies.html", context)


@require_GET
def deputy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A deputy's page: who they are, what they did and what they raised in public."""
    from kpi.models import ActivityKind

    data = public.public_deputy(pk)
    data["activity_summary"] = [
        {"label": label, "count": data["activity_counts"].get(value, 0)}
        for value, label in ActivityKind.choices
    ]
    return render(request, "public/deputy.html", {**data, "section": "deputies"})


@require_GET
def plan(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions, commission meetings, hearings and field visits."""
    data = public.public_plan_page(request.GET)
    return render(request, "public/plan.html", {**data, "section": "plan"})


def _style_public_filter(form: forms.Form) -> None:
    for name, field in form.fields.items():
        widget = field.widget
        widget.attrs["class"] = (
            "form-select" if isinstance(widget, forms.Select) else "form-control"
        )
        widget.attrs["id"] = f"public-{name}"


@require_GET
def instruction_list(request: HttpRequest) -> HttpResponse:
    """Instructions of sessions and commission meetings: searchable, filterable, paginated."""
    filterset = public.public_instruction_list(request.GET)
    form = filterset.form
    _style_public_filter(form)
    form.fields["search"].widget.attrs.update(
        {"type": "search", "placeholder": gettext("Words from the text, or a number")}
    )
    rows_qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = BoundedCountPaginator(rows_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    labels = dict(public.PublicInstructionStatus.choices)
    for row in rows:
        row.public_status = public.public_instruction_status(row)
        row.public_status_label = labels[row.public_status]
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values if v]
    query = urlencode(params)
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "page_query": "?" + query if params else "?",
        "feed_query": "?" + query if params else "",
        "is_filtered": bool(params),
        "section": "instructions",
    }
    return render(request, "public/instructions.html", context)


@require_GET
def instruction_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One instruction: executors, dates, approved extensions, reports staff published."""
    data = public.public_instruction(pk)
    data["public_status_label"] = dict(public.PublicInstructionStatus.choices)[
        data["public_status"]
    ]
    return render(request, "public/instruction.html", {**data, "section": "instructions"})


@require_GET
def promise_list(request: HttpRequest) -> HttpResponse:
    """Promises of published requests: by department and district, with the kept share."""
    from . import public_promises

    data = public_promises.public_commitment_page(request.GET)
    _style_public_filter(data["filter"].form)
    # The figures count the very promises listed: their total is the list's count.
    paginator = CountedPaginator(data["rows"], PAGE_SIZE, count=data["totals"]["total"])
    page = paginator.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    labels = public_promises.PUBLIC_STATE_LABELS
    for row in rows:
        row.public_state = public_promises.public_state(row, data["today"])
        row.public_state_label = labels[row.public_state]
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values if v]
    context = {
        **data,
        "page": page,
        "rows": rows,
        "state_labels": labels,
        "page_query": "?" + urlencode(params) if params else "?",
        "is_filtered": bool(params),
        "section": "promises",
    }
    return render(request, "public/promises.html", context)
