"""Staff pages: the working calendar (public holidays and decreed days) and the deadline rules.

Council staff and administrators only (``calendar.can_manage_calendar``); anybody else signed
in gets 403, like the other staff pages, and an anonymous visitor the login page. Every change
goes through one service of ``calendar.py``; a form that fails keeps what was typed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from maslikhat.core.deadlines import CalendarDay, DeadlineRule
from maslikhat.core.web import call_service

from . import calendar
from .calendar_forms import CalendarDayForm, DeadlineRuleForm

#: The largest id a database column holds: a larger one in the address is simply not found.
MAX_ID = 2**63 - 1


def _require_manager(request: HttpRequest) -> None:
    """Council staff and administrators; everyone else signed in gets 403."""
    if not calendar.can_manage_calendar(request.user):
        raise PermissionDenied


def _day_or_404(pk: int) -> CalendarDay:
    if pk > MAX_ID:
        raise Http404
    try:
        return calendar.calendar_day(pk)
    except CalendarDay.DoesNotExist as exc:
        raise Http404 from exc


def _calendar_url(year: int) -> str:
    return f"{reverse('directory:calendar')}?year={year}"


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The public holidays and the decreed days of a year; a POST enters a decreed day."""
    _require_manager(request)
    today = timezone.localdate()
    year = calendar.parse_year(request.GET.get("year"), today)
    status = 200
    if year is None:
        messages.warning(
            request,
            gettext("Choose a year from %(first)d to %(last)d; this year is shown.")
            % {"first": calendar.MIN_YEAR, "last": calendar.MAX_YEAR},
        )
        year = today.year
        status = 400
    form = CalendarDayForm()
    if request.method == "POST":
        form = CalendarDayForm(request.POST)
        status = 400
        if form.is_valid():
            saved = call_service(
                request,
                calendar.calendar_day_create,
                form=form,
                success=lambda row: (
                    gettext("The decreed day %(date)s was added.") % {"date": _short(row.date)}
                ),
                by=request.user,
                **form.service_kwargs(),
            )
            if saved.ok:
                return redirect(_calendar_url(saved.value.date.year) + "#decreed-days")
            status = saved.status
        else:
            messages.error(request, gettext("Nothing was saved: correct the form below."))
    data = calendar.calendar_year(year)
    return render(
        request,
        "directory/calendar.html",
        {
            "data": data,
            "form": form,
            "calendar_warning": calendar.coming_year_warning(today),
            "years": _year_links(year),
        },
        status=status,
    )


def _short(day: Any) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _year_links(year: int) -> list[dict[str, Any]]:
    return [
        {"year": y, "url": _calendar_url(y), "current": y == year}
        for y in range(year - 1, year + 2)
        if calendar.MIN_YEAR <= y <= calendar.MAX_YEAR
    ]


@login_required
@require_http_methods(["GET", "POST"])
def calendar_day_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a decreed day: date, kind, reason."""
    _require_manager(request)
    row = _day_or_404(pk)
    status = 200
    if request.method == "POST":
        form = CalendarDayForm(request.POST)
        status = 400
        if form.is_valid():
            saved = call_service(
                request,
                calendar.calendar_day_update,
                form=form,
                success=gettext("The decreed day was saved."),
                by=request.user,
                pk=row.pk,
                **form.service_kwargs(),
            )
            if saved.ok:
                return redirect(_calendar_url(saved.value.date.year) + "#decreed-days")
            status = saved.status
        else:
            messages.error(request, gettext("Nothing was saved: correct the form below."))
    else:
        form = CalendarDayForm(initial={name: getattr(row, name) for name in calendar.DAY_FIELDS})
    return render(
        request,
        "directory/calendar_day_edit.html",
        {"row": row, "form": form, "back": _calendar_url(row.date.year)},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def calendar_day_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask to confirm (GET), then remove the decreed day (POST)."""
    _require_manager(request)
    row = _day_or_404(pk)
    back = _calendar_url(row.date.year)
    if request.method == "POST":
        removed = call_service(
            request,
            calendar.calendar_day_remove,
            success=gettext("The decreed day %(date)s was removed.") % {"date": _short(row.date)},
            by=request.user,
            pk=row.pk,
        )
        if removed.ok:
            return redirect(back + "#decreed-days")
    return render(request, "directory/calendar_day_remove.html", {"row": row, "back": back})


@login_required
@require_http_methods(["GET"])
def rule_list(request: HttpRequest) -> HttpResponse:
    """The deadline rules: days, unit, legal basis, extension limits, the pause."""
    _require_manager(request)
    return render(request, "directory/rule_list.html", {"rules": calendar.deadline_rules()})


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Edit one deadline rule; the change holds for due dates computed afterwards."""
    _require_manager(request)
    try:
        rule = calendar.deadline_rule(code)
    except DeadlineRule.DoesNotExist as exc:
        raise Http404 from exc
    status = 200
    if request.method == "POST":
        form = DeadlineRuleForm(request.POST)
        status = 400
        if form.is_valid():
            saved = call_service(
                request,
                calendar.deadline_rule_update,
                form=form,
                success=gettext(
                    "The deadline rule was saved. It holds for due dates computed "
                    "from now on; due dates already set stay."
                ),
                by=request.user,
                code=rule.code,
                **form.service_kwargs(),
            )
            if saved.ok:
                return redirect("directory:rules")
            status = saved.status
        else:
            messages.error(request, gettext("Nothing was saved: correct the form below."))
    else:
        form = DeadlineRuleForm(initial=DeadlineRuleForm.initial_of(rule))
    return render(request, "directory/rule_edit.html", {"rule": rule, "form": form}, status=status)
