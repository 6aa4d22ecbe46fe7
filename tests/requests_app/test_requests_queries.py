"""Query budgets of the request API: the same number of queries at 10 rows and at 1,000.

Each test measures an endpoint with 10 rows, adds 990 more (bulk inserts, states
set directly), measures again, and asserts both counts are equal and within the
declared budget. A list that starts querying once per row fails here first.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from maslikhat.accounts.models import User
from maslikhat.core.threads import AuditEvent, Message
from maslikhat.directory.actors import actor_for
from maslikhat.directory.models import Category, District
from requests_app import selectors
from requests_app.filters import DeputyRequestFilter
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory, DistrictFactory
from tests.requests_helpers import category, make_request

pytestmark = pytest.mark.django_db

S = RequestStatus

#: Declared budgets, measured on SQLite and PostgreSQL (the failure message of each
#: test reports what it measured).
#:
#: Every paginated list counts its rows with one query on SQLite and two on PostgreSQL
#: (the planner's estimate, then the count bounded at 1,001 rows): budgets are PostgreSQL's.
#:
#: The list: actor (deputy or department membership), count (2), page, the page's
#: co-authors and co-departments. Staff need no actor query: 5.
LIST_QUERY_BUDGET = 6
#: The detail (as staff: no actor query): the visible item with its 5 prefetches
#: (co-authors, their users, co-departments, suggested departments, sent answers) read
#: twice — ``retrieve`` gets the object and ``detail_response`` re-reads it — then the
#: answers the actor may see with all their evaluations (one query), the clarification
#: questions and the extensions: 16 (10 would do without the re-read).
DETAIL_QUERY_BUDGET = 16
#: History: actor, the visible item with its 5 prefetches, count (2), page: 10.
HISTORY_QUERY_BUDGET = 10
#: Messages: as history, + attachments of the page, the thread's read marks (the read
#: receipts) and the read mark (last id, get, move forward, the message notifications now
#: read): 16.
MESSAGES_QUERY_BUDGET = 16

_numbers = itertools.count(1)


def bulk_requests(
    directory: DemoDirectory, how_many: int, kind: Category, district: District
) -> None:
    """``how_many`` registered requests in every registered state, inserted in bulk."""
    now = timezone.now()
    today = timezone.localdate()
    states = [S.SUBMITTED, S.IN_PROGRESS, S.ANSWERED, S.CLOSED, S.DECLINED]
    rows = []
    for i in range(how_many):
        status = states[i % len(states)]
        routed = status in (S.IN_PROGRESS, S.ANSWERED, S.CLOSED)
        rows.append(
            DeputyRequest(
                number=f"DZ-2025-{next(_numbers):05d}",
                convocation=directory.convocation,
                author=directory.alice if i % 2 else directory.bob,
                title=f"Запрос {i}",
                body="Текст запроса",
                category=kind,
                district=district,
                status=status,
                is_public=i % 3 == 0,
                lead_department=(directory.finance if i % 2 else directory.mobility)
                if routed
                else None,
                executor=directory.finance_exec if routed and i % 2 else None,
                submitted_at=now - datetime.timedelta(hours=i),
                routed_at=now if routed else None,
                due_date=today + datetime.timedelta(days=i % 30 - 10) if routed else None,
                original_due_date=today if routed else None,
                answered_at=now if status in (S.ANSWERED, S.CLOSED) else None,
                rating=4 if status == S.CLOSED else None,
                search_document=f"Запрос {i}",
            )
        )
    created = DeputyRequest.objects.bulk_create(rows, batch_size=500)
    co_authors = DeputyRequest.co_authors.through
    co_departments = DeputyRequest.co_departments.through
    co_authors.objects.bulk_create(
        co_authors(deputyrequest_id=r.pk, deputy_id=directory.alice.pk)
        for r in created[::7]
        if r.author_id != directory.alice.pk
    )
    co_departments.objects.bulk_create(
        co_departments(deputyrequest_id=r.pk, department_id=directory.finance.pk)
        for r in created[::11]
        if r.lead_department_id == directory.mobility.pk
    )


def count_queries(client: Any, path: str) -> int:
    """Queries of one GET, as a new HTTP request would run them (a fresh user object:
    nothing cached on it from an earlier call)."""
    user = client.handler._force_user
    client.force_authenticate(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as captured:
        result = client.get(path)
    assert result.status_code == 200, result.content
    return len(captured.captured_queries)


def measured(label: str, small: int, large: int, budget: int) -> str:
    return f"{label}: {small} queries at 10 rows, {large} at 1,000 (budget {budget})"


@pytest.mark.parametrize("persona", ["staff", "alice", "finance_head"])
def test_the_request_list_runs_the_same_queries_at_10_and_1000_requests(
    directory: DemoDirectory, api_as: Any, persona: str
) -> None:
    kind, district = category(), DistrictFactory.create(code="medeu")
    user = getattr(directory, persona)
    client = api_as(user if isinstance(user, User) else user.user)
    bulk_requests(directory, 10, kind, district)
    path = "/api/v1/requests/?page_size=200&ordering=-submitted_at"
    small = count_queries(client, path)
    bulk_requests(directory, 990, kind, district)
    assert DeputyRequest.objects.count() == 1000
    large = count_queries(client, path)
    assert client.get(path).json()["count"] > 200
    message = measured(f"list as {persona}", small, large, LIST_QUERY_BUDGET)
    assert small == large, message
    assert large <= LIST_QUERY_BUDGET, message


def test_the_request_detail_runs_the_same_queries_at_10_and_1000_rows(
    directory: DemoDirectory, api_as: Any
) -> None:
    kind, district = category(), DistrictFactory.create(code="medeu")
    item = make_request(directory, status=S.ANSWERED, co_authors=[directory.bob])
    client = api_as(directory.staff)
    path = f"/api/v1/requests/{item.pk}/"
    add_history_and_messages(item, directory, 10)
    bulk_requests(directory, 9, kind, district)
    small = count_queries(client, path)
    add_history_and_messages(item, directory, 990)
    bulk_requests(directory, 990, kind, district)
    large = count_queries(client, path)
    message = measured("detail", small, large, DETAIL_QUERY_BUDGET)
    assert small == large, message
    assert large <= DETAIL_QUERY_BUDGET, message


def add_history_and_messages(item: DeputyRequest, directory: DemoDirectory, n: int) -> None:
    users = [directory.alice.user, directory.finance_exec, directory.finance_head, directory.staff]
    AuditEvent.objects.bulk_create(
        AuditEvent(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            actor=users[i % len(users)],
            action="message",
            from_status=item.status,
            to_status=item.status,
        )
        for i in range(n)
    )
    Message.objects.bulk_create(
        Message(
            item_type=item.ITEM_TYPE,
            item_id=item.pk,
            author=users[i % len(users)],
            text=f"Сообщение {i}",
        )
        for i in range(n)
    )


@pytest.mark.parametrize(
    ("endpoint", "budget"),
    [("history", HISTORY_QUERY_BUDGET), ("messages", MESSAGES_QUERY_BUDGET)],
)
def test_history_and_messages_run_the_same_queries_at_10_and_1000_rows(
    directory: DemoDirectory, api_as: Any, endpoint: str, budget: int
) -> None:
    item = make_request(directory, status=S.IN_PROGRESS, co_authors=[directory.bob])
    client = api_as(directory.finance_exec)
    path = f"/api/v1/requests/{item.pk}/{endpoint}/?page_size=200"
    # Each measured read finds new messages, so the read mark moves forward both times.
    add_history_and_messages(item, directory, 5)
    assert client.get(path).status_code == 200  # the first read creates the read mark
    add_history_and_messages(item, directory, 5)
    small = count_queries(client, path)
    add_history_and_messages(item, directory, 990)
    large = count_queries(client, path)
    message = measured(endpoint, small, large, budget)
    assert small == large, message
    assert large <= budget, message


def test_the_overdue_list_reads_its_partial_index(directory: DemoDirectory) -> None:
    """``is_overdue=true`` asks the two conditions the partial index ``request_overdue_due``
    holds (in work with the clock running, answered after the due date), so PostgreSQL can
    walk the index by due date instead of reading every request."""
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    rows = DeputyRequestFilter(
        data={"is_overdue": "true"},
        queryset=selectors.deputy_request_rows(actor=actor_for(directory.staff)),
    ).qs.order_by("due_date", "id")
    sql, params = selectors.list_values(rows)[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "request_overdue_due" in plan, plan
