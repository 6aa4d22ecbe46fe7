"""The browser pages of protocol instructions: the control registry, the instruction page and
its actions, meetings and protocols (where staff create instructions), executive discipline.

Views parse input, call one selector or one service, and choose the response.
Every action posts to its own address, calls exactly one service and redirects
back to the instruction (post/redirect/get). When the service refuses, the person
is told why, and text they typed (a report, a comment, a message) is never thrown
away: the page is rendered again with their form, its errors and the error's
status (400, 403 or 409).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from maslikhat.core import selectors as core_selectors
from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.extensions import ExtensionStatus
from maslikhat.core.forms import (
    AttachmentForm,
    ExtensionAskForm,
    MessageForm,
)
from maslikhat.core.item_views import HISTORY_LABELS as ITEM_HISTORY_LABELS
from maslikhat.core.item_views import (
    PAGE_SIZE,
    ItemPage,
    ListSorting,
    Opening,
    PageForms,
    Tab,
    attach_badges,
    deadline_box,
    extension_actions,
    history_entries,
    list_context,
    opening_params,
    pending_of,
    read_thread,
    thread_actions,
)
from maslikhat.core.pagination import BoundedCountPaginator
from maslikhat.core.web import (
    ActionSpec,
    BoundForm,
    DeadlineBadge,
    call_service,
    deadline_badge,
    filter_params,
    query_string,
)
from maslikhat.directory.actors import Actor, actor_for

from . import permissions, queries, selectors, services
from .filters import INSTRUCTION_ORDERING_FIELDS
from .forms import (
    AcceptForm,
    InstructionCreateForm,
    InstructionListFilter,
    MeetingForm,
    MeetingListFilter,
    ProtocolForm,
    RemoveFromControlForm,
    ReportForm,
    ReportPublishForm,
    ReturnForm,
)
from .models import (
    INSTRUCTION_OPEN_STATUSES,
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    Protocol,
    ReportStatus,
)

_ = gettext_lazy
S = InstructionStatus
OPEN = [S.ON_CONTROL.value, S.RETURNED.value]

# --- Shared bits of the lists ----------------------------------------------------------------


def _deadline_badge(
    item: Instruction, today: datetime.date, calendar: WorkingCalendar | None
) -> DeadlineBadge | None:
    """The badge beside the due date.

    "N working days left" or "overdue by N" while the department owes the
    execution; "reported late" once a late final report came in.
    """
    running = item.status in INSTRUCTION_OPEN_STATUSES
    if not running and item.is_overdue:
        return DeadlineBadge(gettext("Reported late"), "badge-overdue", 0)
    return deadline_badge(
        due=item.due_date, running=running, late=False, today=today, calendar=calendar
    )


def _with_badges(rows: list[Instruction], today: datetime.date) -> None:
    """Attach the deadline badge and the first line of the text: one calendar for all rows."""
    attach_badges(rows, today, _deadline_badge)
    for row in rows:
        row.first_line = _first_line(row.text)  # type: ignore[attr-defined]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


# --- The control registry --------------------------------------------------------------------

#: Query parameters that are not filters: they never make the list "filtered".
NON_FILTER_PARAMS = frozenset({"page", "ordering"})

SORTING = ListSorting(
    fields=INSTRUCTION_ORDERING_FIELDS,
    labels={
        "due_date": _("Due date"),
        "number": _("Number"),
        "status": _("Status"),
        "created_at": _("Created"),
        "updated_at": _("Last change"),
    },
    descending_first=frozenset({"created_at", "updated_at"}),
)


TABS: tuple[Tab, ...] = (
    Tab("on_control", _("On control"), {"status": OPEN}),
    Tab("week", _("Due this week"), {"due_this_week": ["true"]}),
    Tab("overdue", _("Overdue"), {"status": OPEN, "is_overdue": ["true"]}),
    Tab("reported", _("Reported (awaiting decision)"), {"status": [S.REPORTED.value]}),
    Tab("all", _("All"), {}),
)

#: The registry opens on what is still owed, the nearest (or most overdue) due date first;
#: the API's list keeps its own default order (``docs/api.md``).
OPENING = Opening("on_control", "due_date")


def _audience(actor: Actor) -> str:
    """Whose registry this is: it chooses the title and the empty state."""
    if actor.sees_everything:
        return "council"
    if actor.is_department:
        return "department"
    if actor.is_deputy:
        return "deputy"
    return "other"


@login_required
@require_GET
def instruction_list(request: HttpRequest) -> HttpResponse:
    """The control registry: every instruction the user may see, with tabs, filters, sorting."""
    actor = actor_for(request.user)
    params = opening_params(request.GET, TABS, OPENING)
    filterset = InstructionListFilter(
        data=params, queryset=selectors.instruction_list(actor=actor), request=request
    )
    context = list_context(
        params,
        filterset,
        tabs=TABS,
        not_filters=NON_FILTER_PARAMS,
        sorting=SORTING,
        opening=OPENING,
    )
    _with_badges(context["rows"], timezone.localdate())
    context |= {"audience": _audience(actor), "can_create": permissions.can_create(actor)}
    return render(request, "instructions/list.html", context)


# --- The instruction page ----------------------------------------------------------------------

#: What each audit action reads as in the history (past tense).
HISTORY_LABELS: dict[str, Promise] = {
    **ITEM_HISTORY_LABELS,
    "create": _("Put on control"),
    "edit": _("Edited"),
    "report_interim": _("Interim report submitted"),
    "report_final": _("Final report submitted"),
    "accept": _("Report accepted: executed"),
    "return": _("Report returned to the department"),
    "remove_from_control": _("Removed from control"),
}


#: The actions offered in the side panel (messages and files sit beside what they add to).
ASIDE_ACTIONS = frozenset(
    {"report", "accept", "return", "extension_ask", "extension_decide", "remove"}
)


def _detail_context(
    request: HttpRequest, item: Instruction, bound: BoundForm | None
) -> dict[str, Any]:
    user: Any = request.user
    actor = actor_for(user)
    # The selector prefetched reports and extensions; the people who decided them come
    # in one query per relation (none when there is nothing to decide).
    prefetch_related_objects(
        [item], "reports__decided_by", "extensions__requested_by", "extensions__decided_by"
    )
    actions = services.available_actions(actor, item)
    extensions = list(item.extensions.all())
    pending = pending_of(extensions, ExtensionStatus.PENDING)
    can_write = permissions.can_write_thread(actor, item)
    page_forms = PageForms(item, bound)
    forms = page_forms.offered(
        {
            "report": (bool({"report_interim", "report_final"} & actions), ReportForm),
            "accept": ("accept" in actions, AcceptForm),
            "return": ("return" in actions, ReturnForm),
            "extension_ask": ("ask_extension" in actions and pending is None, ExtensionAskForm),
            "remove": ("remove_from_control" in actions, RemoveFromControlForm),
            "message": (can_write, MessageForm),
            "attachment": (can_write, AttachmentForm),
        }
    )
    forms |= page_forms.extension_decide(actions, pending)
    thread = read_thread(item, user)

    reports: list[ExecutionReport] = list(item.reports.all())
    finals = [r for r in reports if r.is_final]
    # Shown beside the decision (accept/return) and beside the report form after a return,
    # so a person on a phone reads what they decide on right where they decide.
    pending_report = next((r for r in reversed(finals) if r.status == ReportStatus.SUBMITTED), None)
    returned_report = (
        next((r for r in reversed(finals) if r.status == ReportStatus.RETURNED), None)
        if item.status == InstructionStatus.RETURNED
        else None
    )
    return {
        "item": item,
        "actions": actions,
        "forms": forms,
        "has_aside_actions": bool(set(forms) & ASIDE_ACTIONS),
        "bound_action": page_forms.bound_action,
        "unsent_text": page_forms.unsent_text(forms.values()),
        "reports": reports,
        "pending_report": pending_report,
        "returned_report": returned_report,
        "extensions": extensions,
        "pending_extension": pending,
        "co_departments": list(item.co_departments.all()),
        "thread": thread,
        "attachments": list(core_selectors.attachments_for(item)),
        "history": history_entries(
            item, labels=HISTORY_LABELS, fallback=services.ACTION_LABELS, states=InstructionStatus
        ),
        **deadline_box(item, _deadline_badge),
        "next_report_date": selectors.next_periodic_report_date(item, timezone.localdate()),
        "message_url": reverse("instructions:message", args=[item.pk]),
        "attachment_url": reverse("instructions:attachment", args=[item.pk]),
        "can_publish_reports": permissions.can_edit(actor, item),
    }


# --- Actions -----------------------------------------------------------------------------------


def _reported(report: ExecutionReport) -> str:
    if report.is_final:
        return gettext("The final report was sent to the controller for a decision.")
    return gettext("The interim report was sent.")


ACTIONS: dict[str, ActionSpec] = {
    "report": ActionSpec(ReportForm, services.instruction_report, _reported, anchor="reports"),
    "accept": ActionSpec(
        AcceptForm,
        services.instruction_accept,
        _("The report was accepted: the instruction is executed."),
        anchor="reports",
    ),
    "return": ActionSpec(
        ReturnForm,
        services.instruction_return,
        _("The report was returned to the department."),
        anchor="reports",
    ),
    **extension_actions(
        ask=services.instruction_extension_ask,
        decide=services.instruction_extension_decide,
        asked=_("The extension was asked for. The maslikhat staff or the chair will decide."),
        anchor="extensions",
    ),
    "remove": ActionSpec(
        RemoveFromControlForm,
        services.instruction_remove_from_control,
        _("The instruction was removed from control."),
    ),
    "publish_report": ActionSpec(
        ReportPublishForm,
        services.instruction_report_publish,
        lambda report: (
            gettext("The report is shown on the public portal.")
            if report.is_public
            else gettext("The report was taken off the public portal.")
        ),
        sub_kwarg="report_id",
        anchor="reports",
    ),
    **thread_actions(
        message=services.instruction_message_post,
        attach=services.instruction_attachment_add,
        attach_key="attachment",
    ),
}


PAGE = ItemPage(
    template="instructions/detail.html",
    detail_url="instructions:detail",
    visible=selectors.instruction_get_visible,
    context=_detail_context,
    actions=ACTIONS,
)
instruction_detail = PAGE.detail_view(
    "instruction_detail",
    "The instruction with its reports, extensions, thread, files, history and actions.",
)
instruction_action = PAGE.action_view(
    "instruction_action",
    "One action posted from the instruction's page: its service, then back to it.",
)


# --- Meetings and protocols ----------------------------------------------------------------------


def _require_creator(request: HttpRequest) -> None:
    """Only staff create meetings, protocols and instructions: anyone else gets 403."""
    if not permissions.can_create(actor_for(request.user)):
        raise PermissionDenied


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """Sessions, commission meetings and hearings with their protocols, newest first."""
    filterset = MeetingListFilter(
        data=request.GET,
        # The Count annotation of meeting_list() drops Meta.ordering: newest first, explicitly.
        queryset=selectors.meeting_list().prefetch_related("protocols").order_by("-date", "-id"),
        request=request,
    )
    page = BoundedCountPaginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    is_filtered = bool(filter_params(request.GET, not_filters=NON_FILTER_PARAMS))
    context = {
        "filter": filterset,
        "filter_errors": filterset.is_bound and not filterset.is_valid(),
        "page": page,
        "rows": list(page.object_list),
        "is_filtered": is_filtered,
        "can_create": permissions.can_create(actor_for(request.user)),
        "page_query": query_string(request.GET, drop=("page",)),
    }
    return render(request, "instructions/meetings.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    """Staff record a session, a commission meeting or a hearing."""
    _require_creator(request)
    if request.method != "POST":
        form = MeetingForm(initial={"date": timezone.localdate()})
        return render(request, "instructions/meeting_form.html", {"form": form})
    form = MeetingForm(request.POST)
    status = 400
    if form.is_valid():
        created = call_service(
            request,
            services.meeting_create,
            form=form,
            success=_("The meeting was recorded. Now add its protocol."),
            by=request.user,
            **form.service_kwargs(),
        )
        if created.ok:
            return redirect("instructions:meeting", pk=created.value.pk)
        status = created.status
    return render(request, "instructions/meeting_form.html", {"form": form}, status=status)


def _render_meeting(
    request: HttpRequest, meeting: Meeting, form: ProtocolForm | None, *, status: int = 200
) -> HttpResponse:
    actor = actor_for(request.user)
    can_create = permissions.can_create(actor)
    if can_create and form is None:
        form = ProtocolForm(meeting=meeting)
    context = {
        "meeting": meeting,
        # The Count annotation drops Meta.ordering: order explicitly, newest first.
        "protocols": list(
            selectors.protocol_list().filter(meeting=meeting).order_by("-date", "-id")
        ),
        "form": form if can_create else None,
        "sees_everything": actor.sees_everything,
    }
    return render(request, "instructions/meeting.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting with its protocols; staff add a protocol here."""
    meeting = get_object_or_404(selectors.meeting_list(), pk=pk)
    if request.method != "POST":
        return _render_meeting(request, meeting, None)
    _require_creator(request)
    form = ProtocolForm(request.POST, meeting=meeting)
    status = 400
    if form.is_valid():
        created = call_service(
            request,
            services.protocol_create,
            form=form,
            success=_("The protocol was recorded. Now put its instructions on control."),
            by=request.user,
            meeting=meeting,
            **form.service_kwargs(),
        )
        if created.ok:
            return redirect("instructions:protocol", pk=created.value.pk)
        status = created.status
    return _render_meeting(request, meeting, form, status=status)


def _render_protocol(
    request: HttpRequest,
    protocol: Protocol,
    form: InstructionCreateForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    actor = actor_for(request.user)
    can_create = permissions.can_create(actor)
    if can_create and form is None:
        form = InstructionCreateForm(protocol=protocol)
    # Everyone signed in reads the protocol; its instructions only as far as they may see them.
    rows = list(selectors.instruction_list(actor=actor).filter(protocol=protocol).order_by("id"))
    _with_badges(rows, timezone.localdate())
    context = {
        "protocol": protocol,
        "meeting": protocol.meeting,
        "items": list(protocol.items.all()),
        "rows": rows,
        "form": form if can_create else None,
        "audience": _audience(actor),
    }
    return render(request, "instructions/protocol.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def protocol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A protocol with its items and instructions; staff put new instructions on control here."""
    protocol = get_object_or_404(queries.protocols_with_meetings(), pk=pk)
    if request.method != "POST":
        return _render_protocol(request, protocol, None)
    _require_creator(request)
    form = InstructionCreateForm(request.POST, protocol=protocol)
    status = 400
    if form.is_valid():
        created = call_service(
            request,
            services.instruction_create,
            form=form,
            success=lambda item: (
                gettext("Instruction No. %(number)s was put on control, due by %(date)s.")
                % {"number": item.number, "date": item.due_date.strftime("%d.%m.%Y")}
            ),
            by=request.user,
            protocol=protocol,
            **form.service_kwargs(),
        )
        if created.ok:
            return redirect(reverse("instructions:protocol", args=[protocol.pk]) + "#instructions")
        status = created.status
    return _render_protocol(request, protocol, form, status=status)


# --- Executive discipline ------------------------------------------------------------------------


@login_required
@require_GET
def discipline(request: HttpRequest) -> HttpResponse:
    """Per lead department: instructions executed on time, late, open overdue, on control."""
    actor = actor_for(request.user)
    rows = selectors.discipline_rows(actor=actor)
    if not actor.sees_everything and actor.is_department:
        # A department also sees instructions it co-executes; grouped by their lead
        # department they would be a partial, misleading count of other departments.
        rows = [row for row in rows if row["lead_department"] == actor.department_id]
    departments = queries.departments_by_id([row["lead_department"] for row in rows])
    list_url = reverse("instructions:list")
    entries = []
    for row in rows:
        department = departments.get(row["lead_department"])
        name = department.name if department is not None else row["lead_department__code"]
        decided = row["on_time"] + row["late"]
        entries.append(
            {
                **row,
                "name": name,
                "url": list_url + query_string(QueryDict(), lead_department=row["lead_department"]),
                "on_time_share": round(100 * row["on_time"] / decided) if decided else None,
            }
        )
    entries.sort(key=lambda e: (-e["open_overdue"], e["name"].casefold()))
    totals = {
        key: sum(e[key] for e in entries)
        for key in ("total", "on_time", "late", "open_overdue", "on_control")
    }
    return render(request, "instructions/discipline.html", {"entries": entries, "totals": totals})
