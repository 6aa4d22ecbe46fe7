"""Pages of the reports app: the home page of every role, the dashboards, exports, the PDF report.

Views parse input, call one selector or service, and choose the response. The public
portal's pages are in ``public_views.py``.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from maslikhat.accounts.models import Role
from maslikhat.core.web import deadline_badge, page_calendar
from maslikhat.directory.actors import actor_for
from requests_app.models import DEADLINE_STATUSES, DeputyRequest, RequestStatus

from . import selectors
from .api import send_file
from .exports import parse_format
from .models import ExportJob, ExportKind
from .navigation import items_for, role_of
from .services import export_job_for_owner, export_start

GREETINGS = {
    Role.DEPUTY: "reports/home/deputy.html",
    Role.EXECUTOR: "reports/home/department.html",
    Role.HEAD: "reports/home/department.html",
    Role.STAFF: "reports/home/council.html",
    Role.CHAIR: "reports/home/council.html",
    Role.ADMIN: "reports/home/admin.html",
}


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what this role can do here now, and what comes next."""
    role = role_of(request)
    available, coming = items_for(role)
    template = GREETINGS.get(role, "reports/home/anonymous.html")  # type: ignore[call-overload]
    return render(
        request,
        template,
        {
            "available": available,
            "coming": coming,
            "role_label": Role(role).label if role in Role.values else "",
        },
    )


# --- Helpers --------------------------------------------------------------------------------------

#: The dashboard's filter bar (any other list filter still works from the address).
DASHBOARD_FILTERS = (
    "convocation",
    "submitted_after",
    "submitted_before",
    "lead_department",
    "district",
    "category",
)
#: Sortable columns of the department table.
DEPARTMENT_SORTS = {
    "name": gettext_lazy("Department"),
    "received": gettext_lazy("Received"),
    "answered": gettext_lazy("Answered"),
    "on_time": gettext_lazy("On time"),
    "answered_late": gettext_lazy("Answered late"),
    "median_days": gettext_lazy("Median days"),
    "overdue_open": gettext_lazy("Open overdue"),
}
#: Departments drawn in the dashboard's chart (the table lists every one).
CHART_DEPARTMENTS = 12
REGISTRY_FILTERS = frozenset({*selectors.ReportRequestFilter.base_filters, "scope", "ordering"}) - {
    "status"
}


def _require_council(request: HttpRequest) -> None:
    """Staff, the chair and superusers: whoever sees everything (accounts/roles.py)."""
    if not actor_for(request.user).sees_everything:
        raise PermissionDenied


def _url(name: str, params: QueryDict | dict[str, Any] | None = None, **updates: Any) -> str:
    """``reverse(name)`` with ``params`` (a QueryDict keeps repeated keys) and ``updates``."""
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
    return reverse(name) + (f"?{query}" if query else "")


def _registry_base(params: QueryDict) -> QueryDict:
    """The dashboard's filters that the registry understands (status is set per link)."""
    base = QueryDict(mutable=True)
    for key, values in params.lists():
        if key in REGISTRY_FILTERS:
            for value in values:
                if value != "":
                    base.appendlist(key, value)
    return base


def _style_filter_form(form: forms.Form) -> None:
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


def _with_badges(rows: list[DeputyRequest], today: datetime.date) -> list[DeputyRequest]:
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


def _chart(kind: str, labels: list[str], datasets: list[dict[str, Any]], **options: Any) -> dict:
    """The data a ``<canvas data-chart>`` reads from its ``json_script`` block."""
    return {"type": kind, "labels": labels, "datasets": datasets, "options": options}


def _sorted_departments(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
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


# --- The staff dashboard ------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff and the chair: every request at a glance, filtered like the registry."""
    _require_council(request)
    actor = actor_for(request.user)
    params = request.GET
    data = selectors.staff_dashboard(actor=actor, params=params)
    summary = data["summary"]
    today = data["today"]
    form = data["filterset"].form
    _style_filter_form(form)
    base = _registry_base(params)
    registry_url = reverse("requests:list")

    def registry(**updates: Any) -> str:
        return _url("requests:list", base, **updates)

    week_end = today + datetime.timedelta(days=6 - today.weekday())
    open_statuses = [s.value for s in selectors.OPEN_STATUSES]
    counters = summary["counters"]
    cards = [
        {
            "label": gettext("Open"),
            "value": counters["open"],
            "hint": gettext("Submitted, in progress or awaiting evaluation"),
            "url": registry(status=open_statuses),
            "tone": "primary",
        },
        {
            "label": gettext("Overdue"),
            "value": counters["overdue_open"],
            "hint": gettext("In progress past the due date"),
            "url": registry(status=[RequestStatus.IN_PROGRESS.value], is_overdue="true"),
            "tone": "danger",
        },
        {
            "label": gettext("Due this week"),
            "value": counters["due_this_week"],
            "hint": gettext("In progress, due by Sunday"),
            "url": registry(
                status=[RequestStatus.IN_PROGRESS.value],
                due_after=today.isoformat(),
                due_before=week_end.isoformat(),
            ),
            "tone": "warning",
        },
        {
            "label": gettext("Answered late"),
            "value": counters["answered_late"],
            "hint": gettext("The final answer came after the due date"),
            "url": registry(
                status=[RequestStatus.ANSWERED.value, RequestStatus.CLOSED.value],
                is_overdue="true",
            ),
            "tone": "secondary",
        },
        {
            "label": gettext("Awaiting evaluation"),
            "value": counters["awaiting_evaluation"],
            "hint": gettext("Answered; the deputy has not evaluated the answer yet"),
            "url": registry(status=[RequestStatus.ANSWERED.value]),
            "tone": "info",
        },
    ]
    sort = params.get("sort", "-received")
    departments = _sorted_departments(summary["by_department"], sort)
    for row in departments:
        department = row["id"] if row["id"] is not None else None
        row["url"] = registry(lead_department=department) if department else None
        row["overdue_url"] = (
            registry(
                lead_department=department,
                status=[RequestStatus.IN_PROGRESS.value],
                is_overdue="true",
            )
            if department
            else None
        )
    department_sorts = [
        {
            "key": key,
            "label": label,
            "url": _url(
                "reports:dashboard",
                params,
                sort=(key if sort == f"-{key}" else f"-{key}")
                if key != "name"
                else ("-name" if sort == "name" else "name"),
            ),
            "state": "desc" if sort == f"-{key}" else ("asc" if sort == key else ""),
        }
        for key, label in DEPARTMENT_SORTS.items()
    ]
    for row in summary["by_district"]:
        row["url"] = registry(district=row["id"]) if row["id"] else None
    for row in summary["by_category"]:
        row["url"] = registry(category=row["id"]) if row["id"] else None
    funnel = [{**step, "label": selectors.funnel_label(step["key"])} for step in summary["funnel"]]
    statuses = [
        {
            "status": status,
            "label": selectors.status_label(status),
            "count": count,
            "url": registry(status=[status]),
        }
        for status, count in summary["by_status"].items()
        if status != RequestStatus.DRAFT
    ]
    # The chart shows the departments with the most requests; the table under it lists all.
    top_departments = sorted(summary["by_department"], key=lambda r: (-r["received"], r["name"]))[
        :CHART_DEPARTMENTS
    ]
    charts = {
        "funnel": _chart(
            "bar",
            [step["label"] for step in funnel],
            [{"label": gettext("Requests"), "data": [step["count"] for step in funnel]}],
            indexAxis="y",
        ),
        "departments": _chart(
            "bar",
            [row["name"] or gettext("Not routed yet") for row in top_departments],
            [
                {"label": gettext("Received"), "data": [r["received"] for r in top_departments]},
                {"label": gettext("On time"), "data": [r["on_time"] for r in top_departments]},
                {
                    "label": gettext("Open overdue"),
                    "data": [r["overdue_open"] for r in top_departments],
                },
            ],
            indexAxis="y",
        ),
        "districts": _chart(
            "bar",
            [row["name"] or gettext("No district") for row in summary["by_district"]],
            [
                {
                    "label": gettext("Received"),
                    "data": [r["received"] for r in summary["by_district"]],
                }
            ],
        ),
        "categories": _chart(
            "bar",
            [row["name"] for row in summary["by_category"]],
            [
                {
                    "label": gettext("Received"),
                    "data": [r["received"] for r in summary["by_category"]],
                }
            ],
            indexAxis="y",
        ),
        "months": _chart(
            "line",
            [row["month"] for row in summary["by_month"]],
            [
                {
                    "label": gettext("Received"),
                    "data": [r["received"] for r in summary["by_month"]],
                },
                {
                    "label": gettext("Answered"),
                    "data": [r["answered"] for r in summary["by_month"]],
                },
            ],
        ),
    }
    export_query = urlencode(
        [(k, v) for k, values in base.lists() for v in values if k != "ordering"]
    )
    quarter = (today.month - 1) // 3 + 1
    previous = f"{today.year - 1}-Q4" if quarter == 1 else f"{today.year}-Q{quarter - 1}"
    context = {
        "form": form,
        "visible_filters": [form[name] for name in DASHBOARD_FILTERS if name in form.fields],
        "errors": data["errors"],
        "is_filtered": any(params.get(name) for name in DASHBOARD_FILTERS),
        "summary": summary,
        "cards": cards,
        "funnel": funnel,
        "statuses": statuses,
        "departments": departments,
        "chart_departments": CHART_DEPARTMENTS,
        "department_sorts": department_sorts,
        "registry": _with_badges(data["registry"], today),
        "registry_url": registry(
            status=[RequestStatus.IN_PROGRESS.value], is_overdue="true", ordering="due_date"
        ),
        "all_url": registry_url + (f"?{base.urlencode()}" if base else ""),
        "instructions": data["instructions"],
        "discipline": data["discipline"],
        "charts": charts,
        "export_query": export_query,
        "report_periods": [f"{today.year}-Q{quarter}", previous],
        "today": today,
    }
    return render(request, "reports/dashboard.html", context)


# --- Department and deputy dashboards ------------------------------------------------------------


@login_required
@require_GET
def dashboard_department(request: HttpRequest) -> HttpResponse:
    """A department head or executor: the inbox, what is overdue, each executor's load."""
    actor = actor_for(request.user)
    if actor.department_id is None:
        raise PermissionDenied
    from maslikhat.directory.models import Department

    today = timezone.localdate()
    data = selectors.department_dashboard(actor=actor, today=today)
    department = Department.objects.get(pk=actor.department_id)
    running = [RequestStatus.IN_PROGRESS.value]
    week_end = today + datetime.timedelta(days=6 - today.weekday())
    counters = data["counters"]
    cards = [
        {
            "label": gettext("In progress"),
            "value": counters["in_progress"],
            "url": _url("requests:list", status=running),
            "tone": "primary",
        },
        {
            "label": gettext("Without an executor"),
            "value": counters["unassigned"],
            "url": _url("requests:list", status=running, unassigned="true"),
            "tone": "warning",
        },
        {
            "label": gettext("Due this week"),
            "value": counters["due_this_week"],
            "url": _url(
                "requests:list",
                status=running,
                due_after=today.isoformat(),
                due_before=week_end.isoformat(),
            ),
            "tone": "warning",
        },
        {
            "label": gettext("Overdue"),
            "value": counters["overdue_open"],
            "url": _url("requests:list", status=running, is_overdue="true"),
            "tone": "danger",
        },
        {
            "label": gettext("Awaiting evaluation"),
            "value": counters["awaiting_evaluation"],
            "url": _url("requests:list", status=[RequestStatus.ANSWERED.value]),
            "tone": "info",
        },
    ]
    for row in data["executors"]:
        row["url"] = _url("requests:list", status=running, executor=row["user_id"])
    charts = {
        "load": _chart(
            "bar",
            [row["name"] for row in data["executors"]],
            [
                {"label": gettext("Open"), "data": [r["open"] for r in data["executors"]]},
                {
                    "label": gettext("Overdue"),
                    "data": [r["overdue"] for r in data["executors"]],
                },
            ],
            indexAxis="y",
        ),
    }
    context = {
        "department": department,
        "is_head": actor.is_department_head,
        "cards": cards,
        "counters": counters,
        "executors": data["executors"],
        "unassigned": data["unassigned"],
        "former_executors": data["former_executors"],
        "overdue": _with_badges(data["overdue"], today),
        "overdue_url": _url(
            "requests:list", status=running, is_overdue="true", ordering="due_date"
        ),
        "instructions": data["instructions"],
        "charts": charts,
    }
    return render(request, "reports/dashboard_department.html", context)


@login_required
@require_GET
def dashboard_deputy(request: HttpRequest) -> HttpResponse:
    """A deputy: their requests by state and the answers waiting for their evaluation."""
    actor = actor_for(request.user)
    if actor.deputy_id is None:
        raise PermissionDenied
    today = timezone.localdate()
    data = selectors.deputy_dashboard(actor=actor, today=today)
    for row in data["by_status"]:
        row["url"] = _url("requests:list", scope="mine", status=[row["status"]])
    charts = {
        "mine": _chart(
            "doughnut",
            [str(row["label"]) for row in data["by_status"] if row["count"]],
            [
                {
                    "label": gettext("Requests"),
                    "data": [row["count"] for row in data["by_status"] if row["count"]],
                }
            ],
        ),
    }
    context = {
        **data,
        "overdue": _with_badges(data["overdue"], today),
        "charts": charts,
        "evaluate_url": _url("requests:list", scope="mine", status=[RequestStatus.ANSWERED.value]),
        "new_url": reverse("requests:new"),
        "today": today,
    }
    return render(request, "reports/dashboard_deputy.html", context)


# --- Exports -------------------------------------------------------------------------------------


def _export(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Small exports download at once; large ones become a job with a progress page."""
    try:
        fmt = parse_format(request.GET.get("format"))
        result = export_start(by=request.user, kind=kind, params=request.GET, fmt=fmt)
    except selectors.InvalidFilters as exc:
        return render(request, "reports/export_error.html", {"errors": exc.errors}, status=400)
    if result.job is not None:
        return redirect("reports:export-job", pk=result.job.pk)
    assert result.path is not None
    return send_file(result.path, result.file_name, result.content_type, delete=True)


@login_required
@require_GET
def export_requests(request: HttpRequest) -> HttpResponseBase:
    return _export(request, ExportKind.REQUESTS)


@login_required
@require_GET
def export_instructions(request: HttpRequest) -> HttpResponseBase:
    return _export(request, ExportKind.INSTRUCTIONS)


@require_GET
def export_kpi(request: HttpRequest) -> HttpResponseBase:
    """KPI rankings are public: anyone may download a period's ranking."""
    from kpi.selectors import NoSnapshot

    try:
        return _export(request, ExportKind.KPI)
    except NoSnapshot as exc:
        raise Http404(str(exc.message)) from exc


@login_required
@require_GET
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress of one of the user's background exports, and its download link."""
    job = export_job_for_owner(user=request.user, pk=pk)
    return render(request, "reports/export_job.html", {"job": job})


@login_required
@require_GET
def export_jobs(request: HttpRequest) -> HttpResponse:
    """The user's recent background exports."""
    user = request.user
    assert user.is_authenticated
    jobs = ExportJob.objects.filter(user=user).order_by("-created_at", "-id")[:20]
    return render(request, "reports/export_jobs.html", {"jobs": jobs})


# --- The quarterly PDF report --------------------------------------------------------------------


@login_required
@require_GET
def quarterly_report(request: HttpRequest, period: str) -> HttpResponse:
    """``/dashboard/report/2026-Q3.pdf``: summary, department table and KPI ranking."""
    _require_council(request)
    from kpi.periods import InvalidPeriod, Period

    from .pdf import quarterly_report_pdf

    try:
        parsed = Period.parse(period)
    except InvalidPeriod as exc:
        raise Http404 from exc
    if parsed.kind not in ("quarter", "month", "year"):
        raise Http404
    content = quarterly_report_pdf(actor=actor_for(request.user), period=parsed)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="maslikhat-report-{parsed.key}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
