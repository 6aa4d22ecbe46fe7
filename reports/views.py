"""Pages of the reports app: the home page of every role, the dashboards, exports, the PDF report.

Views parse input, call one selector or service, and choose the response; what the
dashboards show (their cards, charts and tables, declared as data) is made in
``presenters.py``. The public portal's pages are in ``public_views.py``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from maslikhat.accounts.models import Role
from maslikhat.directory.actors import actor_for
from maslikhat.directory.calendar import coming_year_warning

from . import presenters, selectors
from .api import send_file
from .exports import parse_format
from .models import ExportKind
from .navigation import items_for, role_of
from .services import export_job_for_owner, export_start
from .todo import has_todo, todo_for

GREETINGS = {
    Role.DEPUTY: "reports/home/deputy.html",
    Role.EXECUTOR: "reports/home/department.html",
    Role.HEAD: "reports/home/department.html",
    Role.STAFF: "reports/home/council.html",
    Role.CHAIR: "reports/home/council.html",
    Role.ADMIN: "reports/home/admin.html",
}


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what awaits this person's action now (the to-do, ``todo.py``), then
    what this role can do here, and what comes next."""
    role = role_of(request)
    available, coming = items_for(role)
    template = GREETINGS.get(role, "reports/home/anonymous.html")  # type: ignore[call-overload]
    context = {
        "available": available,
        "coming": coming,
        "role_label": Role(role).label if role in Role.values else "",
        "todo": None,
    }
    actor = actor_for(request.user)
    if has_todo(actor):
        today = timezone.localdate()
        context["todo"] = todo_for(actor, today)
        if actor.is_staff:
            context["calendar_warning"] = coming_year_warning(today)
    return render(request, template, context)


def _require_council(request: HttpRequest) -> None:
    """Staff, the chair and superusers: whoever sees everything (accounts/roles.py)."""
    if not actor_for(request.user).sees_everything:
        raise PermissionDenied


# --- Dashboards: read through one selector, shaped by ``presenters.py`` ------------------------


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Staff and the chair: every request at a glance, filtered like the registry."""
    _require_council(request)
    data = selectors.staff_dashboard(actor=actor_for(request.user), params=request.GET)
    context = presenters.staff_dashboard_context(data, request.GET)
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
def dashboard_department(request: HttpRequest) -> HttpResponse:
    """A department head or executor: the inbox, what is overdue, each executor's load."""
    actor = actor_for(request.user)
    if actor.department_id is None:
        raise PermissionDenied
    today = timezone.localdate()
    data = selectors.department_dashboard(actor=actor, today=today)
    context = presenters.department_dashboard_context(data, today, is_head=actor.is_department_head)
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
    context = presenters.deputy_dashboard_context(data, today)
    return render(request, "reports/dashboard_deputy.html", context)


# --- Exports -------------------------------------------------------------------------------------


def _export(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Small exports download at once; large ones become a job with a progress page."""
    params: QueryDict = request.GET
    if (
        kind == ExportKind.REQUESTS
        and actor_for(request.user).is_deputy
        and not params.get("scope")
    ):
        # The deputy's list page shows their own requests unless asked for all
        # (requests_app.views.request_list): its export holds the same rows.
        params = params.copy()
        params["scope"] = "mine"
    try:
        fmt = parse_format(params.get("format"))
        result = export_start(by=request.user, kind=kind, params=params, fmt=fmt)
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
    jobs = selectors.export_job_list(user=user)
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
