"""Who may do what to a deputy request: pure predicates over an ``Actor`` and the item.

They answer "is this person entitled to this action on this item" — the
*state* question ("is the action allowed now") is the transition table's in
``services.py``. Co-author ids must be prefetched (``co_author_ids``) by the
selector; predicates never query.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from maslikhat.directory.actors import Actor

from .models import RequestStatus

if TYPE_CHECKING:
    from .models import DeputyRequest

RATING_FREEZE = datetime.timedelta(days=7)


def co_author_ids(item: DeputyRequest) -> set[int]:
    cached = getattr(item, "_co_author_ids", None)
    if cached is None:
        cached = set(item.co_authors.values_list("pk", flat=True))
        item._co_author_ids = cached  # type: ignore[attr-defined]
    return cached


def co_department_ids(item: DeputyRequest) -> set[int]:
    cached = getattr(item, "_co_department_ids", None)
    if cached is None:
        cached = set(item.co_departments.values_list("pk", flat=True))
        item._co_department_ids = cached  # type: ignore[attr-defined]
    return cached


def is_author(actor: Actor, item: DeputyRequest) -> bool:
    return actor.deputy_id is not None and item.author_id == actor.deputy_id


def is_coauthor(actor: Actor, item: DeputyRequest) -> bool:
    return actor.deputy_id is not None and actor.deputy_id in co_author_ids(item)


def is_lead_department(actor: Actor, item: DeputyRequest) -> bool:
    return actor.in_department(item.lead_department_id)


def is_involved_department(actor: Actor, item: DeputyRequest) -> bool:
    return is_lead_department(actor, item) or (
        actor.department_id is not None and actor.department_id in co_department_ids(item)
    )


def is_registered(item: DeputyRequest) -> bool:
    """Submitted at least once: a draft is its authors' alone, even staff do not see it."""
    return item.status != RequestStatus.DRAFT


def can_edit_draft(actor: Actor, item: DeputyRequest) -> bool:
    return is_author(actor, item)


def can_submit(actor: Actor, item: DeputyRequest) -> bool:
    return is_author(actor, item)


def can_withdraw(actor: Actor, item: DeputyRequest) -> bool:
    return is_author(actor, item)


def can_route(actor: Actor, item: DeputyRequest) -> bool:
    return actor.is_staff and is_registered(item)


def can_decline(actor: Actor, item: DeputyRequest) -> bool:
    return actor.is_staff and is_registered(item)


def can_assign(actor: Actor, item: DeputyRequest) -> bool:
    return actor.heads(item.lead_department_id)


def can_redirect(actor: Actor, item: DeputyRequest) -> bool:
    return is_lead_department(actor, item)


def can_respond(actor: Actor, item: DeputyRequest) -> bool:
    return is_lead_department(actor, item)


def can_approve_response(actor: Actor, item: DeputyRequest) -> bool:
    return actor.heads(item.lead_department_id)


def can_evaluate(actor: Actor, item: DeputyRequest) -> bool:
    return is_author(actor, item)


def can_rate_request(actor: Actor, item: DeputyRequest) -> bool:
    return is_involved_department(actor, item)


def rating_is_frozen(rated_at: datetime.datetime | None, now: datetime.datetime) -> bool:
    """A rating can be changed for seven days after it is given, then it is frozen."""
    return rated_at is not None and now - rated_at > RATING_FREEZE


def can_ask_extension(actor: Actor, item: DeputyRequest) -> bool:
    return is_lead_department(actor, item)


def can_decide_extension(actor: Actor, item: DeputyRequest) -> bool:
    return actor.is_staff and is_registered(item)


def can_clarify(actor: Actor, item: DeputyRequest) -> bool:
    """The lead department (executor or head) asks the author a clarification question."""
    return is_lead_department(actor, item)


def can_answer_clarification(actor: Actor, item: DeputyRequest) -> bool:
    """The author answers the department's clarification question."""
    return is_author(actor, item)


def can_reroute(actor: Actor, item: DeputyRequest) -> bool:
    """Staff re-route a request in work to another department."""
    return actor.is_staff and is_registered(item)


def can_read_correspondence(actor: Actor, item: DeputyRequest) -> bool:
    """The thread, the files and the history are the participants' business.

    A published request is public, its correspondence is not: another deputy
    (or the public) sees the request and its answers, never the thread. A draft's
    correspondence is its authors' alone.
    """
    if not is_registered(item):
        return is_author(actor, item) or is_coauthor(actor, item)
    return (
        is_author(actor, item)
        or is_coauthor(actor, item)
        or is_involved_department(actor, item)
        or actor.sees_everything
    )


def can_write_thread(actor: Actor, item: DeputyRequest) -> bool:
    """The deputy (author or co-author), the involved departments and staff talk in the thread."""
    if item.status == RequestStatus.DRAFT:
        return False
    return (
        is_author(actor, item)
        or is_coauthor(actor, item)
        or is_involved_department(actor, item)
        or actor.is_staff
    )


def can_attach(actor: Actor, item: DeputyRequest) -> bool:
    """Attachments: the author while drafting, then everyone who writes in the thread."""
    if item.status == RequestStatus.DRAFT:
        return is_author(actor, item)
    return can_write_thread(actor, item)
