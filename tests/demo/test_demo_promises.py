"""The promises of the demo year (``demo.promises.seed_promises``, a seed_demo step).

After the requests of a small year went through the services, every state of a promise
is present — open, overdue (derived), reported and awaiting the deputy's verdict, kept,
disputed and awaiting staff, broken, rescheduled with a reason — on several departments
and on published requests, with histories dated in the past in the order of the steps; a
second run changes nothing; the bulk path of ``--scale`` gets its promises and a share of
them kept and broken.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone, translation

from commitments.models import ACTIVE_STATES, Commitment, CommitmentState, Verdict
from commitments.selectors import with_overdue
from demo.context import DemoContext
from demo.directory import seed_directory
from demo.management.commands import seed_demo
from demo.promises import seed_promises
from demo.requests import seed_requests
from maslikhat.core.notifications import Notification
from maslikhat.core.threads import AuditEvent
from requests_app.models import Outcome, RequestStatus, Response, ResponseKind, ResponseStatus

# Enough requests for a handful of planned answers of every kind.
YEAR = 100


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def small_year(settings: Any) -> None:
    settings.DEMO_REQUESTS_PER_YEAR = YEAR


def seed_year(*, seed: int = 2023, scale: int = 1) -> str:
    context = DemoContext(directory=seed_directory(seed=seed), seed=seed, scale=scale)
    seed_requests(context)
    return seed_promises(context)


def in_order(*moments: datetime.datetime | None) -> bool:
    """Every moment is there, each strictly after the one before."""
    present = [moment for moment in moments if moment is not None]
    return len(present) == len(moments) and all(a < b for a, b in pairwise(present))


def promise_events() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(action__startswith="commitment_")
        .order_by("created_at", "id")
        .values_list("changes__commitment", "action", "actor_id", "comment", "created_at")
    )


@pytest.mark.django_db
def test_the_demo_year_has_promises_in_every_state_and_a_second_run_adds_nothing() -> None:
    summary = seed_year()

    today = timezone.localdate()
    midnight = datetime.datetime.combine(
        today, datetime.time(0), tzinfo=timezone.get_current_timezone()
    )
    promises = Commitment.objects.select_related("request")
    # Overdue as the promises' selectors derive it: still to be kept and past its date.
    overdue_ids = set(
        with_overdue(promises, today).filter(overdue=True).values_list("pk", flat=True)  # type: ignore[misc]
    )
    unreported = promises.filter(state__in=ACTIVE_STATES, reported_at__isnull=True)
    states = {
        "open": unreported.filter(state=CommitmentState.OPEN).exclude(pk__in=overdue_ids),
        "overdue": unreported.filter(pk__in=overdue_ids),
        "reported": promises.filter(
            state__in=ACTIVE_STATES, reported_at__isnull=False, verdict=Verdict.NONE
        ),
        "kept": promises.filter(state=CommitmentState.KEPT, verdict=Verdict.CONFIRMED),
        "disputed": promises.filter(state__in=ACTIVE_STATES, verdict=Verdict.DISPUTED),
        "broken": promises.filter(state=CommitmentState.BROKEN, resolved_at__isnull=False),
        "rescheduled": promises.filter(
            state=CommitmentState.RESCHEDULED, due_date__gte=today, reschedule_count=1
        ),
    }
    assert {name: qs.exists() for name, qs in states.items()} == dict.fromkeys(states, True)
    assert summary.startswith(f"Promises: {Commitment.objects.count()} (open ")

    # Spread over departments, and on published requests the public pages show.
    moved = promises.filter(~Q(state=CommitmentState.OPEN) | Q(reported_at__isnull=False))
    assert moved.values("department").distinct().count() >= 4
    published = Q(request__is_public=True, request__status=RequestStatus.CLOSED)
    assert states["kept"].filter(published).exists() or states["broken"].filter(published).exists()
    assert sum(qs.filter(published).exists() for qs in states.values()) >= 3

    # Every change went through a service: on the history, by the right people, in the past.
    events = promise_events()
    by_promise: dict[int, list[tuple[Any, ...]]] = {}
    for event in events:
        by_promise.setdefault(event[0], []).append(event)
    for commitment in promises.select_related("request__author"):
        history = by_promise[commitment.pk]
        actions = [action for _pk, action, *_rest in history]
        assert actions[0] == "commitment_created", commitment.pk
        assert all(event[4] < midnight for event in history), commitment.pk
        assert all(event[4] >= commitment.created_at for event in history), commitment.pk
        if commitment.reported_at is not None:
            assert "commitment_reported" in actions
            assert in_order(commitment.created_at, commitment.reported_at, midnight)
        if commitment.verdict:
            assert commitment.verdict_by_id == commitment.request.author.user_id
            assert in_order(commitment.reported_at, commitment.verdict_at, midnight)
        if commitment.state == CommitmentState.BROKEN:
            assert actions[-1] == "commitment_resolved"
            assert in_order(commitment.verdict_at, commitment.resolved_at, midnight)
        if commitment.state == CommitmentState.RESCHEDULED:
            reschedule = next(e for e in history if e[1] == "commitment_rescheduled")
            assert reschedule[3], "a move of the date gives its reason"
            assert commitment.due_date > commitment.original_due_date
    assert not Notification.objects.filter(send_email=True).exists()

    # A second run changes nothing.
    before = (
        list(Commitment.objects.order_by("pk").values()),
        promise_events(),
        Notification.objects.count(),
    )
    again = seed_year()
    assert "already in the database" in again
    after = (
        list(Commitment.objects.order_by("pk").values()),
        promise_events(),
        Notification.objects.count(),
    )
    assert after == before


@pytest.mark.django_db
def test_the_bulk_path_gets_its_promises_and_kept_and_broken_shares() -> None:
    summary = seed_year(scale=6)

    planned = Response.objects.filter(
        kind=ResponseKind.FINAL,
        status=ResponseStatus.SENT,
        outcome=Outcome.PLANNED,
        planned_date__isnull=False,
    )
    assert planned.count() > YEAR // 5
    assert not planned.exclude(pk__in=Commitment.objects.values("response_id")).exists()
    assert "Promises of the answers written in bulk" in summary
    # The bulk promises: ``commitment_created`` without an actor (the sweep's).
    swept = set(
        AuditEvent.objects.filter(action="commitment_created", actor__isnull=True).values_list(
            "changes__commitment", flat=True
        )
    )
    bulk = Commitment.objects.filter(pk__in=swept)
    assert bulk.filter(state=CommitmentState.KEPT).exists()
    assert bulk.filter(state=CommitmentState.BROKEN).exists()
    assert bulk.filter(state=CommitmentState.OPEN).exists()
    midnight = datetime.datetime.combine(
        timezone.localdate(), datetime.time(0), tzinfo=timezone.get_current_timezone()
    )
    for commitment in bulk.exclude(reported_at__isnull=True):
        assert in_order(commitment.created_at, commitment.reported_at, midnight)
        assert commitment.reported_by_id is not None
        if commitment.verdict:
            assert in_order(commitment.reported_at, commitment.verdict_at, midnight)
    for commitment in bulk.filter(state=CommitmentState.RESCHEDULED):
        assert commitment.due_date > timezone.localdate() > commitment.original_due_date
    # Each bulk promise and its creation event are dated when its answer was sent.
    sent = dict(bulk.values_list("pk", "response__sent_at"))
    assert sent
    assert dict(bulk.values_list("pk", "created_at")) == sent
    created = AuditEvent.objects.filter(action="commitment_created", actor__isnull=True)
    for commitment_id, when in created.values_list("changes__commitment", "created_at"):
        assert when == sent[commitment_id], commitment_id


def test_the_step_runs_after_the_requests() -> None:
    steps = seed_demo.STEPS
    assert steps.index(seed_promises) == steps.index(seed_requests) + 1
