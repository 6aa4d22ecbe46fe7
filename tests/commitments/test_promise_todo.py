"""Promises on the to-do home and ``/api/v1/me/todo/``: each person sees exactly their promises
to act on — never another department's or another deputy's — in a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from commitments import services
from commitments.models import Commitment
from maslikhat.accounts.models import User
from maslikhat.directory.actors import actor_for
from maslikhat.directory.models import Position
from reports.todo import GROUPS, PAGE_SIZE, todo_for
from requests_app.models import Outcome, Response, ResponseKind, ResponseStatus
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory, department_officer

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
PROMISE_GROUPS = {g.kind for g in GROUPS if g.kind.startswith("commitment_")}


def mine(user: User) -> dict[str, set[int]]:
    """``{promise group: {promise id, …}}`` of the to-do of ``user`` (non-empty groups)."""
    groups = todo_for(actor_for(user), TODAY())
    return {g.kind: {i.id for i in g.items} for g in groups if g.count and g.kind in PROMISE_GROUPS}


def past(directory: DemoDirectory, days: int, **kwargs: Any) -> Commitment:
    """A promise whose date passed ``days`` calendar days ago (moved there in the database)."""
    commitment = make_commitment(directory, **kwargs)
    Commitment.objects.filter(pk=commitment.pk).update(
        due_date=TODAY() - datetime.timedelta(days=days)
    )
    return commitment


def test_each_person_sees_exactly_their_promises(directory: DemoDirectory) -> None:
    d = directory
    soon = make_commitment(d, planned=TODAY() + datetime.timedelta(days=2))
    far = make_commitment(d, planned=TODAY() + datetime.timedelta(days=90))
    late = past(d, 10)
    mobility_late = past(d, 3, lead=d.mobility, author=d.bob)
    reported = make_commitment(d, planned=TODAY() + datetime.timedelta(days=1))
    services.commitment_report(pk=reported.pk, by=d.finance_exec, text="Сделано.")
    disputed = make_commitment(d)
    services.commitment_report(pk=disputed.pk, by=d.finance_exec, text="Сделано.")
    services.commitment_dispute(pk=disputed.pk, by=d.alice.user, comment="Не сделано.")

    # The department: not yet reported, due soon or past; never the far one or another's.
    assert mine(d.finance_head) == {"commitment_department_due": {soon.pk, late.pk}}
    assert mine(d.finance_exec) == {"commitment_department_due": {soon.pk, late.pk}}
    assert mine(d.mobility_head) == {"commitment_department_due": {mobility_late.pk}}
    # The author: the report awaiting her verdict (a disputed one is staff's now).
    assert mine(d.alice.user) == {"commitment_verdicts": {reported.pk}}
    assert mine(d.bob.user) == {}
    # Staff: the dispute to resolve, and every department's overdue unreported promise.
    assert mine(d.staff) == {
        "commitment_disputes": {disputed.pk},
        "commitment_overdue": {late.pk, mobility_late.pk},
    }
    assert far.pk not in set().union(*mine(d.finance_head).values())


def test_an_executor_sees_the_promises_of_requests_assigned_to_them_or_to_nobody(
    directory: DemoDirectory,
) -> None:
    d = directory
    soon = make_commitment(d, planned=TODAY() + datetime.timedelta(days=2))
    other = department_officer("finance_exec2", d.finance, Position.EXECUTOR)
    assert mine(other) == {"commitment_department_due": {soon.pk}}
    type(soon.request).objects.filter(pk=soon.request_id).update(executor=d.finance_exec)
    assert mine(other) == {}
    assert mine(d.finance_exec) == {"commitment_department_due": {soon.pk}}
    assert mine(d.finance_head) == {"commitment_department_due": {soon.pk}}


def test_a_row_opens_the_request_page_at_the_promise(
    directory: DemoDirectory, api_client: APIClient
) -> None:
    late = past(directory, 4)
    api_client.force_authenticate(directory.staff)
    groups = {g["kind"]: g for g in api_client.get("/api/v1/me/todo/").json()["groups"]}
    row = groups["commitment_overdue"]["items"][0]
    assert row["type"] == "commitment"
    assert row["id"] == late.pk
    assert row["url"] == f"/requests/{late.request_id}/#promise"
    assert row["api_url"] == f"/api/v1/commitments/{late.pk}/"
    assert row["number"] == late.request.number
    assert row["overdue_days"] >= 1
    assert not groups["commitment_overdue"]["list_url"].startswith("/api/")

    client = Client()
    client.force_login(directory.staff)
    page = client.get("/").content.decode()
    assert f'href="/requests/{late.request_id}/#promise"' in page


def _bulk_promises(directory: DemoDirectory, how_many: int) -> None:
    """``how_many`` more promises of one answered request, in bulk (each with its answer)."""
    base = make_commitment(directory)
    today = TODAY()
    responses = Response.objects.bulk_create(
        Response(
            request_id=base.request_id,
            department=directory.finance,
            kind=ResponseKind.FINAL,
            text="План",
            outcome=Outcome.PLANNED,
            planned_date=today,
            status=ResponseStatus.SENT,
            drafted_by=directory.finance_exec,
            sent_at=timezone.now(),
        )
        for _ in range(how_many)
    )
    Commitment.objects.bulk_create(
        Commitment(
            request_id=base.request_id,
            response_id=response.pk,
            department=directory.finance,
            text="План",
            original_due_date=today,
            due_date=today + datetime.timedelta(days=i % 5 - 3),
            reported_at=timezone.now() if i % 3 == 0 else None,
            verdict="disputed" if i % 6 == 0 else "",
        )
        for i, response in enumerate(responses)
    )


def _queries(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.parametrize("persona", ["alice", "finance_exec", "finance_head", "staff"])
def test_queries_do_not_grow_with_promises(
    directory: DemoDirectory, persona: str, api_as: Callable[[User], APIClient]
) -> None:
    user = directory.alice.user if persona == "alice" else getattr(directory, persona)
    client = Client()
    client.force_login(user)
    counts = []
    for how_many in (10, 1000):
        _bulk_promises(directory, how_many)
        api = api_as(User.objects.get(pk=user.pk))
        page = _queries(lambda: client.get("/"))
        answer = _queries(partial(api.get, "/api/v1/me/todo/"))
        counts.append((page, answer))
    assert counts[0] == counts[1], counts
    groups = api.get("/api/v1/me/todo/").json()["groups"]
    promise_groups = [g for g in groups if g["kind"] in PROMISE_GROUPS]
    assert promise_groups
    assert all(len(g["items"]) <= PAGE_SIZE for g in promise_groups)
    if persona != "alice":
        assert any(g["count"] > PAGE_SIZE for g in promise_groups)


def test_the_promise_groups_are_for_the_right_roles() -> None:
    roles = {g.kind: g.roles for g in GROUPS if g.kind in PROMISE_GROUPS}
    assert roles == {
        "commitment_verdicts": frozenset({"deputy"}),
        "commitment_department_due": frozenset({"executor", "head"}),
        "commitment_disputes": frozenset({"staff"}),
        "commitment_overdue": frozenset({"staff"}),
    }
