"""Moving protocol instructions into their own app keeps every table and row.

Meetings, protocols, instructions and execution reports moved from ``requests_app``
to ``instructions`` (docs/architecture.md). The migrations change only Django's
state: the tables keep their names, and the content types are renamed so that
permissions follow. These tests take a database back to the layout before the
move, fill it through the models as they were then (the migration state's
historical models), migrate it forward and find every row through today's code.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any, cast

import pytest
from django.apps.registry import Apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ProtocolItem,
    ReportPeriod,
    ReportStatus,
)
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.core.items import get_readable_item
from maslikhat.core.notifications import Notification
from maslikhat.core.threads import Attachment, AuditEvent, Message, ThreadReadMark
from requests_app.models import DeputyRequest
from tests.factories import CommissionFactory, DemoDirectory, make_directory
from tests.migration_helpers import leaves_beside, newer_columns
from tests.requests_helpers import make_request

LAST_BEFORE_THE_MOVE = ("requests_app", "0005_search_by_audience")
BEFORE_THE_MOVE: list[tuple[str, str | None]] = [LAST_BEFORE_THE_MOVE, ("instructions", None)]
MOVED_MODELS = ("meeting", "protocol", "protocolitem", "instruction", "executionreport")
CORE_BEFORE_THE_MOVE = ("core", "0002_outgoingemail")
DAY = datetime.date(2026, 3, 2)


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.fixture
def old_layout(transactional_db: None) -> Iterator[Apps]:
    """The database migrated back to the layout before the move; the models of that time.

    Migrates forward to the newest migrations again afterwards, whatever the test did.
    """
    executor = _executor()
    executor.migrate(BEFORE_THE_MOVE)
    # Every other app at its newest migration, requests_app just before the move.
    # Core as it was then too: its extension model came after the move.
    graph = _executor().loader.graph
    nodes = [
        node
        for node in leaves_beside(graph, [LAST_BEFORE_THE_MOVE, CORE_BEFORE_THE_MOVE])
        if node[0] != "instructions"
    ]
    nodes.append(CORE_BEFORE_THE_MOVE)
    yield _executor().loader.project_state([*nodes, LAST_BEFORE_THE_MOVE]).apps
    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_model(old: Apps, app_label: str, name: str) -> Any:
    """A model as it was before the move (from the migration state, not today's code)."""
    return old.get_model(app_label, name)


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _fill_the_old_layout(old: Apps, d: DemoDirectory) -> dict[str, Any]:
    """Meetings, protocols, instructions with their reports, extensions, history, threads,
    files and notifications, written through the models as they were before the move."""
    OldMeeting = _old_model(old, "requests_app", "Meeting")
    OldProtocol = _old_model(old, "requests_app", "Protocol")
    OldItem = _old_model(old, "requests_app", "ProtocolItem")
    OldInstruction = _old_model(old, "requests_app", "Instruction")
    OldReport = _old_model(old, "requests_app", "ExecutionReport")
    OldExtension = _old_model(old, "requests_app", "Extension")
    OldEvent = _old_model(old, "core", "AuditEvent")
    OldMessage = _old_model(old, "core", "Message")
    OldAttachment = _old_model(old, "core", "Attachment")
    OldNotification = _old_model(old, "core", "Notification")
    OldReadMark = _old_model(old, "core", "ThreadReadMark")

    commission = CommissionFactory.create(convocation=d.convocation)
    meetings = [
        OldMeeting.objects.create(
            convocation_id=d.convocation.pk,
            kind=kind,
            session_kind="regular" if kind == MeetingKind.SESSION else "",
            date=DAY + datetime.timedelta(days=n),
            commission_id=commission.pk if kind == MeetingKind.COMMISSION else None,
            department_id=d.finance.pk if kind == MeetingKind.HEARING else None,
            title=f"Заседание {n}",
            created_by_id=d.staff.pk,
        )
        for n, kind in enumerate(MeetingKind.values)
    ]
    protocols = [
        OldProtocol.objects.create(
            meeting_id=m.pk, number=f"{n + 1}-П", date=m.date, created_by_id=d.staff.pk
        )
        for n, m in enumerate(meetings)
    ]
    items = [
        OldItem.objects.create(protocol_id=p.pk, number=k, title=f"Вопрос {k} протокола {p.number}")
        for p in protocols
        for k in (1, 2)
    ]
    statuses = [*InstructionStatus.values, InstructionStatus.ON_CONTROL]
    instructions = []
    for n, status in enumerate(statuses):
        protocol = protocols[n % len(protocols)]
        instruction = OldInstruction.objects.create(
            protocol_id=protocol.pk,
            item_id=items[n].pk if n % 2 == 0 else None,
            number=f"{n // len(protocols) + 1}.{n + 1}",
            convocation_id=d.convocation.pk,
            text=f"Поручение {n}: отремонтировать объект № {n}",
            lead_department_id=(d.finance if n % 2 else d.mobility).pk,
            controller_commission_id=commission.pk if n % 2 else None,
            controller_deputy_id=None if n % 2 else d.alice.pk,
            due_date=DAY + datetime.timedelta(days=30 + n),
            original_due_date=DAY + datetime.timedelta(days=20 + n),
            due_date_basis={"rule": "instruction", "days": 30 + n},
            report_period=ReportPeriod.values[n % len(ReportPeriod.values)],
            status=status,
            removal_reason="Утратило актуальность" if status == "removed_from_control" else "",
            created_by_id=d.staff.pk,
            version=n + 1,
        )
        if n % 3 == 0:
            instruction.co_departments.add(d.finance.pk, d.mobility.pk)
        instructions.append(instruction)
    reports = [
        OldReport.objects.create(
            instruction_id=instruction.pk,
            department_id=instruction.lead_department_id,
            text=f"Отчёт {k} по поручению {instruction.number}",
            is_final=k == 1,
            status=ReportStatus.values[k % len(ReportStatus.values)],
            submitted_by_id=d.finance_exec.pk,
        )
        for instruction in instructions[:4]
        for k in (0, 1)
    ]
    with newer_columns():
        request = make_request(d)
    extensions = [
        OldExtension.objects.create(
            instruction_id=instructions[0].pk,
            requested_by_id=d.mobility_head.pk,
            previous_due_date=instructions[0].due_date,
            new_due_date=instructions[0].due_date + datetime.timedelta(days=14),
            reason="Нужны дополнительные работы",
            status=ExtensionStatus.PENDING,
        ),
        OldExtension.objects.create(
            instruction_id=instructions[1].pk,
            requested_by_id=d.finance_head.pk,
            previous_due_date=instructions[1].due_date,
            new_due_date=instructions[1].due_date + datetime.timedelta(days=7),
            reason="Ожидаем поставку",
            status=ExtensionStatus.APPROVED,
            decided_by_id=d.staff.pk,
            decided_at=_at(DAY),
        ),
        OldExtension.objects.create(
            request_id=request.pk,
            requested_by_id=d.finance_head.pk,
            previous_due_date=DAY,
            new_due_date=DAY + datetime.timedelta(days=10),
            reason="Запрос данных",
        ),
    ]
    events = [
        OldEvent.objects.create(
            item_type="instruction",
            item_id=instruction.pk,
            actor_id=d.staff.pk,
            action=action,
            to_status=instruction.status,
            changes={"number": instruction.number},
        )
        for instruction in instructions
        for action in ("created", "edited")
    ]
    messages = [
        OldMessage.objects.create(
            item_type="instruction",
            item_id=instruction.pk,
            author_id=d.finance_exec.pk,
            text=f"Сообщение по поручению {instruction.number}",
        )
        for instruction in instructions[:3]
    ]
    files = []
    for k, message in enumerate(messages[:2]):
        name = default_storage.save(
            f"attachments/2026/03/move-test-{k}.txt", ContentFile(f"акт {k}".encode())
        )
        files.append(
            OldAttachment.objects.create(
                item_type="instruction",
                item_id=message.item_id,
                message_id=message.pk,
                uploaded_by_id=d.finance_exec.pk,
                original_name=f"акт-{k}.txt",
                file=name,
                size=len(f"акт {k}".encode()),
                content_type="text/plain",
                sha256="0" * 64,
            )
        )
    notifications = [
        OldNotification.objects.create(
            user_id=d.staff.pk,
            kind="reported",
            item_type="instruction",
            item_id=instruction.pk,
            text=f"Поручение {instruction.number}: отчёт",
            link=f"/instructions/{instruction.pk}/",
            day=DAY,
        )
        for instruction in instructions[:3]
    ]
    OldReadMark.objects.create(
        item_type="instruction",
        item_id=instructions[0].pk,
        user_id=d.staff.pk,
        last_read_message_id=messages[0].pk,
    )
    return {
        "meetings": meetings,
        "protocols": protocols,
        "items": items,
        "instructions": instructions,
        "reports": reports,
        "extensions": extensions,
        "events": events,
        "messages": messages,
        "files": files,
        "notifications": notifications,
        "request": request,
    }


def _rows(body: Any) -> list[dict[str, Any]]:
    """The rows of an API list, paginated or not."""
    return list(body["results"] if isinstance(body, dict) else body)


def _content_types_of_the_old_layout() -> dict[str, int]:
    """Name the moved models' content types as a database of that time did.

    The test database is created at today's layout; migrating back renames its
    rows to ``requests_app``, which is what a database migrated before the move holds.
    """
    return dict(
        ContentType.objects.filter(model__in=MOVED_MODELS, app_label="requests_app").values_list(
            "model", "pk"
        )
    )


def test_every_instruction_row_is_found_through_the_new_app_after_the_move(
    old_layout: Apps,
) -> None:
    d = make_directory()
    old = _fill_the_old_layout(old_layout, d)
    old_content_types = _content_types_of_the_old_layout()
    assert set(old_content_types) == set(MOVED_MODELS)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    # Every row, by number, through the models of the new app.
    assert list(Meeting.objects.order_by("pk").values_list("pk", "kind", "title")) == [
        (m.pk, m.kind, m.title) for m in old["meetings"]
    ]
    assert list(Protocol.objects.order_by("pk").values_list("pk", "meeting_id", "number")) == [
        (p.pk, p.meeting_id, p.number) for p in old["protocols"]
    ]
    assert list(ProtocolItem.objects.order_by("pk").values_list("pk", "protocol_id", "title")) == [
        (i.pk, i.protocol_id, i.title) for i in old["items"]
    ]
    fields = ("pk", "protocol_id", "item_id", "number", "status", "text", "due_date", "version")
    assert list(Instruction.objects.order_by("pk").values_list(*fields)) == [
        tuple(getattr(i, f) for f in fields) for i in old["instructions"]
    ]
    found = Instruction.objects.get(pk=old["instructions"][0].pk)
    assert found.due_date_basis == {"rule": "instruction", "days": 30}
    assert found.protocol.meeting.title == old["meetings"][0].title
    assert set(found.co_departments.values_list("pk", flat=True)) == {d.finance.pk, d.mobility.pk}
    assert list(
        ExecutionReport.objects.order_by("pk").values_list("pk", "instruction_id", "text")
    ) == [(r.pk, r.instruction_id, r.text) for r in old["reports"]]

    # Extensions still point at their instruction (or request), now keyed by item in core.
    pending, approved, of_request = (Extension.objects.get(pk=e.pk) for e in old["extensions"])
    assert (pending.item_type, pending.item_id) == ("instruction", old["instructions"][0].pk)
    assert approved.item_type == "instruction" and approved.status == ExtensionStatus.APPROVED
    assert approved.item_id == old["instructions"][1].pk
    assert list(found.extensions.values_list("pk", flat=True)) == [pending.pk]
    assert (of_request.item_type, of_request.item_id) == ("request", old["request"].pk)
    assert isinstance(DeputyRequest.objects.get(pk=of_request.item_id), DeputyRequest)

    # History, thread, files, read marks and notifications find their instruction by kind.
    for instruction in old["instructions"]:
        item = get_readable_item("instruction", d.staff, instruction.pk)
        assert isinstance(item, Instruction) and item.number == instruction.number
        assert list(
            AuditEvent.objects.for_item(item).order_by("pk").values_list("action", flat=True)
        ) == ["created", "edited"]
    assert [m.text for m in Message.objects.order_by("pk")] == [m.text for m in old["messages"]]
    assert ThreadReadMark.objects.get(item_id=found.pk).last_read_message_id == (
        old["messages"][0].pk
    )
    assert Notification.objects.filter(item_type="instruction").count() == 3

    # Through the pages and the API, as staff: the history, the thread and the files.
    client = APIClient()
    client.force_authenticate(d.staff)
    history = client.get(f"/api/v1/instructions/{found.pk}/history/")
    assert history.status_code == 200
    assert sorted(row["action"] for row in _rows(history.json())) == ["created", "edited"]
    thread = client.get(f"/api/v1/instructions/{found.pk}/messages/")
    assert thread.status_code == 200
    assert [row["text"] for row in _rows(thread.json())] == [old["messages"][0].text]
    for k, attachment in enumerate(old["files"]):
        assert Attachment.objects.get(pk=attachment.pk).file.read() == f"акт {k}".encode()
        client.force_login(d.staff)
        download = client.get(reverse("core:attachment-download", args=[attachment.pk]))
        assert download.status_code == 200
        assert b"".join(cast(Any, download).streaming_content) == f"акт {k}".encode()
        default_storage.delete(attachment.file.name)

    # The content types were renamed, not replaced: permissions keep their rows.
    new_content_types = dict(
        ContentType.objects.filter(model__in=MOVED_MODELS, app_label="instructions").values_list(
            "model", "pk"
        )
    )
    assert new_content_types == old_content_types
    assert not ContentType.objects.filter(app_label="requests_app", model__in=MOVED_MODELS)
    assert ContentType.objects.get_for_model(Instruction).app_label == "instructions"
    assert (
        Permission.objects.get(codename="change_instruction").content_type_id
        == (old_content_types["instruction"])
    )


def test_a_fresh_database_creates_the_tables_before_the_new_app_adopts_them() -> None:
    # The order ``migrate`` follows on an empty database (no migration applied yet).
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    plan: list[tuple[str, str]] = []
    for leaf in graph.leaf_nodes():
        plan += [node for node in graph.forwards_plan(leaf) if node not in plan]
    creates = plan.index(("requests_app", "0003_instructions"))
    adopts = plan.index(("instructions", "0001_initial"))
    forgets = plan.index(("requests_app", "0006_instructions_moved_to_their_app"))
    relabels = plan.index(("instructions", "0002_content_types_follow_the_models"))
    assert creates < adopts < forgets < relabels
    assert Instruction._meta.db_table == "requests_app_instruction"
    assert Instruction.co_departments.through._meta.db_table == (
        "requests_app_instruction_co_departments"
    )
