"""The deputy request's lifecycle: its transition table, and what every service shares.

``TRANSITIONS`` is the state machine of ``docs/domain.md`` in one table; ``FLOW`` (a
``maslikhat.core.workflow.Workflow``) locks a request, checks who acts, the
version and the table, and writes the audit event of each move. The services
(``services.py``: drafts, routing, withdrawal, the thread; ``responses.py``:
answers, evaluations, extensions) build on it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import User
from maslikhat.core import services as core_services
from maslikhat.core.deadlines import compute_due_date, get_rule
from maslikhat.core.threads import Attachment, Message
from maslikhat.core.workflow import Workflow
from maslikhat.directory.actors import actor_for

from .models import DeputyRequest, RequestStatus, ResponseKind, ResponseStatus
from .pauses import end_pause

S = RequestStatus

#: The lifecycle in one table: action -> (states it is allowed in, state it leads to;
#: None keeps the state). ``docs/domain.md`` draws the same machine.
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "edit": (frozenset({S.DRAFT}), None),
    "submit": (frozenset({S.DRAFT}), S.SUBMITTED),
    "route": (frozenset({S.SUBMITTED}), S.IN_PROGRESS),
    "decline": (frozenset({S.SUBMITTED}), S.DECLINED),
    "assign": (frozenset({S.IN_PROGRESS, S.ANSWERED}), None),
    "redirect": (frozenset({S.IN_PROGRESS}), S.SUBMITTED),
    "respond": (frozenset({S.IN_PROGRESS}), None),
    "approve_interim": (frozenset({S.IN_PROGRESS}), None),
    "approve_final": (frozenset({S.IN_PROGRESS}), S.ANSWERED),
    "return_draft": (frozenset({S.IN_PROGRESS}), None),
    "accept": (frozenset({S.ANSWERED}), S.CLOSED),
    "rework": (frozenset({S.ANSWERED}), S.IN_PROGRESS),
    "auto_close": (frozenset({S.ANSWERED}), S.CLOSED),
    "rate_request": (frozenset({S.IN_PROGRESS, S.ANSWERED, S.CLOSED}), None),
    "ask_extension": (frozenset({S.IN_PROGRESS}), None),
    "decide_extension": (frozenset({S.IN_PROGRESS}), None),
    "withdraw": (frozenset({S.DRAFT, S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED}), S.WITHDRAWN),
    "clarify": (frozenset({S.IN_PROGRESS}), None),
    "answer_clarification": (frozenset({S.IN_PROGRESS}), None),
    "reroute": (frozenset({S.IN_PROGRESS}), None),
}

REQUEST_RULE = "deputy_request"
EVALUATION_RULE = "deputy_request_evaluation"
TITLE_MAX = 300


ACTION_LABELS: dict[str, Any] = {
    "edit": _("Edit"),
    "submit": _("Submit"),
    "route": _("Route"),
    "decline": _("Decline"),
    "assign": _("Assign an executor"),
    "redirect": _("Not our competence"),
    "respond": _("Draft an answer"),
    "approve_interim": _("Approve the interim answer"),
    "approve_final": _("Approve the final answer"),
    "return_draft": _("Return the draft"),
    "accept": _("Accept the answer"),
    "rework": _("Return for rework"),
    "auto_close": _("Close without evaluation"),
    "rate_request": _("Rate the request"),
    "ask_extension": _("Ask for an extension"),
    "decide_extension": _("Decide on the extension"),
    "withdraw": _("Withdraw"),
    "clarify": _("Ask the author a clarification"),
    "answer_clarification": _("Answer the clarification"),
    "reroute": _("Re-route"),
}


FLOW: Workflow[DeputyRequest] = Workflow(
    model=DeputyRequest,
    transitions=TRANSITIONS,
    labels=ACTION_LABELS,
    actor_of=actor_for,
    missing=_("This request does not exist."),
    not_allowed=_("“%(action)s” is not possible while the request is “%(status)s”."),
)


def allowed(action: str, status: str) -> bool:
    return FLOW.allowed(action, status)


def deputy_users(item: DeputyRequest) -> list[User]:
    """The request's author and co-authors: they hear of every answer and decision."""
    deputies = [item.author, *item.co_authors.select_related("user")]
    return [d.user for d in deputies]


def due_date_from(start: datetime.date, rule_code: str) -> tuple[datetime.date, dict[str, Any]]:
    """The due date by ``rule_code`` counted from ``start``, and its record for "how computed"."""
    due = compute_due_date(rule=get_rule(rule_code), start=start)
    return due.due, due.as_dict()


def search_documents(
    *,
    request_text: Iterable[str],
    address: str,
    sent_answers: Iterable[str],
    public_answer: str,
    thread: Iterable[str],
    file_names: Iterable[str],
) -> tuple[str, str]:
    """(participants' document, published document) of a request (``docs/search.md``).

    ``request_text``: number, title, text and proposed solution; ``public_answer``: the
    final answer the public page shows (once the request is closed), else empty. Both
    documents are lower-cased here, once: SQLite's LIKE folds only Latin letters, so the
    search compares lower-cased words with lower-cased documents.
    """
    request_parts = [p for p in request_text if p]
    participants = [*request_parts, address, *sent_answers, *thread, *file_names]
    published = [*request_parts, public_answer]
    return (
        "\n".join(p for p in participants if p).lower(),
        "\n".join(p for p in published if p).lower(),
    )


def refresh_search_document(item: DeputyRequest) -> None:
    """Rebuild what search reads: the participants' document and the published one.

    Unsent drafts are in neither: an answer becomes searchable when the head sends it.
    """
    sent = list(
        item.responses.filter(status=ResponseStatus.SENT)
        .order_by("sent_at", "id")
        .values_list("kind", "text")
    )
    finals = [text for kind, text in sent if kind == ResponseKind.FINAL]
    public_answer = finals[-1] if finals and item.status == RequestStatus.CLOSED else ""
    participants, published = search_documents(
        request_text=[item.number or "", item.title, item.body, item.proposed_solution],
        address=item.address,
        sent_answers=[text for _kind, text in sent],
        public_answer=public_answer,
        thread=Message.objects.for_item(item).values_list("text", flat=True),
        file_names=Attachment.objects.for_item(item).values_list("original_name", flat=True),
    )
    DeputyRequest.objects.filter(pk=item.pk).update(
        search_document=participants, published_document=published
    )
    item.search_document = participants
    item.published_document = published


def close_pending_extensions(item: DeputyRequest, *, by: User | None) -> None:
    """The department's work on this deadline has ended (final answer, redirect, withdrawal,
    re-routing): its pending extension is closed, and its open clarification question too
    (a stopped clock runs again, ``pauses.end_pause``)."""
    core_services.close_pending_extensions(
        item, by=by, comment=_("Closed: the department's work on this deadline has ended.")
    )
    end_pause(item, by=by)
