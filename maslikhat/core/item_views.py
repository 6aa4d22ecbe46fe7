"""What the pages of every item kind build the same way: the list page and the item page.

A deputy request and a protocol instruction each have a list (tabs, filters, sorting,
pages of rows with deadline badges) and an item page (the actions allowed now, the
thread, the files, the history, the deadline box, the extension panel), and every
action posted from the item page makes the same round trip. Each kind's ``views.py``
says what is its own (which tabs, which actions, which template); the building is here.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from . import selectors as core_selectors
from . import services as core_services
from .deadlines import WorkingCalendar, due_explanation
from .forms import AttachmentForm, ExtensionAskForm, ExtensionDecideForm, MessageForm
from .pagination import BoundedCountPaginator
from .threads import attach_read_receipts
from .web import (
    ActionSpec,
    BoundForm,
    DeadlineBadge,
    filter_params,
    page_calendar,
    query_string,
    run_item_action,
    sort_links,
)

PAGE_SIZE = 25

#: A kind's deadline badge of one item: ``badge(item, today, calendar)``.
BadgeRule = Callable[[Any, datetime.date, WorkingCalendar | None], DeadlineBadge | None]

# --- The list page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    """A quick filter above a list: its key, its label, the query it sets."""

    key: str
    label: str | Promise
    params: dict[str, list[str]]


@dataclass(frozen=True)
class ListSorting:
    """The sortable columns of a list and how a first click sorts them."""

    fields: Sequence[str]
    labels: Mapping[str, Any]
    #: Sorting by these starts with the newest first.
    descending_first: Collection[str] = ()


@dataclass(frozen=True)
class Opening:
    """What a list opens on when its address carries no query at all: what needs attention.

    ``tab`` is the key of one of the list's tabs, ``ordering`` an ``?ordering=`` value. The
    bare address shows that tab so sorted, and every link of the page (tabs, sorting, pages,
    exports) carries those values, so what a person sees can be shared by its address. Any
    query, even ``?ordering=due_date`` alone, is a choice of its own: that is how "All" opens
    everything.
    """

    tab: str
    ordering: str


def opening_params(params: QueryDict, tabs: Iterable[Tab], opening: Opening | None) -> QueryDict:
    """``params``, or, for an address without a query, the query of the list's opening."""
    if opening is None or params:
        return params
    tab = next(tab for tab in tabs if tab.key == opening.tab)
    opened = params.copy()
    for key, values in tab.params.items():
        opened.setlist(key, list(values))
    opened["ordering"] = opening.ordering
    return opened


def _explicit(url: str, params: QueryDict, opening: Opening | None) -> str:
    """A link that would be the bare address shows everything, not the opening: keep a sort."""
    if opening is None or url != "?":
        return url
    return query_string(QueryDict(), ordering=params.get("ordering") or opening.ordering)


def list_context(
    params: QueryDict,
    filterset: Any,
    *,
    tabs: Iterable[Tab],
    not_filters: Collection[str],
    sorting: ListSorting,
    page_size: int = PAGE_SIZE,
    opening: Opening | None = None,
) -> dict[str, Any]:
    """The context every list page shares: the page of rows, tabs, filters, sort links.

    Filter values that do not parse are left out of the filtering and shown as errors
    (``filter_errors``); ``is_filtered`` tells the empty state which words to use.
    ``params`` are the page's query after ``opening_params`` when the list has an
    ``opening``; ``list_query`` is that query without the page number (for exports).
    """
    page = BoundedCountPaginator(filterset.qs, page_size).get_page(params.get("page"))
    current = filter_params(params, not_filters=not_filters)
    return {
        "filter": filterset,
        "filter_errors": filterset.is_bound and not filterset.is_valid(),
        "page": page,
        "rows": list(page.object_list),
        "tabs": [
            {
                "tab": tab,
                "url": _explicit(
                    query_string(params, drop=("page", *current), **tab.params), params, opening
                ),
                "active": current == {k: sorted(v) for k, v in tab.params.items()},
            }
            for tab in tabs
        ],
        "is_filtered": bool(current),
        "sort_links": sort_links(
            params,
            fields=sorting.fields,
            labels=sorting.labels,
            descending_first=sorting.descending_first,
        ),
        "page_query": query_string(params, drop=("page",)),
        "list_query": query_string(params, drop=("page",)).removeprefix("?"),
        "clear_url": _explicit(query_string(params, drop=(*current, "page")), params, opening),
    }


def attach_badges(rows: Sequence[Any], today: datetime.date, badge: BadgeRule) -> None:
    """Give each row its ``deadline_badge``: one working-day calendar for the whole page."""
    calendar = page_calendar(today, (row.due_date for row in rows))
    for row in rows:
        row.deadline_badge = badge(row, today, calendar)


# --- The item page ------------------------------------------------------------------------------


def choice_label(choices: type[models.TextChoices], code: str) -> str:
    """The translated label of a stored state, or the code itself for one no longer known."""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


#: What the audit actions every kind records read as in an item's history (past tense);
#: each kind's page extends it with its own (``{**HISTORY_LABELS, "create": …}``).
HISTORY_LABELS: Mapping[str, Promise] = {
    "extension_asked": gettext_lazy("Extension asked"),
    "decide_extension": gettext_lazy("Extension decided"),
    "attachment_added": gettext_lazy("File attached"),
    # Written by the import of past records (the ``imports`` app), for both kinds.
    "imported": gettext_lazy("Imported from a file"),
}


def history_entries(
    item: Any,
    *,
    labels: Mapping[str, Any],
    fallback: Mapping[str, Any],
    states: type[models.TextChoices],
    detail: Callable[[Any], str] | None = None,
) -> list[dict[str, Any]]:
    """The item's audit trail in the shape ``templates/core/item_history.html`` reads.

    ``detail(event)``, when given, is a short text shown beside the event (a rating).
    """
    return [
        {
            "event": event,
            "label": labels.get(event.action) or fallback.get(event.action, event.action),
            "from_label": choice_label(states, event.from_status),
            "to_label": choice_label(states, event.to_status),
            "moved": bool(event.from_status and event.from_status != event.to_status),
            "detail": detail(event) if detail is not None else "",
        }
        for event in core_selectors.history_for(item)
    ]


def read_thread(item: Any, user: Any) -> list[Any]:
    """The item's messages for ``user``: the new ones flagged ``is_unread``, each with its
    read receipt (``read_at``: when the other side read it, or ``None``), all now read.

    A fixed number of queries whatever the length of the thread: the messages, their
    files, the thread's read marks (and, when something new was read, the writes)."""
    thread = list(core_selectors.messages_for(item))
    marks = list(core_selectors.thread_marks(item))
    last_read = next((m.last_read_message_id for m in marks if m.user_id == user.pk), 0)
    attach_read_receipts(thread, marks, item.ITEM_TYPE)
    newest = thread[-1].pk if thread else 0
    if newest > last_read:
        core_services.thread_mark_read(item=item, user=user, up_to=newest)
    for message in thread:
        message.is_unread = message.pk > last_read and message.author_id != user.pk  # type: ignore[attr-defined]
    return thread


def pending_of(extensions: Iterable[Any], pending: str) -> Any:
    """The extension still waiting for a decision, if any (at most one at a time)."""
    return next((e for e in extensions if e.status == pending), None)


def deadline_box(item: Any, badge: BadgeRule) -> dict[str, Any]:
    """The deadline of an item page: its badge and how the due date was computed."""
    today = timezone.localdate()
    return {
        "badge": badge(item, today, page_calendar(today, [item.due_date])),
        "due": due_explanation(item),
    }


def action_auto_id(action: str, sub_id: int | None) -> str:
    """Element ids unique on the page: several forms have a ``comment`` or a ``reason``."""
    suffix = f"{sub_id}_" if sub_id is not None else ""
    return f"id_{action}_{suffix}%s"


class PageForms:
    """The action forms of one item page: the one that failed is kept, the others are new."""

    def __init__(self, item: Any, bound: BoundForm | None) -> None:
        self.item = item
        self.bound = bound

    def get(self, action: str, form_class: type[Any], sub_id: int | None = None) -> Any:
        bound = self.bound
        if bound is not None and bound.action == action and bound.sub_id == sub_id:
            return bound.form
        return form_class(
            item=self.item,
            auto_id=action_auto_id(action, sub_id),
            initial={"version": self.item.version},
        )

    def offered(self, shown: Mapping[str, tuple[bool, type[Any] | None]]) -> dict[str, Any]:
        """The forms of the actions offered now (``name: (visible, form class)``)."""
        return {
            name: self.get(name, form_class)
            for name, (visible, form_class) in shown.items()
            if visible and form_class is not None
        }

    def extension_decide(self, actions: Collection[str], pending: Any) -> dict[str, Any]:
        """The form deciding the ``pending`` extension, when ``actions`` let the person decide."""
        if "decide_extension" not in actions or pending is None:
            return {}
        return {"extension_decide": self.get("extension_decide", ExtensionDecideForm, pending.pk)}

    @property
    def bound_action(self) -> str:
        return self.bound.action if self.bound is not None else ""

    def unsent_text(self, displayed: Iterable[Any]) -> str:
        """Text of a form that failed for an action no longer offered (the state moved on).

        It is shown read-only so the person can copy it.
        """
        bound = self.bound
        if bound is None or any(form is bound.form for form in displayed):
            return ""
        return str(bound.form.typed_text)


def item_action(
    request: HttpRequest,
    *,
    item: Any,
    action: str,
    sub_id: int | None,
    actions: Mapping[str, ActionSpec],
    detail_url: str,
    render_detail: Callable[[BoundForm, int], HttpResponse],
) -> HttpResponse:
    """Parse one action's form, call its service, and go back to the item (PRG).

    On an error the person is told why. When they had typed text, the page is
    rendered again with their form (status 400, 403 or 409) instead of a
    redirect, so nothing they wrote is lost.
    """
    spec = actions[action]
    form = spec.form_class(
        request.POST, request.FILES, item=item, auto_id=action_auto_id(action, sub_id)
    )
    return run_item_action(
        request,
        item=item,
        action=action,
        spec=spec,
        form=form,
        sub_id=sub_id,
        detail_url=detail_url,
        render_detail=render_detail,
    )


def extension_actions(
    *,
    ask: Callable[..., Any],
    decide: Callable[..., Any],
    asked: str | Promise,
    anchor: str = "",
) -> dict[str, ActionSpec]:
    """The extension actions of an item page: ``extension_ask`` (``asked`` is what the
    department reads once it asked) and ``extension_decide`` (of the pending extension)."""
    return {
        "extension_ask": ActionSpec(ExtensionAskForm, ask, asked, anchor=anchor),
        "extension_decide": ActionSpec(
            ExtensionDecideForm,
            decide,
            gettext_lazy("The decision on the extension was saved."),
            sub_kwarg="extension_id",
            anchor=anchor,
        ),
    }


def thread_actions(
    *, message: Callable[..., Any], attach: Callable[..., Any], attach_key: str
) -> dict[str, ActionSpec]:
    """The thread actions of an item page: ``message`` (a message in its thread) and, under
    ``attach_key`` (the name the kind's URLs give it), a file attached to the item."""
    return {
        "message": ActionSpec(
            MessageForm, message, gettext_lazy("The message was sent."), anchor="thread"
        ),
        attach_key: ActionSpec(
            AttachmentForm, attach, gettext_lazy("The file was attached."), anchor="attachments"
        ),
    }


#: A kind's item page context: ``context(request, item, bound)`` (``bound`` is the form an
#: action post failed with, shown again).
DetailContext = Callable[[HttpRequest, Any, BoundForm | None], dict[str, Any]]
#: The page view of one item, and the view of an action posted from it.
DetailView = Callable[[HttpRequest, int], HttpResponse]
ActionView = Callable[..., HttpResponse]


@dataclass(frozen=True)
class ItemPage:
    """One kind's item page and the actions posted from it: the views are built here.

    ``visible(user=, pk=)`` is the kind's selector (a 404 for an item the person may not
    see); ``context`` builds what ``template`` shows; ``actions`` says, for each action
    posted from the page, its form, its one service and what success says;
    ``detail_url`` names the page's route (where an action redirects back to).
    """

    template: str
    detail_url: str
    visible: Callable[..., Any]
    context: DetailContext
    actions: Mapping[str, ActionSpec]

    def render(
        self,
        request: HttpRequest,
        item: Any,
        *,
        bound: BoundForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        """The item page, with the form an action failed with when there is one."""
        context = self.context(request, item, bound)
        return render(request, self.template, context, status=status)

    def detail_view(self, name: str, doc: str) -> DetailView:
        """The page of one item (GET, signed in)."""

        def view(request: HttpRequest, pk: int) -> HttpResponse:
            return self.render(request, self.visible(user=request.user, pk=pk))

        return login_required(require_GET(_named(view, name, doc)))

    def action_view(self, name: str, doc: str) -> ActionView:
        """One action posted from the item page (POST, signed in): its service, then back
        to the item; the route gives ``action`` (and ``sub_id`` for a sub-object's action)."""

        def view(
            request: HttpRequest, pk: int, action: str, sub_id: int | None = None
        ) -> HttpResponse:
            item = self.visible(user=request.user, pk=pk)
            return item_action(
                request,
                item=item,
                action=action,
                sub_id=sub_id,
                actions=self.actions,
                detail_url=reverse(self.detail_url, args=[item.pk]),
                render_detail=lambda bound, status: self.render(
                    request, item, bound=bound, status=status
                ),
            )

        return login_required(require_POST(_named(view, name, doc)))


def _named(view: Any, name: str, doc: str) -> Any:
    """A built view under the name and description its kind gives it."""
    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    return view
