"""Writing checked records: ``bulk_create`` in chunks, the directory read once, one audit
event per item naming the file and the importer, one ``ImportedItem`` per item.

The caller holds the transaction: a file imports whole or not at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from instructions.models import (
    ExecutionReport,
    Instruction,
    InstructionStatus,
    Meeting,
    MeetingKind,
    Protocol,
    ReportStatus,
    SessionKind,
)
from maslikhat.accounts.models import User
from maslikhat.core.items import ItemType
from maslikhat.core.threads import AuditEvent
from requests_app.lifecycle import search_documents
from requests_app.models import (
    DeputyRequest,
    Evaluation,
    RequestStatus,
    Response,
    ResponseKind,
    ResponseStatus,
)

from .models import ImportBatch, ImportedItem, ImportKind
from .rows import ANSWERED, ROUTED, Record

#: Items written per round trip.
CHUNK = 1000
#: An imported day is stored at noon (Asia/Almaty): its date reads the same everywhere.
NOON = datetime.time(12, 0)
IMPORTED = "imported"


def moment(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return datetime.datetime.combine(day, NOON, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _chunks(records: list[Record]) -> list[list[Record]]:
    return [records[i : i + CHUNK] for i in range(0, len(records), CHUNK)]


def _audit(
    batch: ImportBatch, by: User, item_type: str, item_id: int, record: Record, status: str
) -> AuditEvent:
    comment = gettext("Imported from the file “%(file)s” by %(user)s (row %(row)s).") % {
        "file": batch.file_name,
        "user": by.full_name or by.username,
        "row": record.row,
    }
    return AuditEvent(
        item_type=item_type,
        item_id=item_id,
        actor=by,
        action=IMPORTED,
        from_status="",
        to_status=status,
        changes={
            "file": batch.file_name,
            "batch": batch.pk,
            "row": record.row,
            "original_number": record.key,
        },
        comment=comment,
    )


def write_records(
    batch: ImportBatch,
    records: list[Record],
    *,
    by: User,
    progress: Callable[[int], None] | None = None,
) -> int:
    write = _write_requests if batch.kind == ImportKind.REQUESTS else _write_instructions
    written = 0
    for chunk in _chunks(records):
        write(batch, chunk, by)
        written += len(chunk)
        if progress is not None:
            progress(written)
    return written


def _write_requests(batch: ImportBatch, records: list[Record], by: User) -> None:
    items: list[DeputyRequest] = []
    for record in records:
        v = record.values
        status = v["status"]
        submitted = moment(v["submitted"])
        answered = moment(v["answered"]) if status in ANSWERED or v["answered"] else None
        closed = answered if status == RequestStatus.CLOSED else None
        answer_texts = [v["answer_text"]] if v["answer_text"] else []
        participants, published = search_documents(
            request_text=[v["number"], v["title"], v["body"]],
            address=v["address"],
            sent_answers=answer_texts,
            public_answer=v["answer_text"] if status == RequestStatus.CLOSED else "",
            thread=[],
            file_names=[],
        )
        rating = v["rating"]
        if rating is None and v["evaluations"] and v["evaluations"][-1][0] == "accept":
            rating = v["evaluations"][-1][1]
        items.append(
            DeputyRequest(
                number=v["number"],
                convocation_id=v["convocation_id"],
                author_id=v["author_id"],
                title=v["title"],
                body=v["body"],
                category_id=v["category_id"],
                district_id=v["district_id"],
                address=v["address"],
                is_public=v["is_public"],
                status=status,
                lead_department_id=v["lead_department_id"],
                executor_id=v["executor_id"],
                outcome=v["outcome"] if status in ANSWERED or v["outcome"] else None,
                submitted_at=submitted,
                routed_at=submitted if v["lead_department_id"] and status in ROUTED else None,
                due_date=v["due_date"],
                original_due_date=v["original_due_date"],
                answered_at=answered,
                closed_at=closed,
                rework_count=v["rework_count"],
                rating=rating,
                rated_at=closed if rating is not None else None,
                request_rating=v["request_rating"],
                request_rated_at=submitted if v["request_rating"] is not None else None,
                search_document=participants,
                published_document=published,
            )
        )
    DeputyRequest.objects.bulk_create(items)
    co_authors = DeputyRequest.co_authors.through
    co_departments = DeputyRequest.co_departments.through
    author_rows: list[Any] = []
    department_rows: list[Any] = []
    responses: list[tuple[Response, tuple[str, int | None] | None, DeputyRequest]] = []
    for item, record in zip(items, records, strict=True):
        v = record.values
        for deputy_id in v["co_author_ids"]:
            if deputy_id != item.author_id:
                author_rows.append(co_authors(deputyrequest_id=item.pk, deputy_id=deputy_id))
        for department_id in v["co_department_ids"]:
            if department_id != item.lead_department_id:
                department_rows.append(
                    co_departments(deputyrequest_id=item.pk, department_id=department_id)
                )
        if item.lead_department_id is None or item.answered_at is None:
            continue
        evaluations: list[tuple[str, int | None] | None] = list(v["evaluations"])
        if not evaluations and item.status == RequestStatus.CLOSED and item.rating is not None:
            evaluations = [("accept", item.rating)]
        last_reworked = bool(evaluations) and evaluations[-1][0] == "rework"  # type: ignore[index]
        if item.status in ANSWERED and (not evaluations or last_reworked):
            evaluations.append(None)  # the answer that awaits (or never got) an evaluation
        for index, evaluation in enumerate(evaluations):
            last = index == len(evaluations) - 1
            response = Response(
                request_id=item.pk,
                department_id=item.lead_department_id,
                kind=ResponseKind.FINAL,
                text=v["answer_text"] if last else "",
                outcome=item.outcome or "explained",
                status=ResponseStatus.SENT,
                drafted_by_id=item.executor_id or by.pk,
                approved_by=by,
                sent_at=item.answered_at,
            )
            if evaluation is not None:
                response.evaluation = evaluation[0]
                response.evaluation_rating = evaluation[1]
                response.evaluated_at = item.answered_at
            responses.append((response, evaluation, item))
    co_authors.objects.bulk_create(author_rows)
    co_departments.objects.bulk_create(department_rows)
    Response.objects.bulk_create([response for response, _e, _i in responses])
    Evaluation.objects.bulk_create(
        [
            Evaluation(
                request_id=item.pk,
                response_id=response.pk,
                decision=evaluation[0],
                rating=evaluation[1],
                by_id=None,
                at=item.answered_at or timezone.now(),
            )
            for response, evaluation, item in responses
            if evaluation is not None
        ]
    )
    AuditEvent.objects.bulk_create(
        [
            _audit(batch, by, ItemType.REQUEST, item.pk, record, item.status)
            for item, record in zip(items, records, strict=True)
        ]
    )
    ImportedItem.objects.bulk_create(
        [
            ImportedItem(
                batch=batch,
                item_type=ItemType.REQUEST,
                item_id=item.pk,
                original_number=record.key,
                row=record.row,
            )
            for item, record in zip(items, records, strict=True)
        ]
    )


def _protocols(records: list[Record], by: User, cache: dict[tuple[str, Any], Protocol]) -> None:
    """Find or create the protocol of each record (its meeting: a session on its date)."""
    wanted = {
        (r.values["protocol"], r.values["protocol_date"]): r.values["convocation_id"]
        for r in records
    }
    missing = [key for key in wanted if key not in cache]
    if not missing:
        return
    numbers = {number for number, _day in missing}
    for protocol in Protocol.objects.filter(number__in=numbers).order_by("id"):
        cache.setdefault((protocol.number, protocol.date), protocol)
    for number, day in missing:
        if (number, day) in cache:
            continue
        meeting = Meeting.objects.create(
            convocation_id=wanted[(number, day)],
            kind=MeetingKind.SESSION,
            session_kind=SessionKind.REGULAR,
            date=day,
            title=gettext("Session (protocol No. %(number)s, imported)") % {"number": number},
            created_by=by,
        )
        cache[(number, day)] = Protocol.objects.create(
            meeting=meeting, number=number, date=day, created_by=by
        )


def _write_instructions(batch: ImportBatch, records: list[Record], by: User) -> None:
    cache: dict[tuple[str, Any], Protocol] = getattr(batch, "_protocols", {})
    batch._protocols = cache  # type: ignore[attr-defined]
    _protocols(records, by, cache)
    items: list[Instruction] = []
    for record in records:
        v = record.values
        status = v["status"]
        items.append(
            Instruction(
                protocol=cache[(v["protocol"], v["protocol_date"])],
                number=v["number"],
                convocation_id=v["convocation_id"],
                text=v["text"],
                lead_department_id=v["lead_department_id"],
                controller_commission_id=v["controller_commission_id"],
                controller_deputy_id=v["controller_deputy_id"],
                due_date=v["due_date"],
                original_due_date=v["original_due_date"],
                report_period=v["report_period"],
                status=status,
                reported_at=moment(v["reported"]),
                executed_at=moment(v["executed"]) if status == InstructionStatus.EXECUTED else None,
                removed_at=moment(v["executed"] or v["due_date"])
                if status == InstructionStatus.REMOVED_FROM_CONTROL
                else None,
                created_by=by,
            )
        )
    Instruction.objects.bulk_create(items)
    through = Instruction.co_departments.through
    through.objects.bulk_create(
        [
            through(instruction_id=item.pk, department_id=department_id)
            for item, record in zip(items, records, strict=True)
            for department_id in record.values["co_department_ids"]
            if department_id != item.lead_department_id
        ]
    )
    reports = []
    for item, record in zip(items, records, strict=True):
        if not record.values["report_text"]:
            continue
        accepted = item.status == InstructionStatus.EXECUTED
        report = ExecutionReport(
            instruction_id=item.pk,
            department_id=item.lead_department_id,
            text=record.values["report_text"],
            is_final=item.status in (InstructionStatus.EXECUTED, InstructionStatus.REPORTED),
            status=ReportStatus.ACCEPTED if accepted else ReportStatus.SUBMITTED,
            submitted_by=by,
            decided_by=by if accepted else None,
            decided_at=item.executed_at if accepted else None,
        )
        reports.append((report, item.reported_at or item.executed_at))
    ExecutionReport.objects.bulk_create([report for report, _at in reports])
    # ``submitted_at`` is set on creation: give each report its original day.
    dated = []
    for report, at in reports:
        if at is not None:
            report.submitted_at = at
            dated.append(report)
    ExecutionReport.objects.bulk_update(dated, ["submitted_at"], batch_size=500)
    AuditEvent.objects.bulk_create(
        [
            _audit(batch, by, ItemType.INSTRUCTION, item.pk, record, item.status)
            for item, record in zip(items, records, strict=True)
        ]
    )
    ImportedItem.objects.bulk_create(
        [
            ImportedItem(
                batch=batch,
                item_type=ItemType.INSTRUCTION,
                item_id=item.pk,
                original_number=record.key,
                row=record.row,
            )
            for item, record in zip(items, records, strict=True)
        ]
    )
