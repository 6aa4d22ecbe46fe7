"""Who may do what through ``/api/v1/commitments/``: one declared table drives the tests.

The promise is alice's request's, made by finance (``docs/domain.md``, promises):

- a deputy sees the promises of own requests; another deputy gets 404;
- a department sees its own promises; another department gets 404;
- staff, the chair and administrators see all; only staff resolve a dispute;
- the department reports and reschedules, the author confirms or disputes (else 403);
- the API requires a login: anonymous callers get 401.

A refused call leaves the promise as it was.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from commitments import services
from commitments.models import Commitment
from maslikhat.accounts.models import User
from tests.commitments.helpers import make_commitment
from tests.factories import DemoDirectory

pytestmark = pytest.mark.django_db

PERSONAS = (
    "alice",
    "bob",
    "finance_head",
    "finance_exec",
    "mobility_head",
    "mobility_exec",
    "staff",
    "chair",
    "admin",
    "anonymous",
)


def _reported(directory: DemoDirectory, commitment: Commitment) -> None:
    services.commitment_report(pk=commitment.pk, by=directory.finance_exec, text="Сделано.")


def _disputed(directory: DemoDirectory, commitment: Commitment) -> None:
    _reported(directory, commitment)
    services.commitment_dispute(pk=commitment.pk, by=directory.alice.user, comment="Нет.")


def _nothing(directory: DemoDirectory, commitment: Commitment) -> None:
    return None


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str  # "" is the list; else appended to the promise's detail URL
    body: dict[str, Any]
    prepare: Callable[[DemoDirectory, Commitment], None]
    expected: dict[str, int]


def statuses(
    *,
    alice: int,
    bob: int = 404,
    department: int,
    other_department: int = 404,
    staff: int,
    chair: int,
    admin: int,
) -> dict[str, int]:
    return {
        "alice": alice,
        "bob": bob,
        "finance_head": department,
        "finance_exec": department,
        "mobility_head": other_department,
        "mobility_exec": other_department,
        "staff": staff,
        "chair": chair,
        "admin": admin,
        "anonymous": 401,
    }


NEW_DATE = (timezone.localdate() + datetime.timedelta(days=100)).isoformat()

TABLE = (
    Row(
        "list",
        "get",
        "",
        {},
        _nothing,
        statuses(
            alice=200,
            bob=200,
            department=200,
            other_department=200,
            staff=200,
            chair=200,
            admin=200,
        ),
    ),
    Row(
        "detail",
        "get",
        "/",
        {},
        _nothing,
        statuses(alice=200, department=200, staff=200, chair=200, admin=200),
    ),
    Row(
        "report",
        "post",
        "/report/",
        {"text": "Выполнено."},
        _nothing,
        statuses(alice=403, department=200, staff=403, chair=403, admin=403),
    ),
    Row(
        "reschedule",
        "post",
        "/reschedule/",
        {"new_due_date": NEW_DATE, "reason": "Погода"},
        _nothing,
        statuses(alice=403, department=200, staff=403, chair=403, admin=403),
    ),
    Row(
        "confirm",
        "post",
        "/confirm/",
        {},
        _reported,
        statuses(alice=200, department=403, staff=403, chair=403, admin=403),
    ),
    Row(
        "dispute",
        "post",
        "/dispute/",
        {"comment": "Не сделано."},
        _reported,
        statuses(alice=200, department=403, staff=403, chair=403, admin=403),
    ),
    Row(
        "resolve",
        "post",
        "/resolve/",
        {"kept": False},
        _disputed,
        statuses(alice=403, department=403, staff=200, chair=403, admin=403),
    ),
)


def snapshot(commitment: Commitment) -> tuple[Any, ...]:
    commitment.refresh_from_db()
    return (
        commitment.state,
        commitment.due_date,
        commitment.reported_text,
        commitment.verdict,
        commitment.reschedule_count,
    )


def user_of(directory: DemoDirectory, persona: str) -> User | None:
    if persona == "anonymous":
        return None
    value = getattr(directory, persona)
    return value if isinstance(value, User) else value.user


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", TABLE, ids=lambda row: row.name)
def test_permission_matrix(directory, row: Row, persona: str):
    commitment = make_commitment(directory)
    row.prepare(directory, commitment)
    before = snapshot(commitment)
    client = APIClient()
    user = user_of(directory, persona)
    if user is not None:
        client.force_authenticate(user)
    url = "/api/v1/commitments/" + (f"{commitment.pk}{row.path}" if row.path else "")

    response = getattr(client, row.method)(url, row.body, format="json")

    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content)
    if row.name == "list" and expected == 200:
        sees = persona in {"alice", "finance_head", "finance_exec", "staff", "chair", "admin"}
        assert [r["id"] for r in response.json()["results"]] == ([commitment.pk] if sees else [])
    if row.method == "post" and expected != 200:
        assert snapshot(commitment) == before
    if row.method == "post" and expected == 200:
        assert snapshot(commitment) != before


# --- The pages: the card on the request's page, its actions, the list ----------------------------
#
# The same personas in the browser: a promise (or its request) a person may not see is a 404,
# an action they may not take is refused with a 403 (what they typed is shown again), and
# anonymous visitors are sent to the login page.

LOGIN = 302

PAGE_TABLE = (
    Row(
        "request page card",
        "get",
        "card",
        {},
        _nothing,
        {
            **statuses(alice=200, department=200, staff=200, chair=200, admin=200),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "promise list",
        "get",
        "list",
        {},
        _nothing,
        {
            **statuses(
                alice=200,
                bob=200,
                department=200,
                other_department=200,
                staff=200,
                chair=200,
                admin=200,
            ),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "report",
        "post",
        "report",
        {"text": "Выполнено."},
        _nothing,
        {
            **statuses(alice=403, department=302, staff=403, chair=403, admin=403),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "reschedule",
        "post",
        "reschedule",
        {"new_due_date": NEW_DATE, "reason": "Погода"},
        _nothing,
        {
            **statuses(alice=403, department=302, staff=403, chair=403, admin=403),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "confirm",
        "post",
        "confirm",
        {"comment": "Да."},
        _reported,
        {
            **statuses(alice=302, department=403, staff=403, chair=403, admin=403),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "dispute",
        "post",
        "dispute",
        {"comment": "Не сделано."},
        _reported,
        {
            **statuses(alice=302, department=403, staff=403, chair=403, admin=403),
            "anonymous": LOGIN,
        },
    ),
    Row(
        "resolve",
        "post",
        "resolve",
        {"kept": "no", "comment": "Не выполнено."},
        _disputed,
        {
            **statuses(alice=403, department=403, staff=302, chair=403, admin=403),
            "anonymous": LOGIN,
        },
    ),
)

#: Who finds the promise on the list page.
SEES_ON_LIST = {"alice", "finance_head", "finance_exec", "staff", "chair", "admin"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", PAGE_TABLE, ids=lambda row: row.name)
def test_page_permission_matrix(client, directory, row: Row, persona: str):
    commitment = make_commitment(directory)
    row.prepare(directory, commitment)
    before = snapshot(commitment)
    user = user_of(directory, persona)
    if user is not None:
        client.force_login(user)
    if row.path == "card":
        url = f"/requests/{commitment.request_id}/"
    elif row.path == "list":
        url = "/commitments/"
    else:
        url = f"/commitments/{commitment.pk}/{row.path}/"

    response = getattr(client, row.method)(url, row.body)

    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona)
    if expected == LOGIN and user is None:
        assert "/accounts/login/" in response["Location"]
    html = response.content.decode() if response.status_code == 200 else ""
    if row.path == "card" and expected == 200:
        assert f'data-promise="{commitment.pk}"' in html
    if row.path == "list" and expected == 200:
        assert (f'data-promise-row="{commitment.pk}"' in html) == (persona in SEES_ON_LIST)
    if row.method == "post":
        changed = snapshot(commitment) != before
        assert changed == (expected == 302 and user is not None), (row.name, persona)
        if expected == 403:
            typed = next(iter(v for k, v in row.body.items() if k in ("text", "reason", "comment")))
            assert typed in response.content.decode()
