"""Glue for HTML views: call a service, turn its ``PortalError`` into what a person sees.

Services raise typed errors (``maslikhat.core.exceptions``); the API maps them to
status codes, and HTML views use the helpers here so every page says it the same
way: a message at the top of the page, the error beside the field it is about
when a form was bound, and the status code of the error (400, 403, 409) when the
page is re-rendered instead of redirected. Deputy requests and protocol
instructions share it, including the whole round trip of an action posted from
an item's page (``run_item_action``).

Also here, because every item kind shows them: the deadline badges ("N working
days left", "overdue by N working days"), computed with one working-day calendar
per page, never a query per row.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, ngettext

from .deadlines import WorkingCalendar, calendar_for
from .exceptions import PortalError, StaleVersion

SuccessMessage = str | Promise | Callable[[Any], str | Promise] | None

#: Deadlines this close (in working days) get the "due soon" badge.
DUE_SOON_WORKING_DAYS = 3


@dataclass
class ServiceCall:
    """The outcome of :func:`call_service`: the service's return value, or its error."""

    value: Any = None
    error: PortalError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        """The HTTP status a page re-rendered after this call should carry."""
        return 200 if self.error is None else self.error.status_code


def report_error(
    request: HttpRequest, error: PortalError, *, form: forms.BaseForm | None = None
) -> None:
    """Tell the user what went wrong: a message on the page and, with a form, beside the field.

    A ``ValidationFailed`` names the field it is about; when the form has that
    field the error is shown there, otherwise among the form's general errors.
    """
    text = str(error.message)
    messages.error(request, text)
    if form is not None:
        field = getattr(error, "field", None)
        form.add_error(field if field in form.fields else None, text)


def call_service(
    request: HttpRequest,
    service: Callable[..., Any],
    /,
    *,
    form: forms.BaseForm | None = None,
    success: SuccessMessage = None,
    **kwargs: Any,
) -> ServiceCall:
    """Call ``service(**kwargs)``; report a ``PortalError`` instead of letting it become a 500.

    ``success`` is the message shown when the call succeeded (a string, or a
    function of the service's return value). Anything that is not a
    ``PortalError`` is a bug and propagates.
    """
    try:
        value = service(**kwargs)
    except PortalError as error:
        report_error(request, error, form=form)
        return ServiceCall(error=error)
    if success is not None:
        text = success(value) if callable(success) else success
        messages.success(request, str(text))
    return ServiceCall(value=value)


def form_errors_as_text(form: forms.BaseForm) -> str:
    """All errors of a form in one line, for a message after a redirect."""
    parts: list[str] = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for error in errors:
            parts.append(f"{label}: {error}" if label else str(error))
    return " ".join(parts)


def searchable_select(field: forms.Field) -> None:
    """Mark a select for ``static/js/select.js``: typed search instead of Ctrl-click and scrolling.

    Every multiple select (co-authors, co-executor departments) is marked; a single select of
    database rows (a department, a deputy) is marked ``long`` and becomes searchable only when
    its list is long, so a short list keeps the phone's own picker. The texts of the widget are
    carried as translated data attributes. Without JavaScript the native select stays.
    """
    widget = field.widget
    if isinstance(widget, forms.SelectMultiple):
        mark = ""
    elif isinstance(widget, forms.Select) and isinstance(field, forms.ModelChoiceField):
        mark = "long"
    else:
        return
    widget.attrs.setdefault("data-searchable", mark)
    widget.attrs.setdefault("data-search-placeholder", gettext_lazy("Type to search…"))
    widget.attrs.setdefault("data-search-empty", gettext_lazy("Nothing found"))
    widget.attrs.setdefault("data-search-remove", gettext_lazy("Remove"))


class StyledFormMixin:
    """Give every widget of a form its Bootstrap class, so templates render ``{{ field }}``."""

    def style_fields(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            searchable_select(field)
            widget = field.widget
            if "class" in widget.attrs or isinstance(widget, forms.HiddenInput):
                continue  # styled on purpose by the form itself
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect):
                # (CheckboxSelectMultiple is a RadioSelect.)
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"


# --- Deadline badges --------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineBadge:
    """What the badge beside a due date says, and how it looks (a CSS class)."""

    text: str
    css: str
    working_days: int


def page_calendar(
    today: datetime.date, due_dates: Iterable[datetime.date | None]
) -> WorkingCalendar | None:
    """One working-day calendar covering today and every due date of a page (one query).

    ``None`` when no item of the page has a due date: then nothing is read at all.
    """
    dates = [d for d in due_dates if d is not None]
    if not dates:
        return None
    return calendar_for(min([today, *dates]), max([today, *dates]))


def deadline_badge(
    *,
    due: datetime.date | None,
    running: bool,
    late: bool,
    today: datetime.date,
    calendar: WorkingCalendar | None,
) -> DeadlineBadge | None:
    """The badge of one item.

    ``running``: the department's deadline runs now (the item waits for its
    answer); ``late``: the item was overdue when it was answered. Counts are in
    working days of the Kazakhstan calendar.
    """
    if due is None or calendar is None:
        return None
    if not running:
        if late:
            return DeadlineBadge(gettext("Answered late"), "badge-overdue", 0)
        return None
    if due < today:
        overdue = calendar.working_days_between(due, today)
        if overdue <= 0:
            # Past the date, but only days off have passed since: still overdue.
            return DeadlineBadge(gettext("The due date has passed"), "badge-overdue", 0)
        text = ngettext(
            "Overdue by %(count)d working day",
            "Overdue by %(count)d working days",
            overdue,
        ) % {"count": overdue}
        return DeadlineBadge(text, "badge-overdue", -overdue)
    if due == today:
        return DeadlineBadge(gettext("Due today"), "badge-due-soon", 0)
    left = calendar.working_days_between(today, due)
    text = ngettext(
        "%(count)d working day left",
        "%(count)d working days left",
        left,
    ) % {"count": left}
    css = "badge-due-soon" if left <= DUE_SOON_WORKING_DAYS else "badge-due-later"
    return DeadlineBadge(text, css, left)


# --- One action on an item's page ----------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    """One action of an item page: its form, the one service it calls, what success says."""

    form_class: type[Any]
    service: Callable[..., Any]
    success: SuccessMessage
    #: The keyword the sub-object's id goes to (an answer, a report, an extension).
    sub_kwarg: str | None = None
    anchor: str = ""
    #: Where the person lands after success instead of the item, from the service's
    #: result (an action that takes the item out of their sight lands on their list).
    landing: Callable[[Any], str] | None = None


@dataclass
class BoundForm:
    """The form an action post failed with, shown again with what the person typed."""

    action: str
    sub_id: int | None
    form: Any


def run_item_action(
    request: HttpRequest,
    *,
    item: Any,
    action: str,
    spec: ActionSpec,
    form: Any,
    sub_id: int | None,
    detail_url: str,
    render_detail: Callable[[BoundForm, int], HttpResponse],
) -> HttpResponse:
    """Validate the action's form, call its service, and go back to the item (PRG).

    On an error the person is told why. When they had typed text or chosen what the
    form keeps (the form's ``has_input``), the item page is rendered again with their form and the
    error's status (400, 403, 409) instead of a redirect, so nothing they wrote
    is lost. After a conflict (somebody changed the item meanwhile) the kept
    form carries the item's current version: sending it again is a decision
    about the item as it is now.
    """
    keep = form.has_input
    if form.is_valid():
        kwargs = form.service_kwargs()
        if spec.sub_kwarg is not None:
            kwargs[spec.sub_kwarg] = sub_id
        result = call_service(
            request,
            spec.service,
            form=form if keep else None,
            success=spec.success,
            pk=item.pk,
            by=request.user,
            **kwargs,
        )
        if result.ok:
            if spec.landing is not None:
                return redirect(spec.landing(result.value))
            return redirect(detail_url + (f"#{spec.anchor}" if spec.anchor else ""))
        status = result.status
        if isinstance(result.error, StaleVersion) and keep:
            data = request.POST.copy()
            data["version"] = str(item.version)
            form.data = data
    else:
        status = 400
        if keep:
            messages.error(
                request, gettext("Nothing was saved: correct the form below. Your text is kept.")
            )
        else:
            messages.error(request, form_errors_as_text(form))
    if keep:
        return render_detail(BoundForm(action, sub_id, form), status)
    return redirect(detail_url)


# --- The query string of a list page -------------------------------------------------------


def query_string(params: QueryDict, *, drop: Iterable[str] = (), **updates: Any) -> str:
    """``?…`` of ``params`` without ``drop`` and with ``updates`` (a list sets several values)."""
    dropped = set(drop)
    merged: dict[str, list[str]] = {k: v for k, v in params.lists() if k not in dropped}
    for key, value in updates.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    pairs = [(k, v) for k, values in merged.items() for v in values if v != ""]
    return "?" + urlencode(pairs) if pairs else "?"


def filter_params(params: QueryDict, *, not_filters: Collection[str]) -> dict[str, list[str]]:
    """The filters set on a list page (non-empty values), without paging and sorting keys."""
    return {
        key: sorted(v for v in values if v != "")
        for key, values in params.lists()
        if key not in not_filters and any(v != "" for v in values)
    }


def sort_links(
    params: QueryDict,
    *,
    fields: Sequence[str],
    labels: Mapping[str, Any],
    descending_first: Collection[str] = (),
) -> list[dict[str, Any]]:
    """One link per sortable column: a click sorts by it, a second click reverses it."""
    current = params.get("ordering", "")
    links = []
    for name in fields:
        if current == name:
            target, state = f"-{name}", "ascending"
        elif current == f"-{name}":
            target, state = name, "descending"
        else:
            target = f"-{name}" if name in descending_first else name
            state = ""
        links.append(
            {
                "label": labels.get(name, name),
                "url": query_string(params, drop=("page",), ordering=target),
                "state": state,
            }
        )
    return links
