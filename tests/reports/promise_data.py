"""Promises for the public page, dashboard and export tests.

``promised`` goes through the services (a planned final answer approved by the head, then,
unless ``close=False``, accepted by the author: the request is closed and its answer public);
``keep``, ``break_``, ``reschedule`` settle a promise the same way. ``bulk_promises`` inserts
promises beside ``bulk_requests``' sent answers for the query-count tests.
"""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

from commitments import services as commitment_services
from commitments.models import Commitment, CommitmentState, Verdict
from maslikhat.accounts.models import User
from maslikhat.directory.models import Department, Deputy, District
from requests_app import services
from requests_app.models import (
    DeputyRequest,
    Outcome,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, lead_officers, make_request, refresh

_numbers = itertools.count(1)


LETTERS = "абвгдежзиклмнопрстуфхцчшэюя"


def _word(value: int) -> str:
    letters = []
    while True:
        value, digit = divmod(value, len(LETTERS))
        letters.append(LETTERS[digit])
        if not value:
            return "".join(letters)


def unique_text(n: int) -> str:
    """An answer no earlier answer resembles: the boilerplate check compares triples of
    words (letters only), so every word of it is made of ``n``."""
    return "План работ: " + " ".join(_word(n * 100 + k) + "ка" for k in range(12))


def promised(
    directory: DemoDirectory,
    *,
    lead: Department | None = None,
    district: District | None = None,
    public: bool = True,
    close: bool = True,
    planned: datetime.date | None = None,
    text: str | None = None,
    boilerplate_comment: str = "",
    author: Deputy | None = None,
) -> Commitment:
    item = make_request(
        directory,
        status=RequestStatus.IN_PROGRESS,
        lead=lead,
        district=district,
        is_public=public,
        author=author,
    )
    response = draft_answer(
        directory,
        item,
        outcome=Outcome.PLANNED,
        text=text or unique_text(next(_numbers)),
        planned_date=planned or timezone.localdate() + datetime.timedelta(days=60),
    )
    head, _executor = lead_officers(directory, refresh(item))
    services.deputy_request_response_approve(
        pk=item.pk, response_id=response.pk, by=head, boilerplate_comment=boilerplate_comment
    )
    if close:
        by_author = refresh(item).author.user
        services.deputy_request_evaluate(pk=item.pk, by=by_author, decision="accept", rating=4)
    return Commitment.objects.get(response=response)


def _officer(directory: DemoDirectory, commitment: Commitment) -> User:
    return lead_officers(directory, refresh(commitment.request))[1]


def report(directory: DemoDirectory, commitment: Commitment) -> Commitment:
    return commitment_services.commitment_report(
        pk=commitment.pk, by=_officer(directory, commitment), text="Работы выполнены."
    )


def keep(directory: DemoDirectory, commitment: Commitment) -> Commitment:
    report(directory, commitment)
    author = refresh(commitment.request).author.user
    return commitment_services.commitment_confirm(pk=commitment.pk, by=author)


def break_(directory: DemoDirectory, commitment: Commitment) -> Commitment:
    report(directory, commitment)
    author = refresh(commitment.request).author.user
    commitment_services.commitment_dispute(pk=commitment.pk, by=author, comment="Не сделано.")
    return commitment_services.commitment_resolve(pk=commitment.pk, by=directory.staff, kept=False)


def dispute(directory: DemoDirectory, commitment: Commitment) -> Commitment:
    report(directory, commitment)
    author = refresh(commitment.request).author.user
    return commitment_services.commitment_dispute(
        pk=commitment.pk, by=author, comment="Не сделано."
    )


def reschedule(directory: DemoDirectory, commitment: Commitment, days: int = 30) -> Commitment:
    return commitment_services.commitment_reschedule(
        pk=commitment.pk,
        by=_officer(directory, commitment),
        new_due_date=commitment.due_date + datetime.timedelta(days=days),
        reason="Подрядчик задержал поставку.",
    )


def move_due(commitment: Commitment, due: datetime.date) -> Commitment:
    """Set the promised date directly (a date in the past cannot be promised today)."""
    Commitment.objects.filter(pk=commitment.pk).update(due_date=due, original_due_date=due)
    return Commitment.objects.get(pk=commitment.pk)


#: The states ``bulk_promises`` cycles through.
BULK_STATES = (
    CommitmentState.OPEN,
    CommitmentState.KEPT,
    CommitmentState.RESCHEDULED,
    CommitmentState.BROKEN,
)


def bulk_promises(requests: list[DeputyRequest]) -> list[Commitment]:
    """A promise beside every sent final answer of ``requests`` (inserted in bulk)."""
    today = timezone.localdate()
    now = timezone.now()
    answers = Response.objects.filter(
        request__in=requests, kind=ResponseKind.FINAL, status=ResponseStatus.SENT
    ).order_by("pk")
    rows = []
    for i, answer in enumerate(answers):
        state = BULK_STATES[i % len(BULK_STATES)]
        due = today + datetime.timedelta(days=i % 40 - 20)
        settled = state in (CommitmentState.KEPT, CommitmentState.BROKEN)
        rows.append(
            Commitment(
                request_id=answer.request_id,
                response_id=answer.pk,
                department_id=answer.department_id,
                text=answer.text,
                original_due_date=due,
                due_date=due,
                state=state,
                reported_at=now if settled or i % 5 == 0 else None,
                verdict=Verdict.DISPUTED if i % 7 == 0 and not settled else Verdict.NONE,
            )
        )
    return Commitment.objects.bulk_create(rows)
