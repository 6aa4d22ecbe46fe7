"""The browser pages of promises: the card on the request's page, its actions, the list.

The card (``#promise`` on ``/requests/<id>/``) is added to the request page through
``requests_app.panels`` (requests_app does not import this app). Each action of the card
posts to ``/commitments/<id>/<action>/``, calls the same service as the API and goes back
to the card; when the service refuses, the person reads why and what they typed is kept.
``/commitments/`` lists the promises a person may see, nearest date first.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.item_views import ListSorting, Tab, action_auto_id, attach_badges, list_context
from maslikhat.core.web import (
    ActionSpec,
    BoundForm,
    DeadlineBadge,
    deadline_badge,
    page_calendar,
    run_item_action,
)
from maslikhat.directory.actors import actor_for
from requests_app import selectors as request_selectors
from requests_app import views as request_views
from requests_app.panels import Panel, PanelInput

from . import permissions, selectors, services
from .filters import OVERDUE
from .forms import (
    CommitmentListFilter,
    ConfirmForm,
    DisputeForm,
    ReportForm,
    RescheduleForm,
    ResolveForm,
)
from .models import ACTIVE_STATES, Commitment, CommitmentState, Verdict

_ = gettext_lazy

#: The badge of each state (the stored ones, and ``overdue``); an unknown state is grey.
STATE_CSS: Mapping[str, str] = {
    CommitmentState.OPEN: "text-bg-primary",
    CommitmentState.RESCHEDULED: "text-bg-info",
    CommitmentState.KEPT: "text-bg-success",
    CommitmentState.BROKEN: "text-bg-danger",
    OVERDUE: "text-bg-danger",
}


def state_badge(commitment: Commitment) -> dict[str, str]:
    """What the state badge says: "Overdue" for an open promise past its date."""
    if getattr(commitment, "overdue", False):
        return {"code": OVERDUE, "label": gettext("Overdue"), "css": STATE_CSS[OVERDUE]}
    return {
        "code": commitment.state,
        "label": str(commitment.get_state_display()),
        "css": STATE_CSS.get(commitment.state, "text-bg-secondary"),
    }


def due_badge(
    commitment: Commitment, today: datetime.date, calendar: WorkingCalendar | None
) -> DeadlineBadge | None:
    """ "N working days left" or "overdue by N" while the promise is still to be kept."""
    return deadline_badge(
        due=commitment.due_date,
        running=commitment.state in ACTIVE_STATES,
        late=False,
        today=today,
        calendar=calendar,
    )


#: What the promise's events read as in the request's history (past tense).
HISTORY_LABELS: Mapping[str, Any] = {
    "commitment_created": _("Promise made"),
    "commitment_reported": _("Promise: the department reported the work"),
    "commitment_confirmed": _("Promise: the author confirmed the report"),
    "commitment_disputed": _("Promise: the author disputed the report"),
    "commitment_rescheduled": _("Promise: the date was moved"),
    "commitment_resolved": _("Promise: the maslikhat staff decided the dispute"),
    "commitment_withdrawn": _("Promise withdrawn: the answer was returned for rework"),
}

# --- The card on the request's page -------------------------------------------------------------


def _form(
    bound: BoundForm | None, action: str, form_class: type[Any], commitment: Commitment
) -> Any:
    """The form an action failed with (kept as typed), else a new one."""
    if bound is not None and bound.action == action and bound.sub_id == commitment.pk:
        return bound.form
    return form_class(item=commitment, auto_id=action_auto_id(action, commitment.pk))


def _events_of(commitment: Commitment, events: Any) -> list[Any]:
    changes_of = (e for e in events if e.action.startswith("commitment_"))
    return [
        e
        for e in changes_of
        if isinstance(e.changes, dict) and e.changes.get("commitment") == commitment.pk
    ]


def _reschedules(events: list[Any]) -> list[dict[str, Any]]:
    moved = []
    for event in events:
        dates = event.changes.get("due_date")
        if event.action != "commitment_rescheduled" or not isinstance(dates, list):
            continue
        moved.append(
            {
                "from": datetime.date.fromisoformat(dates[0]),
                "to": datetime.date.fromisoformat(dates[1]),
                "reason": event.comment,
                "at": event.created_at,
                "by": event.actor,
            }
        )
    return moved


def _report_files(events: list[Any]) -> list[dict[str, Any]]:
    """The files attached with the latest report (named in its event), with their links."""
    reports = [e for e in events if e.action == "commitment_reported"]
    files = reports[-1].changes.get("files") if reports else None
    return [
        {"name": f["name"], "url": reverse("core:attachment-download", args=[f["id"]])}
        for f in files or []
        if isinstance(f, dict) and "id" in f and "name" in f
    ]


def _card_entry(
    given: PanelInput, commitment: Commitment, today: datetime.date, calendar: Any
) -> dict[str, Any]:
    actor, bound = given.actor, given.bound
    active = commitment.state in ACTIVE_STATES
    events = _events_of(commitment, given.events)
    verdict_open = active and commitment.reported_at is not None and not commitment.verdict
    forms: dict[str, Any] = {}
    if active and permissions.can_report(actor, commitment):
        forms["report"] = _form(bound, "report", ReportForm, commitment)
    if active and permissions.can_reschedule(actor, commitment):
        forms["reschedule"] = _form(bound, "reschedule", RescheduleForm, commitment)
    if verdict_open and permissions.can_give_verdict(actor, commitment):
        forms["confirm"] = _form(bound, "confirm", ConfirmForm, commitment)
        forms["dispute"] = _form(bound, "dispute", DisputeForm, commitment)
    disputed = commitment.verdict == Verdict.DISPUTED
    if active and disputed and permissions.can_resolve(actor, commitment):
        forms["resolve"] = _form(bound, "resolve", ResolveForm, commitment)
    return {
        "commitment": commitment,
        "state": state_badge(commitment),
        "badge": due_badge(commitment, today, calendar),
        "reschedules": _reschedules(events),
        "files": _report_files(events),
        "forms": forms,
        "reschedule_limit": (
            services.reschedule_limit(commitment) if "reschedule" in forms else None
        ),
        "waits_for_verdict": verdict_open,
        "disputed": disputed,
    }


#: The two decisions on a dispute, said as the states they lead to.
RESOLUTION_LABELS = {"kept": CommitmentState.KEPT.label, "broken": CommitmentState.BROKEN.label}


def promise_card(given: PanelInput) -> Panel | None:
    """The promise card of a request's page; nothing read when the request has no promise."""
    if not any(event.action == "commitment_created" for event in given.events):
        return None
    commitments = selectors.commitments_of_request(actor=given.actor, request_id=given.item.pk)
    if not commitments:
        return None
    today = timezone.localdate()
    active = [c.due_date for c in commitments if c.state in ACTIVE_STATES]
    calendar = page_calendar(today, active)
    entries = [_card_entry(given, c, today, calendar) for c in commitments]
    return Panel(
        template="commitments/_card.html",
        context={
            "entries": entries,
            "state_labels": RESOLUTION_LABELS,
        },
        forms=[form for entry in entries for form in entry["forms"].values()],
    )


# --- The card's actions -------------------------------------------------------------------------


def _rescheduled(commitment: Commitment) -> str:
    return gettext("The promise was moved to %(date)s.") % {
        "date": date_format(commitment.due_date, "SHORT_DATE_FORMAT")
    }


def _resolved(commitment: Commitment) -> str:
    if commitment.state == CommitmentState.KEPT:
        return gettext("The dispute was resolved: the promise is kept.")
    return gettext("The dispute was resolved: the promise is broken.")


ACTIONS: dict[str, ActionSpec] = {
    "report": ActionSpec(
        ReportForm,
        services.commitment_report,
        _("The report was saved. The deputy is asked to confirm it."),
        anchor="promise",
    ),
    "confirm": ActionSpec(
        ConfirmForm,
        services.commitment_confirm,
        _("Thank you: you confirmed the report, and the promise is kept."),
        anchor="promise",
    ),
    "dispute": ActionSpec(
        DisputeForm,
        services.commitment_dispute,
        _("The report was disputed. The maslikhat staff will decide."),
        anchor="promise",
    ),
    "reschedule": ActionSpec(
        RescheduleForm, services.commitment_reschedule, _rescheduled, anchor="promise"
    ),
    "resolve": ActionSpec(ResolveForm, services.commitment_resolve, _resolved, anchor="promise"),
}


@login_required
@require_POST
def commitment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action posted from the promise card: its service, then back to the card."""
    commitment = selectors.commitment_get_visible(user=request.user, pk=pk)
    item = request_selectors.deputy_request_get_visible(user=request.user, pk=commitment.request_id)
    spec = ACTIONS[action]
    form = spec.form_class(
        request.POST, request.FILES, item=commitment, auto_id=action_auto_id(action, commitment.pk)
    )
    return run_item_action(
        request,
        item=commitment,
        action=action,
        spec=spec,
        form=form,
        sub_id=commitment.pk,
        detail_url=reverse("requests:detail", args=[item.pk]),
        render_detail=lambda bound, status: request_views.PAGE.render(
            request, item, bound=bound, status=status
        ),
    )


# --- The list -----------------------------------------------------------------------------------

#: The state tabs say the states as the promise's badge does (``pgettext`` "promise state").
TABS = [
    Tab("all", _("All"), {}),
    Tab("overdue", _("Overdue"), {"state": [OVERDUE]}),
    *(
        Tab(state.value, state.label, {"state": [state.value]})
        for state in (
            CommitmentState.OPEN,
            CommitmentState.RESCHEDULED,
            CommitmentState.KEPT,
            CommitmentState.BROKEN,
        )
    ),
]
#: Nearest date first, always (the filter's queryset order): no other sorting is offered.
SORTING = ListSorting(fields=(), labels={})
NON_FILTER_PARAMS = frozenset({"page", "ordering"})


@login_required
@require_GET
def commitment_list(request: HttpRequest) -> HttpResponse:
    """The promises a person may see: a department's own, a deputy's requests', staff all."""
    actor = actor_for(request.user)
    filterset = CommitmentListFilter(
        data=request.GET,
        queryset=selectors.commitment_page_list(actor=actor),
        request=request,
        departments=actor.sees_everything,
    )
    context = list_context(
        request.GET, filterset, tabs=TABS, not_filters=NON_FILTER_PARAMS, sorting=SORTING
    )
    today = timezone.localdate()
    attach_badges(context["rows"], today, due_badge)
    for row in context["rows"]:
        row.state_badge = state_badge(row)
    context["shows_departments"] = actor.sees_everything
    context["is_deputy"] = actor.is_deputy
    return render(request, "commitments/list.html", context)
