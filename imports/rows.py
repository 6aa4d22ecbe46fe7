"""One file checked row by row: every cell parsed, every name matched, every error named.

``check_file`` reads the whole file (streaming) and returns a ``Check``: the records as
they will be stored, the errors per row, the names nobody could match (with close
matches to offer), the rows already imported. Nothing is written here.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import override

from instructions.models import Instruction, InstructionStatus, ReportPeriod
from maslikhat.core.items import ItemType
from requests_app.models import DeputyRequest, EvaluationDecision, Outcome, RequestStatus

from .columns import LANGUAGES, column_label, columns_of, match_headers
from .matching import (
    CATEGORY,
    CONTROLLER,
    DEPARTMENT,
    DEPUTY,
    DISTRICT,
    EXECUTOR,
    Directory,
    normalise,
)
from .models import ImportedItem, ImportKind
from .reader import parse_date, read_table

#: Rows shown in the preview.
PREVIEW_ROWS = 10
#: What staff pick for an optional name that should stay empty.
NONE = "none"
#: Groups whose names may be left empty by staff.
OPTIONAL_GROUPS = (DISTRICT, EXECUTOR)
#: Errors and unknown names kept in the report (the counts are exact).
REPORT_LIMIT = 500
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}
NUMBER_MAX = 20
PROTOCOL_MAX = 40
TITLE_MAX = 300

REQUEST_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.ANSWERED,
    RequestStatus.CLOSED,
    RequestStatus.DECLINED,
    RequestStatus.WITHDRAWN,
)
ROUTED = (RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED, RequestStatus.CLOSED)
ANSWERED = (RequestStatus.ANSWERED, RequestStatus.CLOSED)


def _choice_index(choices: list[tuple[str, Any]], *extra: tuple[str, str]) -> dict[str, str]:
    """``{normalised label in ru/kk/en or code: value}``."""
    index: dict[str, str] = {}
    for language in LANGUAGES:
        with override(language):
            for value, label in choices:
                index.setdefault(normalise(str(label)), value)
    for value, _label in choices:
        index[normalise(value)] = value
        index[normalise(value.replace("_", " "))] = value
    for name, value in extra:
        index[normalise(name)] = value
    return index


def _yes_no() -> dict[str, bool]:
    index = {"1": True, "0": False, "true": True, "false": False, "x": True}
    for language in LANGUAGES:
        with override(language):
            index[normalise(_("yes"))] = True
            index[normalise(_("no"))] = False
    index.update({"да": True, "нет": False, "иә": True, "жоқ": False, "yes": True, "no": False})
    return index


@dataclass
class Issue:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Unknown:
    group: str
    name: str
    rows: list[int] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "name": self.name,
            "key": normalise(self.name),
            "rows": self.rows[:10],
            "row_count": len(self.rows),
            "suggestions": self.suggestions,
        }


@dataclass
class Record:
    row: int
    key: str
    values: dict[str, Any]


@dataclass
class Check:
    kind: str
    headers: list[str]
    columns: dict[int, str]
    missing: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    unknown: dict[tuple[str, str], Unknown] = field(default_factory=dict)
    skipped: int = 0
    total: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    error_rows: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.issues and not self.unknown

    def report(self) -> dict[str, Any]:
        return {
            "headers": self.headers,
            "columns": {str(position): key for position, key in self.columns.items()},
            "missing": self.missing,
            "issues": [issue.as_dict() for issue in self.issues[:REPORT_LIMIT]],
            "issue_count": len(self.issues),
            "unknown": [u.as_dict() for u in list(self.unknown.values())[:REPORT_LIMIT]],
            "unknown_count": len(self.unknown),
            "total": self.total,
            "new": len(self.records),
            "skipped": self.skipped,
            "error_rows": len(self.error_rows),
            "preview": self.preview,
        }


class RowParser:
    """Parses the cells of one row of ``kind`` into a record, noting issues on ``check``."""

    def __init__(
        self, check: Check, directory: Directory, names: dict[str, dict[str, str]]
    ) -> None:
        self.check = check
        self.directory = directory
        self.names = names
        self.row = 0
        self.cells: dict[str, Any] = {}
        self.failed = False
        self.yes_no = _yes_no()

    def start(self, row: int, cells: list[Any]) -> None:
        self.row = row
        self.failed = False
        self.cells = {
            key: (cells[position] if position < len(cells) else None)
            for position, key in self.check.columns.items()
        }

    def error(self, column: str, message: str) -> None:
        self.failed = True
        self.check.error_rows.add(self.row)
        self.check.issues.append(
            Issue(self.row, column_label(self.check.kind, column) if column else "", message)
        )

    def text(self, key: str, *, required: bool = False, limit: int | None = None) -> str:
        value = self.cells.get(key)
        if isinstance(value, datetime.datetime | datetime.date):
            value = value.strftime("%d.%m.%Y")
        text = "" if value is None else str(value).strip()
        if required and not text:
            self.error(key, _("This cell is empty."))
        if limit is not None and len(text) > limit:
            self.error(key, _("Longer than %(limit)s characters.") % {"limit": limit})
            text = text[:limit]
        return text

    def date(self, key: str, *, required: bool = False) -> datetime.date | None:
        try:
            value = parse_date(self.cells.get(key))
        except ValueError:
            self.error(
                key,
                _("“%(value)s” is not a date (dd.mm.yyyy).") % {"value": self.cells.get(key)},
            )
            return None
        if value is None and required:
            self.error(key, _("This cell is empty."))
        return value

    def integer(self, key: str, low: int, high: int | None = None) -> int | None:
        text = self.text(key)
        if not text:
            return None
        try:
            value = int(float(text.replace(",", ".")))
        except ValueError:
            self.error(key, _("“%(value)s” is not a number.") % {"value": text})
            return None
        if value < low or (high is not None and value > high):
            self.error(key, _("“%(value)s” is out of range.") % {"value": text})
            return None
        return value

    def choice(self, key: str, index: dict[str, str], *, required: bool = False) -> str | None:
        text = self.text(key, required=required)
        if not text:
            return None
        value = index.get(normalise(text))
        if value is None:
            self.error(key, _("“%(value)s” is not a known value.") % {"value": text})
        return value

    def boolean(self, key: str) -> bool:
        text = self.text(key)
        if not text:
            return False
        value = self.yes_no.get(normalise(text))
        if value is None:
            self.error(key, _("Write “yes” or “no”, not “%(value)s”.") % {"value": text})
            return False
        return value

    def name(
        self, key: str, group: str, raw: str, *, convocation_id: int | None = None
    ) -> str | None:
        """The directory value of ``raw``: staff's choice, else an exact match, else unknown."""
        chosen = self.names.get(group, {}).get(normalise(raw))
        if chosen is not None:
            if chosen == NONE and group in OPTIONAL_GROUPS:
                return NONE
            if self.directory.has(group, chosen):
                return chosen
        found = self.directory.lookup(group, raw, convocation_id=convocation_id)
        if found is not None:
            return found
        marker = (group, normalise(raw))
        unknown = self.check.unknown.get(marker)
        if unknown is None:
            unknown = Unknown(group, raw, suggestions=self.directory.suggestions(group, raw))
            self.check.unknown[marker] = unknown
        unknown.rows.append(self.row)
        self.failed = True
        return None

    def one(
        self, key: str, group: str, *, required: bool = False, convocation_id: int | None = None
    ) -> int | None:
        raw = self.text(key, required=required)
        if not raw:
            return None
        value = self.name(key, group, raw, convocation_id=convocation_id)
        return None if value is None or value == NONE else int(value)

    def many(self, key: str, group: str, *, convocation_id: int | None = None) -> list[int]:
        values: list[int] = []
        for raw in re.split(r"[;\n]", self.text(key)):
            raw = raw.strip()
            if not raw:
                continue
            value = self.name(key, group, raw, convocation_id=convocation_id)
            if value is not None and value != NONE and int(value) not in values:
                values.append(int(value))
        return values

    def convocation(self, key: str, day: datetime.date | None) -> int | None:
        text = self.text(key)
        if text:
            number_text = text.split()[0].upper()
            number = ROMAN.get(number_text)
            if number is None and number_text.isdigit():
                number = int(number_text)
            found = self.directory.convocation_by_number(number) if number else None
            if found is None:
                self.error(key, _("There is no convocation “%(value)s”.") % {"value": text})
            return found
        if day is None:
            return None
        found = self.directory.convocation_for(day)
        if found is None:
            self.error(
                "convocation",
                _("No convocation sat on %(date)s: fill in the convocation.")
                % {"date": day.strftime("%d.%m.%Y")},
            )
        return found


def _evaluations(parser: RowParser, decisions: dict[str, str]) -> list[tuple[str, int | None]]:
    """“3 (returned for rework); 5 (accepted)” → [("rework", 3), ("accept", 5)]."""
    text = parser.text("evaluations")
    found: list[tuple[str, int | None]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r"(\d|—|-)?\s*\(?([^()]*)\)?", part)
        decision = decisions.get(normalise(match.group(2))) if match else None
        if match is None or decision is None:
            parser.error("evaluations", _("“%(value)s” is not an evaluation.") % {"value": part})
            continue
        rating = match.group(1)
        found.append((decision, int(rating) if rating and rating.isdigit() else None))
    return found


def parse_request(parser: RowParser, indexes: dict[str, Any]) -> Record | None:
    number = parser.text("number", required=True, limit=NUMBER_MAX)
    submitted = parser.date("submitted", required=True)
    convocation_id = parser.convocation("convocation", submitted)
    status = parser.choice("status", indexes["status"], required=True)
    if status == RequestStatus.DRAFT:
        parser.error("status", _("A draft was never filed: it cannot be imported."))
    title = parser.text("title", required=True, limit=TITLE_MAX)
    values: dict[str, Any] = {
        "number": number,
        "submitted": submitted,
        "convocation_id": convocation_id,
        "status": status,
        "title": title,
        "body": parser.text("body") or title,
        "address": parser.text("address", limit=300),
        "category_id": parser.one("category", CATEGORY, required=True),
        "district_id": parser.one("district", DISTRICT),
        "author_id": parser.one("author", DEPUTY, required=True, convocation_id=convocation_id),
        "co_author_ids": parser.many("co_authors", DEPUTY, convocation_id=convocation_id),
        "lead_department_id": parser.one("lead_department", DEPARTMENT),
        "co_department_ids": parser.many("co_departments", DEPARTMENT),
        "executor_id": parser.one("executor", EXECUTOR),
        "due_date": parser.date("due_date"),
        "original_due_date": parser.date("original_due_date"),
        "answered": parser.date("answered"),
        "outcome": parser.choice("outcome", indexes["outcome"]),
        "rework_count": parser.integer("rework_count", 0, 1000),
        "evaluations": _evaluations(parser, indexes["decision"]),
        "rating": parser.integer("rating", 1, 5),
        "request_rating": parser.integer("request_rating", 1, 5),
        "answer_text": parser.text("answer_text"),
        "is_public": parser.boolean("is_public"),
    }
    if (
        status in ROUTED
        and values["lead_department_id"] is None
        and parser.text("lead_department") == ""
    ):
        parser.error("lead_department", _("A routed request needs its lead department."))
    if status in (RequestStatus.IN_PROGRESS, RequestStatus.ANSWERED) and not values["due_date"]:
        parser.error("due_date", _("A request in progress or answered needs its due date."))
    if status in ANSWERED:
        if not values["answered"]:
            parser.error("answered", _("An answered request needs the date of its answer."))
        if not values["outcome"]:
            parser.error("outcome", _("An answered request needs its outcome."))
    if values["original_due_date"] is None:
        values["original_due_date"] = values["due_date"]
    if values["rework_count"] is None:
        values["rework_count"] = sum(1 for d, _r in values["evaluations"] if d == "rework")
    if parser.failed:
        return None
    return Record(parser.row, number, values)


def parse_instruction(parser: RowParser, indexes: dict[str, Any]) -> Record | None:
    number = parser.text("number", required=True, limit=NUMBER_MAX)
    protocol = parser.text("protocol", required=True, limit=PROTOCOL_MAX)
    protocol_date = parser.date("protocol_date", required=True)
    convocation_id = parser.convocation("convocation", protocol_date)
    status = parser.choice("status", indexes["status"], required=True)
    controllers: list[str] = []
    raw_controllers = [p.strip() for p in re.split(r"[;\n]", parser.text("controller"))]
    for raw in [p for p in raw_controllers if p] or [""]:
        value = parser.name("controller", CONTROLLER, raw, convocation_id=convocation_id)
        if value is not None and value != NONE:
            controllers.append(value)
    commission = next((v for v in controllers if v.startswith("commission:")), None)
    deputy = next((v for v in controllers if v.startswith("deputy:")), None)
    values: dict[str, Any] = {
        "number": number,
        "protocol": protocol,
        "protocol_date": protocol_date,
        "convocation_id": convocation_id,
        "status": status,
        "text": parser.text("text", required=True),
        "lead_department_id": parser.one("lead_department", DEPARTMENT, required=True),
        "co_department_ids": parser.many("co_departments", DEPARTMENT),
        "controller_commission_id": int(commission.split(":")[1]) if commission else None,
        "controller_deputy_id": int(deputy.split(":")[1]) if deputy else None,
        "due_date": parser.date("due_date", required=True),
        "original_due_date": parser.date("original_due_date"),
        "report_period": parser.choice("report_period", indexes["period"]) or ReportPeriod.NONE,
        "reported": parser.date("reported"),
        "executed": parser.date("executed"),
        "report_text": parser.text("report_text"),
    }
    if status == InstructionStatus.EXECUTED and not values["executed"]:
        parser.error("executed", _("An executed instruction needs the date it was accepted."))
    if values["original_due_date"] is None:
        values["original_due_date"] = values["due_date"]
    if values["reported"] is None and status == InstructionStatus.EXECUTED:
        values["reported"] = values["executed"]
    if parser.failed:
        return None
    key = f"{protocol_date:%Y-%m-%d}/{protocol}/{number}" if protocol_date else ""
    return Record(parser.row, key, values)


def _indexes(kind: str) -> dict[str, Any]:
    if kind == ImportKind.REQUESTS:
        decisions = _choice_index(
            list(EvaluationDecision.choices),
            *[(name, "accept") for name in _in_languages("accepted")],
            *[(name, "rework") for name in _in_languages("returned for rework")],
        )
        return {
            "status": _choice_index(list(RequestStatus.choices)),
            "outcome": _choice_index(list(Outcome.choices)),
            "decision": decisions,
        }
    return {
        "status": _choice_index(list(InstructionStatus.choices)),
        "period": _choice_index(list(ReportPeriod.choices)),
    }


def _in_languages(msgid: str) -> list[str]:
    names = []
    for language in LANGUAGES:
        with override(language):
            names.append(_(msgid))
    return names


def _existing(kind: str, keys: set[str]) -> tuple[set[str], set[str]]:
    """(keys imported before, keys that are the portal's own items) among ``keys``."""
    item_type = ItemType.REQUEST if kind == ImportKind.REQUESTS else ItemType.INSTRUCTION
    imported: set[str] = set()
    key_list = sorted(keys)
    for start in range(0, len(key_list), 900):
        chunk = key_list[start : start + 900]
        imported.update(
            ImportedItem.objects.filter(item_type=item_type, original_number__in=chunk).values_list(
                "original_number", flat=True
            )
        )
    own: set[str] = set()
    if kind == ImportKind.REQUESTS:
        rest = sorted(keys - imported)
        for start in range(0, len(rest), 900):
            numbers = DeputyRequest.objects.filter(number__in=rest[start : start + 900])
            own.update(n for n in numbers.values_list("number", flat=True) if n)
    else:
        rows = Instruction.objects.values_list("protocol__date", "protocol__number", "number")
        portal = {f"{day:%Y-%m-%d}/{protocol}/{number}" for day, protocol, number in rows}
        own = (keys - imported) & portal
    return imported, own


def check_file(
    path: Path,
    *,
    kind: str,
    file_name: str = "",
    columns: dict[str, str] | None = None,
    names: dict[str, dict[str, str]] | None = None,
    directory: Directory | None = None,
    progress: Callable[[int], None] | None = None,
) -> Check:
    """Check the file at ``path`` as a ``kind`` import (raises ``ValidationFailed`` when the
    file cannot be read at all)."""
    table = read_table(path, file_name)
    found = match_headers(kind, table.headers, columns)
    check = Check(kind=kind, headers=table.headers, columns=found)
    present = set(found.values())
    check.missing = [
        str(column.label)
        for column in columns_of(kind)
        if column.required and column.key not in present
    ]
    if check.missing:
        return check
    directory = directory or Directory()
    parser = RowParser(check, directory, names or {})
    parse = parse_request if kind == ImportKind.REQUESTS else parse_instruction
    indexes = _indexes(kind)
    seen: dict[str, int] = {}
    for count, (row, cells) in enumerate(table.rows, start=1):
        check.total += 1
        parser.start(row, cells)
        record = parse(parser, indexes)
        if record is not None:
            if record.key in seen:
                parser.error(
                    "number",
                    _("The same number as row %(row)s.") % {"row": seen[record.key]},
                )
            else:
                seen[record.key] = row
                check.records.append(record)
        if progress is not None and count % 1000 == 0:
            progress(count)
    imported, own = _existing(kind, set(seen))
    kept: list[Record] = []
    for record in check.records:
        if record.key in imported:
            check.skipped += 1
        elif record.key in own:
            check.error_rows.add(record.row)
            check.issues.append(
                Issue(
                    record.row,
                    column_label(kind, "number"),
                    _("An item with this number is already in the portal (not imported)."),
                )
            )
        else:
            kept.append(record)
    check.records = kept
    check.issues.sort(key=lambda issue: issue.row)
    check.preview = [_preview(kind, record, directory) for record in kept[:PREVIEW_ROWS]]
    return check


def _preview(kind: str, record: Record, directory: Directory) -> dict[str, Any]:
    """One record as it will be stored, in words (names, not ids)."""
    v = record.values

    def day(value: datetime.date | None) -> str:
        return value.strftime("%d.%m.%Y") if value else ""

    def names(group: str, ids: list[int]) -> str:
        return "; ".join(directory.label(group, str(i)) for i in ids)

    if kind == ImportKind.REQUESTS:
        return {
            "row": record.row,
            "cells": [
                v["number"],
                day(v["submitted"]),
                v["title"],
                directory.label(DEPUTY, str(v["author_id"])),
                directory.label(DEPARTMENT, str(v["lead_department_id"]))
                if v["lead_department_id"]
                else "",
                str(RequestStatus(v["status"]).label),
                day(v["answered"]),
                str(Outcome(v["outcome"]).label) if v["outcome"] else "",
            ],
        }
    controller = "; ".join(
        part
        for part in (
            directory.label(CONTROLLER, f"commission:{v['controller_commission_id']}")
            if v["controller_commission_id"]
            else "",
            directory.label(CONTROLLER, f"deputy:{v['controller_deputy_id']}")
            if v["controller_deputy_id"]
            else "",
        )
        if part
    )
    return {
        "row": record.row,
        "cells": [
            v["number"],
            f"{v['protocol']} ({day(v['protocol_date'])})",
            v["text"][:200],
            "; ".join(
                filter(
                    None,
                    [
                        names(DEPARTMENT, [v["lead_department_id"]]),
                        names(DEPARTMENT, v["co_department_ids"]),
                    ],
                )
            ),
            controller,
            day(v["due_date"]),
            str(InstructionStatus(v["status"]).label),
            day(v["executed"]),
        ],
    }


def preview_headers(kind: str) -> list[str]:
    if kind == ImportKind.REQUESTS:
        keys = [
            "number",
            "submitted",
            "title",
            "author",
            "lead_department",
            "status",
            "answered",
            "outcome",
        ]
    else:
        keys = [
            "number",
            "protocol",
            "text",
            "lead_department",
            "controller",
            "due_date",
            "status",
            "executed",
        ]
    return [column_label(kind, key) for key in keys]
