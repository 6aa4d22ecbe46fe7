"""Two people acting on the same request at the same moment, for real.

Each attempt runs in its own thread with its own database connection; a barrier
starts them together, and the first one to get the row lock is slowed down inside
its transaction so the second one certainly arrives while it is still working.
Exactly one succeeds; the other gets ``TransitionNotAllowed`` (a 409 in the API)
and nothing is done twice. Runs on SQLite (IMMEDIATE transactions with a busy
timeout) and on PostgreSQL (``SELECT … FOR UPDATE``).

SQLite: the suite's test database is in memory (shared cache), where a second
writer fails at once with "database table is locked" — the busy timeout only
applies to database files. The race therefore runs on a file copy of the test
database (``sqlite_file_database``), configured like production (WAL, IMMEDIATE,
busy timeout); with a file-based ``TEST["NAME"]`` that copy is skipped.
"""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from unittest import mock

import pytest
from django.db import connection

from maslikhat.accounts.models import User
from maslikhat.core.exceptions import TransitionNotAllowed
from maslikhat.core.notifications import Notification, NotificationKind
from maslikhat.core.threads import AuditEvent
from requests_app import services
from requests_app.models import (
    DeputyRequest,
    RegistrationCounter,
    RequestStatus,
    Response,
    ResponseStatus,
)
from tests.factories import DemoDirectory
from tests.requests_helpers import create_draft, draft_answer, make_request, refresh

pytestmark = pytest.mark.django_db(transaction=True)

#: How long the winner holds its transaction open after taking the lock.
HOLD_SECONDS = 0.3


@contextlib.contextmanager
def sqlite_file_database(folder: Path) -> Iterator[None]:
    """Run the block against a file copy of an in-memory SQLite test database.

    New connections (the racing threads') open the file; afterwards its content is
    copied back into the in-memory database, where the test makes its assertions.
    A no-op on PostgreSQL or when the SQLite test database is already a file.
    """
    if connection.vendor != "sqlite" or not cast(Any, connection).is_in_memory_db():
        yield
        return
    connection.ensure_connection()
    memory = connection.connection
    path = folder / "race.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as copy:
        memory.backup(copy)
    settings_dict = connection.settings_dict  # shared with every thread's connection
    saved_name = settings_dict["NAME"]
    settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        settings_dict["NAME"] = saved_name
        with contextlib.closing(sqlite3.connect(path)) as copy:
            copy.backup(memory)


def race(attempts: list[Callable[[], Any]]) -> list[str]:
    """Run ``attempts`` in threads started together; "ok", "409" or the error's repr each."""
    barrier = threading.Barrier(len(attempts))
    results: list[str] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            attempt()
            outcome = "ok"
        except TransitionNotAllowed:
            outcome = "409"
        except Exception as error:  # reported in the assertion, not swallowed
            outcome = repr(error)
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return sorted(results)


def slowed(target: str) -> Any:
    """Patch ``target`` (a function of a ``requests_app`` module) to hold the transaction."""
    module, name = target.rsplit(".", 1)
    original = getattr(importlib.import_module(module), name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        time.sleep(HOLD_SECONDS)
        return result

    return mock.patch(target, side_effect=slow)


def fresh_user(pk: int) -> User:
    """A User object of this thread's own (the actor cache lives on the instance)."""
    return User.objects.get(pk=pk)


def test_two_approvals_of_the_same_draft_at_once_answer_the_request_once(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    response = draft_answer(directory, item)
    head_pk = directory.finance_head.pk
    users = [fresh_user(head_pk), fresh_user(head_pk)]

    def approve(user: User) -> Callable[[], Any]:
        return lambda: services.deputy_request_response_approve(
            pk=item.pk, response_id=response.pk, by=user
        )

    with sqlite_file_database(tmp_path), slowed("requests_app.responses._lock_draft"):
        results = race([approve(users[0]), approve(users[1])])

    assert results == ["409", "ok"]
    after = refresh(item)
    assert after.status == RequestStatus.ANSWERED
    assert after.version == item.version + 1
    response.refresh_from_db()
    assert response.status == ResponseStatus.SENT
    events = AuditEvent.objects.for_item(after).filter(action="approve_final")
    assert events.count() == 1
    answered = Notification.objects.filter(
        item_id=item.pk, kind=NotificationKind.ANSWERED, user=directory.alice.user
    )
    assert answered.count() == 1


def test_two_submits_of_the_same_draft_at_once_register_it_once(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    draft = create_draft(directory)
    alice_pk = directory.alice.user.pk
    users = [fresh_user(alice_pk), fresh_user(alice_pk)]

    def submit(user: User) -> Callable[[], Any]:
        return lambda: services.deputy_request_submit(pk=draft.pk, by=user)

    with sqlite_file_database(tmp_path), slowed("requests_app.services._next_number"):
        results = race([submit(users[0]), submit(users[1])])

    assert results == ["409", "ok"]
    after = refresh(draft)
    assert after.status == RequestStatus.SUBMITTED
    assert after.number is not None and after.number.endswith("-00001")
    assert RegistrationCounter.objects.get().last_number == 1
    assert AuditEvent.objects.for_item(after).filter(action="submit").count() == 1


def test_two_deputies_submitting_at_once_get_consecutive_numbers(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    first = create_draft(directory, author=directory.alice, title="Первый")
    second = create_draft(directory, author=directory.bob, title="Второй")
    alice, bob = fresh_user(directory.alice.user.pk), fresh_user(directory.bob.user.pk)

    with sqlite_file_database(tmp_path), slowed("requests_app.services._next_number"):
        results = race(
            [
                lambda: services.deputy_request_submit(pk=first.pk, by=alice),
                lambda: services.deputy_request_submit(pk=second.pk, by=bob),
            ]
        )

    assert results == ["ok", "ok"]
    numbers = DeputyRequest.objects.filter(pk__in=[first.pk, second.pk]).values_list(
        "number", flat=True
    )
    assert sorted(str(n)[-5:] for n in numbers) == ["00001", "00002"]
    assert RegistrationCounter.objects.get().last_number == 2


def test_an_approval_and_a_return_of_the_same_draft_at_once_do_one_of_them(
    directory: DemoDirectory, tmp_path: Path
) -> None:
    item = make_request(directory, status=RequestStatus.IN_PROGRESS)
    response = draft_answer(directory, item)
    head_pk = directory.finance_head.pk
    first, second = fresh_user(head_pk), fresh_user(head_pk)

    with sqlite_file_database(tmp_path), slowed("requests_app.responses._lock_draft"):
        results = race(
            [
                lambda: services.deputy_request_response_approve(
                    pk=item.pk, response_id=response.pk, by=first
                ),
                lambda: services.deputy_request_response_return(
                    pk=item.pk, response_id=response.pk, by=second, comment="Переделать"
                ),
            ]
        )

    assert results == ["409", "ok"]
    response.refresh_from_db()
    after = refresh(item)
    if response.status == ResponseStatus.SENT:
        assert after.status == RequestStatus.ANSWERED
        assert response.head_comment == ""
    else:
        assert response.status == ResponseStatus.RETURNED
        assert after.status == RequestStatus.IN_PROGRESS
    assert Response.objects.filter(request=item).count() == 1
