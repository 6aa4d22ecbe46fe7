"""Who hears of each step of a promise, in the app and by e-mail (``core.notifications``).

Called by the services inside their transaction (the rows are written with the change,
e-mail goes after the commit). The notification's item is the promise's request: its
link opens the request's page, where the promise is shown. The actor is never told of
their own step.

| step                 | told                                        | e-mail |
| -------------------- | ------------------------------------------- | ------ |
| the report           | the request's author and co-authors         | yes    |
| confirmed            | the department's officers                   | no     |
| disputed             | the department's officers, council staff    | yes    |
| resolved (by staff)  | the author and co-authors, the department   | yes    |
| rescheduled          | the author and co-authors                   | yes    |
"""

from __future__ import annotations

from maslikhat.accounts.models import User
from maslikhat.core.notifications import NotificationKind, notify
from maslikhat.directory.recipients import department_users, staff_users
from requests_app.lifecycle import deputy_users

from .models import Commitment, CommitmentState


def _department(commitment: Commitment) -> list[User]:
    return department_users([commitment.department_id])


def reported(commitment: Commitment, *, by: User) -> None:
    """The department reports the promised work done: was it done? (the author's verdict)."""
    notify(
        users=deputy_users(commitment.request),
        kind=NotificationKind.PROMISE_REPORTED,
        item=commitment.request,
        email=True,
        exclude=by,
    )


def confirmed(commitment: Commitment, *, by: User) -> None:
    notify(
        users=_department(commitment),
        kind=NotificationKind.PROMISE_CONFIRMED,
        item=commitment.request,
        exclude=by,
    )


def disputed(commitment: Commitment, *, by: User) -> None:
    """The department learns of the dispute; staff, who resolve it, too."""
    notify(
        users=[*_department(commitment), *staff_users()],
        kind=NotificationKind.PROMISE_DISPUTED,
        item=commitment.request,
        email=True,
        exclude=by,
    )


def resolved(commitment: Commitment, *, by: User) -> None:
    kept = commitment.state == CommitmentState.KEPT
    notify(
        users=[*deputy_users(commitment.request), *_department(commitment)],
        kind=NotificationKind.PROMISE_KEPT if kept else NotificationKind.PROMISE_BROKEN,
        item=commitment.request,
        email=True,
        exclude=by,
    )


def rescheduled(commitment: Commitment, *, by: User) -> None:
    notify(
        users=deputy_users(commitment.request),
        kind=NotificationKind.PROMISE_RESCHEDULED,
        item=commitment.request,
        email=True,
        exclude=by,
        params={"due": commitment.due_date},
    )
