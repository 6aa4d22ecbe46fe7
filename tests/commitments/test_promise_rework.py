"""A planned answer returned for rework: its promise is withdrawn, the next one promises anew."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commitments import services
from commitments.models import ACTIVE_STATES, Commitment, CommitmentState
from commitments.selectors import commitment_history
from maslikhat.core.exceptions import TransitionNotAllowed
from maslikhat.directory.actors import actor_for
from reports.todo import todo_for
from requests_app import services as request_services
from requests_app.models import Outcome, RequestStatus, Response
from requests_app.signals import final_answer_returned
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory
from tests.requests_helpers import draft_answer, lead_officers, refresh

pytestmark = pytest.mark.django_db


def rework(directory: DemoDirectory, commitment: Commitment) -> None:
    request_services.deputy_request_evaluate(
        pk=commitment.request_id,
        by=directory.alice.user,
        decision="rework",
        comment="Назовите подрядчика и смету.",
    )


def test_returning_a_planned_answer_withdraws_its_promise(directory: DemoDirectory) -> None:
    soon = timezone.localdate() + datetime.timedelta(days=2)
    commitment = make_commitment(directory, planned=soon)
    rework(directory, commitment)

    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.WITHDRAWN
    assert commitment.state not in ACTIVE_STATES
    assert refresh(commitment.request).status == RequestStatus.IN_PROGRESS
    assert [e.action for e in commitment_history(commitment)] == [
        "commitment_created",
        "commitment_withdrawn",
    ]
    event = commitment_history(commitment).last()
    assert event is not None
    assert event.changes["state"] == [CommitmentState.OPEN, CommitmentState.WITHDRAWN]
    assert event.actor == directory.alice.user
    # Nothing more can happen to it, and it is on nobody's to-do.
    with pytest.raises(TransitionNotAllowed):
        services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    for user in (directory.finance_head, directory.finance_exec, directory.staff):
        groups = todo_for(actor_for(user), timezone.localdate())
        assert all(not g.kind.startswith("commitment_") or g.count == 0 for g in groups)


def test_the_next_planned_answer_makes_a_new_promise(directory: DemoDirectory) -> None:
    first = make_commitment(directory)
    rework(directory, first)
    later = timezone.localdate() + datetime.timedelta(days=120)
    response = draft_answer(
        directory,
        refresh(first.request),
        outcome=Outcome.PLANNED,
        text="Подрядчик выбран, ремонт в мае.",
        planned_date=later,
    )
    head, _executor = lead_officers(directory, refresh(first.request))
    request_services.deputy_request_response_approve(
        pk=first.request_id, response_id=response.pk, by=head
    )

    promises = list(Commitment.objects.filter(request_id=first.request_id).order_by("id"))
    assert [p.state for p in promises] == [CommitmentState.WITHDRAWN, CommitmentState.OPEN]
    assert promises[1].due_date == later
    assert promises[1].response_id == response.pk


def test_a_settled_promise_stays_as_it_is_and_other_answers_withdraw_nothing(
    directory: DemoDirectory,
) -> None:
    commitment = make_commitment(directory)
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")
    services.commitment_confirm(pk=commitment.pk, by=directory.alice.user)
    rework(directory, commitment)
    commitment.refresh_from_db()
    assert commitment.state == CommitmentState.KEPT

    assert services.commitment_withdraw_for_answer(response=commitment.response, by=None) is None


def test_the_rework_sends_final_answer_returned_with_the_returned_answer(
    directory: DemoDirectory,
) -> None:
    commitment = make_commitment(directory)
    received: list[tuple[Response, int]] = []

    def listen(sender: object, *, response: Response, item: object, **kwargs: object) -> None:
        received.append((response, item.pk))  # type: ignore[attr-defined]

    final_answer_returned.connect(listen)
    try:
        rework(directory, commitment)
    finally:
        final_answer_returned.disconnect(listen)
    assert [(r.pk, pk) for r, pk in received] == [(commitment.response_id, commitment.request_id)]
