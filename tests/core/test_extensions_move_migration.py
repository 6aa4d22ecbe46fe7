"""Extensions keyed by item: moving them to core keeps every row, id and decision.

Extensions of deputy requests and of protocol instructions were one model of
``requests_app`` with a foreign key to each kind. They now belong to the shared
machinery (``core.Extension``) and point at their item by ``(item_type, item_id)``,
like messages and history. These tests take a database back to the layout before,
fill it through the model as it was then, migrate forward and find every row
through core's model and through each kind's ``extensions/`` endpoint; then back
again, where the foreign keys are filled from the item columns.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from instructions.models import Instruction
from maslikhat.core.extensions import Extension, ExtensionStatus
from requests_app.models import DeputyRequest, RequestStatus
from tests.factories import DemoDirectory, make_directory
from tests.instruction_helpers import create_instruction, make_world
from tests.migration_helpers import leaves_beside, newer_columns
from tests.requests_helpers import make_request

BEFORE: list[tuple[str, str]] = [
    ("core", "0002_outgoingemail"),
    ("requests_app", "0006_instructions_moved_to_their_app"),
]
FIELDS = (
    "requested_by_id",
    "previous_due_date",
    "new_due_date",
    "reason",
    "status",
    "decided_by_id",
    "decided_at",
    "comment",
    "created_at",
)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _migrate(targets: list[tuple[str, str]]) -> Apps:
    executor = _executor()
    executor.migrate(targets)
    loader = _executor().loader
    nodes = leaves_beside(loader.graph, targets)
    return loader.project_state([*nodes, *targets]).apps


@pytest.fixture
def old_layout(transactional_db: None) -> Iterator[Apps]:
    """The database at the layout before the move; newest migrations again afterwards."""
    yield _migrate(BEFORE)
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _fill(old: Apps, d: DemoDirectory) -> dict[str, Any]:
    """Two requests and two instructions in work, each with its extensions of the time."""
    # The model is gone from the code; only the migrations state knows it.
    OldExtension: Any = old.get_model("requests_app", "Extension")  # type: ignore[misc]
    with newer_columns():
        requests = [make_request(d, status=RequestStatus.IN_PROGRESS) for _ in range(2)]
        world = make_world(d)
        instructions = [create_instruction(world) for _ in range(2)]
    decided_at = timezone.now() - datetime.timedelta(days=1)
    rows = []
    items: list[Any] = [*requests, *instructions]
    for n, item in enumerate(items):
        key = {"request_id": item.pk} if isinstance(item, DeputyRequest) else {}
        key = key or {"instruction_id": item.pk}
        due = item.due_date or datetime.date(2026, 5, 4)
        rows.append(
            OldExtension.objects.create(
                **key,
                requested_by_id=d.finance_head.pk,
                previous_due_date=due,
                new_due_date=due + datetime.timedelta(days=7),
                reason=f"Причина {n}",
                status=ExtensionStatus.APPROVED,
                decided_by_id=d.staff.pk,
                decided_at=decided_at,
                comment="Согласовано",
            )
        )
        rows.append(
            OldExtension.objects.create(
                **key,
                requested_by_id=d.finance_head.pk,
                previous_due_date=due + datetime.timedelta(days=7),
                new_due_date=due + datetime.timedelta(days=14),
                reason=f"Ещё причина {n}",
            )
        )
    return {"requests": requests, "instructions": instructions, "rows": rows}


def _rows(body: Any) -> list[dict[str, Any]]:
    return body["results"] if isinstance(body, dict) else body


@pytest.mark.django_db(transaction=True)
def test_every_extension_is_found_through_core_and_each_kinds_api_after_the_move(
    old_layout: Apps,
) -> None:
    d = make_directory()
    old = _fill(old_layout, d)
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Extension.objects.count() == len(old["rows"]) == 8
    for row in old["rows"]:
        moved = Extension.objects.get(pk=row.pk)
        kind = "request" if row.request_id else "instruction"
        assert (moved.item_type, moved.item_id) == (kind, row.request_id or row.instruction_id)
        assert [getattr(moved, f) for f in FIELDS] == [getattr(row, f) for f in FIELDS]

    client = APIClient()
    client.force_authenticate(d.staff)
    for model, path, key in (
        (DeputyRequest, "requests", "request_id"),
        (Instruction, "instructions", "instruction_id"),
    ):
        items = old["requests"] if model is DeputyRequest else old["instructions"]
        for item in items:
            expected = [r for r in old["rows"] if getattr(r, key) == item.pk]
            found = model.objects.get(pk=item.pk)
            assert [e.pk for e in found.extensions.all()] == [r.pk for r in expected]
            answer = client.get(f"/api/v1/{path}/{item.pk}/extensions/")
            assert answer.status_code == 200
            body = _rows(answer.json())
            assert [row["id"] for row in body] == [r.pk for r in expected]
            assert [row["status"] for row in body] == [r.status for r in expected]
            assert body[0]["decided_by"] == {"id": d.staff.pk, "name": d.staff.full_name}
            assert body[1]["reason"] == expected[1].reason

    # One pending extension per item, whatever its kind: the database says so too.
    request = old["requests"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Extension.objects.create(
            item_type="request",
            item_id=request.pk,
            requested_by=d.finance_head,
            previous_due_date=datetime.date(2026, 6, 1),
            new_due_date=datetime.date(2026, 6, 8),
            reason="Третья",
        )


@pytest.mark.django_db(transaction=True)
def test_going_back_fills_the_foreign_keys_from_the_item_columns(old_layout: Apps) -> None:
    d = make_directory()
    old = _fill(old_layout, d)
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    back = _migrate(BEFORE)
    OldExtension: Any = back.get_model("requests_app", "Extension")  # type: ignore[misc]
    assert list(
        OldExtension.objects.order_by("pk").values_list("pk", "request_id", "instruction_id")
    ) == [(r.pk, r.request_id, r.instruction_id) for r in old["rows"]]
