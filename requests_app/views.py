"""The browser pages of deputy requests: the list, the draft form, the item page and its actions.

Views parse input, call one selector or one service, and choose the response.
Every action posts to its own address, calls exactly one service and redirects
back to the item (post/redirect/get); when the service refuses, the person sees
why — and text they typed (an answer, a message, a reason) is never thrown away:
the page is rendered again with their form, its errors and the error's status.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from maslikhat.core import selectors as core_selectors
from maslikhat.core.deadlines import WorkingCalendar
from maslikhat.core.exceptions import StaleVersion
from maslikhat.core.extensions import ExtensionStatus
from maslikhat.core.forms import (
    AttachmentForm,
    ExtensionAskForm,
    MessageForm,
    ReasonForm,
)
from maslikhat.core.item_views import HISTORY_LABELS as ITEM_HISTORY_LABELS
from maslikhat.core.item_views import (
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
from maslikhat.core.web import (
    ActionSpec,
    BoundForm,
    DeadlineBadge,
    call_service,
    deadline_badge,
    query_string,
)
from maslikhat.directory.actors import Actor, actor_for

from . import permissions, selectors, services
from .filters import ORDERING_FIELDS
from .forms import (
    AssignForm,
    ClarificationAnswerForm,
    ClarifyForm,
    EvaluateForm,
    PublishForm,
    RateRequestForm,
    RequestDraftForm,
    RequestListFilter,
    RerouteForm,
    RespondForm,
    ResponseApproveForm,
    ResponseReturnForm,
    RouteForm,
    SubmitForm,
    WithdrawForm,
)
from .models import (
    DEADLINE_STATUSES,
    DeputyRequest,
    RequestStatus,
    ResponseStatus,
)
from .panels import PanelInput, history_labels, request_panels

_ = gettext_lazy

# --- The list -----------------------------------------------------------------------------------

#: Query parameters that are not filters: they never make a list "filtered".
NON_FILTER_PARAMS = frozenset({"page", "ordering", "scope"})

SORTING = ListSorting(
    fields=ORDERING_FIELDS,
    labels={
        "submitted_at": _("Submitted"),
        "due_date": _("Due date"),
        "number": _("Number"),
        "status": _("Status"),
        "updated_at": _("Last change"),
        "title": _("Title"),
    },
    descending_first=frozenset({"submitted_at", "updated_at"}),
)


def _list_kind(actor: Actor) -> str:
    if actor.is_deputy:
        return "deputy"
    if actor.sees_everything:
        return "council"
    return "department"


def _tabs(kind: str, today: datetime.date) -> list[Tab]:
    running = [RequestStatus.IN_PROGRESS.value]
    if kind == "deputy":
        return [
            Tab("all", _("All"), {}),
            Tab("drafts", _("Drafts"), {"status": [RequestStatus.DRAFT.value]}),
            Tab(
                "in_work",
                _("In progress"),
                {"status": [RequestStatus.SUBMITTED.value, RequestStatus.IN_PROGRESS.value]},
            ),
            Tab("evaluate", _("To evaluate"), {"status": [RequestStatus.ANSWERED.value]}),
            Tab("closed", _("Closed"), {"status": [RequestStatus.CLOSED.value]}),
        ]
    overdue = Tab("overdue", _("Overdue"), {"status": running, "is_overdue": ["true"]})
    answered = Tab("answered", _("Answered"), {"status": [RequestStatus.ANSWERED.value]})
    if kind == "department":
        week_end = today + datetime.timedelta(days=6 - today.weekday())
        return [
            Tab("in_progress", _("In progress"), {"status": running}),
            Tab("all", _("All"), {}),
            Tab("unassigned", _("Unassigned"), {"status": running, "unassigned": ["true"]}),
            Tab(
                "week",
                _("Due this week"),
                {
                    "status": running,
                    "due_after": [today.isoformat()],
                    "due_before": [week_end.isoformat()],
                },
            ),
            overdue,
            answered,
        ]
    return [
        Tab("queue", _("Routing queue"), {"status": [RequestStatus.SUBMITTED.value]}),
        Tab("all", _("All"), {}),
        Tab("in_progress", _("In progress"), {"status": running}),
        overdue,
        answered,
    ]


def _opening(kind: str, actor: Actor) -> Opening | None:
    """What the list opens on: a department's requests in work by due date, staff's routing
    queue longest-waiting first. A deputy's "My requests" and the chair's registry open on
    everything, newest first."""
    if kind == "department":
        return Opening("in_progress", "due_date")
    if kind == "council" and actor.is_staff:
        return Opening("queue", "submitted_at")
    return None


def _badge(
    item: DeputyRequest, today: datetime.date, calendar: WorkingCalendar | None
) -> DeadlineBadge | None:
    """ "N working days left" or "overdue by N" while the department owes the answer;
    "clock stopped" while a clarification question stops it."""
    if item.paused_since is not None and item.status in DEADLINE_STATUSES:
        return DeadlineBadge(gettext("Clock stopped"), "badge-paused", 0)
    return deadline_badge(
        due=item.due_date,
        running=item.status in DEADLINE_STATUSES,
        late=item.is_overdue,
        today=today,
        calendar=calendar,
    )


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    """My requests (deputy), the inbox (department) or the registry (staff, chair)."""
    actor = actor_for(request.user)
    kind = _list_kind(actor)
    today = timezone.localdate()
    tabs = _tabs(kind, today)
    opening = _opening(kind, actor)
    params = opening_params(request.GET, tabs, opening).copy()
    if kind == "deputy" and not params.get("scope"):
        params["scope"] = "mine"
    filterset = RequestListFilter(
        data=params, queryset=selectors.deputy_request_list(actor=actor), request=request
    )
    context = list_context(
        params,
        filterset,
        tabs=tabs,
        not_filters=NON_FILTER_PARAMS,
        sorting=SORTING,
        opening=opening,
    )
    attach_badges(context["rows"], today, _badge)
    titles = {"deputy": _("My requests"), "department": _("Inbox"), "council": _("Registry")}
    context |= {
        "kind": kind,
        "deputy_id": actor.deputy_id,
        "title": titles[kind],
        "scope": params.get("scope", ""),
        "scope_urls": {
            "mine": query_string(params, drop=("page",), scope="mine"),
            "all": query_string(params, drop=("page",), scope="all"),
        },
    }
    return render(request, "requests/list.html", context)


# --- The draft: new and edit --------------------------------------------------------------------


def _after_save(request: HttpRequest, item: DeputyRequest, form: RequestDraftForm) -> HttpResponse:
    """After the draft is saved: attach the file, submit when asked, go to the request."""
    detail_url = reverse("requests:detail", args=[item.pk])
    edit_url = reverse("requests:edit", args=[item.pk])
    upload = form.cleaned_data.get("file")
    if upload:
        attached = call_service(
            request,
            services.deputy_request_attachment_add,
            pk=item.pk,
            by=request.user,
            upload=upload,
        )
        if not attached.ok:
            messages.warning(
                request,
                gettext("The draft was saved, but the file was not attached. Choose another file."),
            )
            return redirect(edit_url)
    if request.POST.get("intent") == "submit":
        submitted = call_service(
            request,
            services.deputy_request_submit,
            success=_submitted,
            pk=item.pk,
            by=request.user,
            version=item.version,
        )
        if not submitted.ok:
            messages.warning(request, gettext("The draft was saved but not submitted."))
            return redirect(edit_url)
        return redirect(detail_url)
    messages.success(request, gettext("The draft was saved. Submit it when it is ready."))
    return redirect(detail_url)


def _render_draft_form(
    request: HttpRequest,
    form: RequestDraftForm,
    *,
    item: DeputyRequest | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "requests/form.html",
        {"form": form, "item": item, "attachments": _draft_attachments(item)},
        status=status,
    )


def _draft_attachments(item: DeputyRequest | None) -> list[Any]:
    return list(core_selectors.attachments_for(item)) if item is not None else []


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """File a new request (deputies only): save it as a draft, or save and submit."""
    actor = actor_for(request.user)
    if not actor.is_deputy:
        raise PermissionDenied
    if request.method != "POST":
        return _render_draft_form(request, RequestDraftForm(author_id=actor.deputy_id))
    form = RequestDraftForm(request.POST, request.FILES, author_id=actor.deputy_id)
    status = 400
    if form.is_valid():
        created = call_service(
            request,
            services.deputy_request_create,
            form=form,
            by=request.user,
            **form.draft_kwargs(),
        )
        if created.ok:
            return _after_save(request, created.value, form)
        status = created.status
    return _render_draft_form(request, form, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft (its author only); a submitted request is no longer edited."""
    item = selectors.deputy_request_get_visible(user=request.user, pk=pk)
    actor = actor_for(request.user)
    if "edit" not in services.available_actions(actor, item):
        if permissions.is_author(actor, item):
            messages.info(request, gettext("Only drafts can be edited."))
            return redirect("requests:detail", pk=item.pk)
        raise PermissionDenied
    if request.method != "POST":
        form = RequestDraftForm(
            initial=RequestDraftForm.initial_for(item), author_id=item.author_id
        )
        return _render_draft_form(request, form, item=item)
    form = RequestDraftForm(request.POST, request.FILES, author_id=item.author_id)
    status = 400
    if form.is_valid():
        updated = call_service(
            request,
            services.deputy_request_update_draft,
            form=form,
            pk=item.pk,
            by=request.user,
            version=form.cleaned_data.get("version"),
            **form.draft_kwargs(),
        )
        if updated.ok:
            return _after_save(request, updated.value, form)
        status = updated.status
        if isinstance(updated.error, StaleVersion):
            # The person was told; saving again keeps what they typed now.
            item = selectors.deputy_request_get_visible(user=request.user, pk=pk)
            data = request.POST.copy()
            data["version"] = str(item.version)
            form.data = data
    return _render_draft_form(request, form, item=item, status=status)


def _int_or_none(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


@login_required
@require_GET
def request_similar(request: HttpRequest) -> HttpResponse:
    """The "similar earlier requests" panel of the draft form (an htmx partial)."""
    title = request.GET.get("title", "")[:300]
    address = request.GET.get("address", "")[:300]
    rows = selectors.similar_requests(
        actor=actor_for(request.user),
        title=title,
        address=address,
        district_id=_int_or_none(request.GET.get("district")),
        exclude_pk=_int_or_none(request.GET.get("exclude")),
    )
    asked = bool(title.strip() or address.strip())
    return render(request, "requests/_similar.html", {"rows": rows, "asked": asked})


# --- The item page ----------------------------------------------------------------------------

#: What each audit action reads as in the history (past tense).
HISTORY_LABELS: dict[str, Promise] = {
    **ITEM_HISTORY_LABELS,
    "create": _("Draft created"),
    "edit": _("Draft edited"),
    "submit": _("Submitted and registered"),
    "route": _("Routed to the department"),
    "decline": _("Declined"),
    "assign": _("Executor assigned"),
    "redirect": _("Sent back for re-routing: not the department's competence"),
    "response_drafted": _("Answer drafted"),
    "response_returned": _("Draft answer returned to the executor"),
    "approve_interim": _("Interim answer sent"),
    "approve_final": _("Final answer sent"),
    "accept": _("Answer accepted"),
    "rework": _("Returned for rework"),
    "auto_close": _("Closed without evaluation"),
    "rate_request": _("Request rated by the department"),
    "withdraw": _("Withdrawn"),
    "publish": _("Published on the public portal"),
    "clarify": _("Clarification asked of the author"),
    "answer_clarification": _("Clarification answered by the author"),
    "clarification_closed": _("Clarification question closed unanswered"),
    "reroute": _("Re-routed by the maslikhat staff"),
    "unpublish": _("Removed from the public portal"),
    "admin_edit": _("Corrected in the administration panel"),
}


def _history_detail(event: Any) -> str:
    """The rating an evaluation gave (accept or rework), shown beside its history entry."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    rating = changes.get("rating")
    if event.action in ("accept", "rework") and isinstance(rating, int):
        return gettext("Rating %(rating)s of 5") % {"rating": rating}
    return ""


#: The actions offered in the side column (the others sit beside what they act on).
ASIDE_ACTIONS = frozenset(
    {
        "submit",
        "withdraw",
        "route",
        "reroute",
        "decline",
        "assign",
        "redirect",
        "clarify",
        "rate_request",
        "extension_ask",
        "extension_decide",
        "publish",
    }
)


def _detail_context(
    request: HttpRequest, item: DeputyRequest, bound: BoundForm | None
) -> dict[str, Any]:
    user: Any = request.user
    actor = actor_for(user)
    history = history_entries(
        item,
        labels={**HISTORY_LABELS, **history_labels()},
        fallback=services.ACTION_LABELS,
        states=RequestStatus,
        detail=_history_detail,
    )
    # The clarifications and the latest re-routing are read off the history already loaded:
    # no query for an item that never had them.
    logged = [entry["event"] for entry in history]
    asked = selectors.clarification_state(item, logged)
    actions = services.available_actions(actor, item)
    prefetch_related_objects([item], "co_authors__user")
    forms = PageForms(item, bound)

    responses = list(selectors.responses_visible(actor=actor, item=item))
    extensions = list(item.extensions.select_related("requested_by", "decided_by"))
    pending = pending_of(extensions, ExtensionStatus.PENDING)
    is_author = permissions.is_author(actor, item)
    in_thread = permissions.can_write_thread(actor, item)
    show_thread = in_thread or (actor.sees_everything and item.status != RequestStatus.DRAFT)
    can_attach = permissions.can_attach(actor, item)

    can_approve = "approve_final" in actions
    unsent_responses = []
    draft_forms = []
    for response in responses:
        if response.status == ResponseStatus.SENT:
            continue
        entry: dict[str, Any] = {"response": response, "approve": None, "return": None}
        if can_approve and response.status == ResponseStatus.DRAFT:
            entry["approve"] = forms.get("response_approve", ResponseApproveForm, response.pk)
            entry["return"] = forms.get("response_return", ResponseReturnForm, response.pk)
            draft_forms.append(entry)
        unsent_responses.append(entry)
    # The boilerplate card: only for the head, who approves (one query for all drafts).
    closeness = selectors.boilerplate_closeness([entry["response"] for entry in draft_forms])
    for entry in draft_forms:
        entry["boilerplate"] = closeness[entry["response"].pk]
    action_forms = forms.offered(
        {
            "submit": ("submit" in actions, SubmitForm),
            "withdraw": ("withdraw" in actions, WithdrawForm),
            "route": ("route" in actions, RouteForm),
            "reroute": ("reroute" in actions, RerouteForm),
            "clarify": ("clarify" in actions, ClarifyForm),
            "answer_clarification": ("answer_clarification" in actions, ClarificationAnswerForm),
            "decline": ("decline" in actions, ReasonForm),
            "assign": ("assign" in actions, AssignForm),
            "redirect": ("redirect" in actions, ReasonForm),
            "respond": ("respond" in actions, RespondForm),
            "evaluate": ("accept" in actions, EvaluateForm),
            "rate_request": ("rate_request" in actions, RateRequestForm),
            "extension_ask": ("ask_extension" in actions and pending is None, ExtensionAskForm),
            "publish": (is_author and item.status != RequestStatus.DRAFT, PublishForm),
            "message": (in_thread, MessageForm),
            "attach": (can_attach, AttachmentForm),
        }
    )
    action_forms |= forms.extension_decide(actions, pending)
    # Cards of the apps above (the promise of a planned answer): from the history read above.
    panels = request_panels(
        PanelInput(user=user, actor=actor, item=item, events=logged, bound=bound)
    )
    shown_forms = [
        *action_forms.values(),
        *(entry[key] for entry in draft_forms for key in ("approve", "return")),
        *(form for panel in panels for form in panel.forms),
    ]
    return {
        "item": item,
        "actions": actions,
        "forms": action_forms,
        "unsent_responses": unsent_responses,
        "has_aside_actions": "edit" in actions or bool(set(action_forms) & ASIDE_ACTIONS),
        "bound_action": forms.bound_action,
        "unsent_text": forms.unsent_text(shown_forms),
        "sent_responses": [r for r in responses if r.status == ResponseStatus.SENT],
        "extensions": extensions,
        "pending_extension": pending,
        "thread": read_thread(item, user) if show_thread else [],
        "show_thread": show_thread,
        "attachments": list(core_selectors.attachments_for(item))
        if show_thread or can_attach
        else [],
        "show_attachments": show_thread or can_attach,
        "attachment_url": reverse("requests:attach", args=[item.pk]),
        "message_url": reverse("requests:message", args=[item.pk]),
        "history": history,
        "panels": panels,
        **deadline_box(item, _badge),
        "is_author": is_author,
        "clarifications": selectors.clarifications_of(actor=actor, item=item) if asked else [],
        "last_reroute": selectors.reroute_summary(logged),
        "due_if_routed": (
            services.due_if_routed_today() if item.status == RequestStatus.SUBMITTED else None
        ),
    }


# --- Actions ------------------------------------------------------------------------------------


def _submitted(item: DeputyRequest) -> str:
    text = gettext("The request was submitted and registered under number %(number)s.") % {
        "number": item.number
    }
    if item.status == RequestStatus.SUBMITTED:
        due = services.due_if_routed_today()
        text += " " + _routing_note(due)
    return text


def _routing_note(due: datetime.date) -> str:
    return gettext(
        "The clock starts when the maslikhat staff route the request; if routed today, "
        "the answer would be due by %(date)s."
    ) % {"date": date_format(due, "SHORT_DATE_FORMAT")}


def _inbox(_item: DeputyRequest) -> str:
    """After "not our competence" the request is no longer the department's: its inbox."""
    return reverse("requests:list")


def _evaluated(item: DeputyRequest) -> str:
    if item.status == RequestStatus.CLOSED:
        return gettext("Thank you: you accepted the answer, and the request is closed.")
    return gettext("The answer was returned to the department for rework.")


def _published(item: DeputyRequest) -> str:
    if item.is_public:
        return gettext("The request is published on the public portal.")
    return gettext("The request was removed from the public portal.")


ACTIONS: dict[str, ActionSpec] = {
    "submit": ActionSpec(SubmitForm, services.deputy_request_submit, _submitted),
    "withdraw": ActionSpec(
        WithdrawForm, services.deputy_request_withdraw, _("The request was withdrawn.")
    ),
    "route": ActionSpec(
        RouteForm,
        services.deputy_request_route,
        _("The request was routed to the department; its deadline runs from today."),
    ),
    "decline": ActionSpec(
        ReasonForm, services.deputy_request_decline, _("The request was declined.")
    ),
    "assign": ActionSpec(
        AssignForm, services.deputy_request_assign, _("The executor was assigned.")
    ),
    "redirect": ActionSpec(
        ReasonForm,
        services.deputy_request_redirect,
        _(
            "The request was sent back to the maslikhat staff for re-routing; it is no longer "
            "in your department's inbox."
        ),
        landing=_inbox,
    ),
    "reroute": ActionSpec(
        RerouteForm,
        services.deputy_request_reroute,
        _("The request was re-routed; the departments and the deputy were told."),
    ),
    "clarify": ActionSpec(
        ClarifyForm,
        services.deputy_request_clarify,
        _("The question was sent to the author."),
        anchor="clarifications",
    ),
    "answer_clarification": ActionSpec(
        ClarificationAnswerForm,
        services.deputy_request_answer_clarification,
        _("Thank you: your answer was sent to the department."),
        anchor="clarifications",
    ),
    "respond": ActionSpec(
        RespondForm,
        services.deputy_request_respond,
        _("The draft answer was saved. It is sent when the head of the department approves it."),
        anchor="answers",
    ),
    "response_approve": ActionSpec(
        ResponseApproveForm,
        services.deputy_request_response_approve,
        _("The answer was approved and sent to the deputy."),
        sub_kwarg="response_id",
        anchor="answers",
    ),
    "response_return": ActionSpec(
        ResponseReturnForm,
        services.deputy_request_response_return,
        _("The draft answer was returned to the executor."),
        sub_kwarg="response_id",
        anchor="answers",
    ),
    "evaluate": ActionSpec(EvaluateForm, services.deputy_request_evaluate, _evaluated),
    "rate_request": ActionSpec(
        RateRequestForm,
        services.deputy_request_rate_request,
        _("Thank you: your rating of the request was saved."),
    ),
    **extension_actions(
        ask=services.deputy_request_extension_ask,
        decide=services.deputy_request_extension_decide,
        asked=_("The extension was asked for. The maslikhat staff will decide."),
    ),
    "publish": ActionSpec(PublishForm, services.deputy_request_set_public, _published),
    **thread_actions(
        message=services.deputy_request_message_post,
        attach=services.deputy_request_attachment_add,
        attach_key="attach",
    ),
}


PAGE = ItemPage(
    template="requests/detail.html",
    detail_url="requests:detail",
    visible=selectors.deputy_request_get_visible,
    context=_detail_context,
    actions=ACTIONS,
)
request_detail = PAGE.detail_view(
    "request_detail",
    "The request with its answers, thread, files, history and the actions allowed now.",
)
request_action = PAGE.action_view(
    "request_action",
    "One action posted from the request's page: its service, then back to the request.",
)
