"""Exports of the lists (requests, instructions, KPI rankings) to Excel and CSV.

Constant memory whatever the number of rows:

- rows are read with ``values_list(...).iterator(chunk_size=2000)``: plain tuples, a
  server-side cursor on PostgreSQL, never model instances with lazy relations;
- Excel is written by openpyxl in write-only mode (rows stream to a temporary file);
- CSV is UTF-8 with a BOM (Excel then reads Cyrillic correctly), quoted where needed.
  ``format=csv`` (the page's "CSV for Excel" button) is separated by semicolons: Excel in
  a Russian or Kazakh locale takes ``;`` as the list separator and opens the file as
  columns; ``format=csv-comma`` is the standard comma-separated file for other programs.

Besides the row's own fields a file carries what is kept beside it, read a chunk of rows
at a time (one query per chunk and kind, never one per row): the co-executing
departments, every evaluation of a request's answers (``Evaluation`` rows: the decisions
and ratings in order, "2 → 4", and the last rating given), a request's promise in force
(the date promised, its state — "overdue" when still to be kept past it — and the date of
the department's report), an instruction's extensions and reports.

Headers are translated in the language of the person who asked; dates read dd.mm.yyyy (real
dates in Excel, formatted so). Text that a spreadsheet would take for a formula (``=``,
``+``, ``-``, ``@`` first) is written as text: a title cannot run code on a staff member's PC.
Visibility and filters are the lists' own: ``reports.selectors.filtered_requests`` (with no
default scope: an empty query is the API list's empty query) and ``instruction_visible``
with ``InstructionFilter``, so a file holds exactly the rows of the list with the same query.
"""

from __future__ import annotations

import csv
import datetime
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from django.db.models import (
    CharField,
    Count,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Concat, NullIf
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext, override
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from commitments.models import ACTIVE_STATES, Commitment, CommitmentState
from commitments.selectors import COUNTED_STATES
from instructions.filters import INSTRUCTION_ORDERING_FIELDS, InstructionFilter
from instructions.models import ExecutionReport, Instruction, InstructionStatus, ReportPeriod
from instructions.selectors import instruction_visible
from instructions.selectors import with_overdue as instruction_with_overdue
from kpi.presenters import period_label
from maslikhat.core.extensions import Extension, ExtensionStatus
from maslikhat.directory.actors import Actor
from requests_app.models import DeputyRequest, Evaluation, Outcome, RequestStatus

from .models import ExportFormat, ExportKind
from .selectors import (
    InvalidFilters,
    Params,
    as_query_dict,
    filtered_requests,
    ordered_for_export,
)
from .xlsx import StreamingSheet

#: Rows read from the database per round trip, and how often progress is reported.
CHUNK_SIZE = 2000
#: Excel's limit for one cell's text.
CELL_TEXT_LIMIT = 32_000
#: Text of an instruction in an export (the full text is on its page).
INSTRUCTION_TEXT_LIMIT = 2_000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "DD.MM.YYYY"

CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.CSV_COMMA: "text/csv; charset=utf-8",
}
#: The file name's extension of each format (both CSVs are ``.csv``).
EXTENSIONS = {
    ExportFormat.XLSX: "xlsx",
    ExportFormat.CSV: "csv",
    ExportFormat.CSV_COMMA: "csv",
}
#: The separator of each CSV format.
DELIMITERS = {ExportFormat.CSV: ";", ExportFormat.CSV_COMMA: ","}


class RowWriter(Protocol):
    def write(self, row: list[Any]) -> None: ...

    def close(self) -> None: ...


def _clean_text(value: str) -> str:
    if value.isprintable():  # a fast check: only control characters need the regex
        return value[:CELL_TEXT_LIMIT]
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:CELL_TEXT_LIMIT]


class XlsxWriter:
    """Excel, streamed: openpyxl writes the workbook around the rows, the rows are plain XML
    written straight into the compressed file (``reports/xlsx.py``); nothing stays in memory."""

    def __init__(self, path: Path, headers: list[str], title: str, widths: list[int]) -> None:
        self.path = path
        self.sheet = StreamingSheet(
            path,
            title=_sheet_title(title),
            headers=headers,
            widths=widths,
            date_format=DATE_FORMAT,
        )

    def write(self, row: list[Any]) -> None:
        # Text is always a text cell, never a formula: "=…" cannot run on a staff member's PC.
        self.sheet.write(row)

    def close(self) -> None:
        self.sheet.close()


class CsvWriter:
    """UTF-8 with a BOM, ``delimiter``-separated, quoted where needed, dates dd.mm.yyyy."""

    def __init__(self, path: Path, headers: list[str], delimiter: str = ";") -> None:
        self.file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.file, delimiter=delimiter)
        self.writer.writerow(headers)

    @staticmethod
    def _text(value: Any) -> Any:
        if value is None:
            return ""
        if isinstance(value, datetime.date):
            return value.strftime("%d.%m.%Y")
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            # A leading apostrophe keeps a spreadsheet from evaluating the cell (CSV injection).
            return "'" + value
        return value

    def write(self, row: list[Any]) -> None:
        self.writer.writerow([self._text(value) for value in row])

    def close(self) -> None:
        self.file.close()


def _sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"


# --- What an export holds ----------------------------------------------------------------------


@dataclass
class ExportSpec:
    """The rows of one export: headers, a values_list queryset (or rows) and a row converter.

    ``beside``, when given, reads what is kept beside a chunk of rows (their ids are the
    rows' first values) in a fixed number of queries; its value for a row is appended to
    the row before ``convert`` sees it.
    """

    kind: str
    title: str
    headers: list[str]
    widths: list[int]
    rows: QuerySet[Any] | list[tuple[Any, ...]]
    convert: Callable[[tuple[Any, ...]], list[Any]]
    file_stem: str
    beside: Callable[[list[int]], Mapping[int, Any]] | None = None

    def count(self, limit: int | None = None) -> int:
        """The number of rows (bounded by ``limit + 1`` when given: cheap on huge tables)."""
        if isinstance(self.rows, list):
            return len(self.rows)
        qs = self.rows.order_by()
        if limit is not None:
            return qs[: limit + 1].count()
        return qs.count()

    def iterate(self) -> Iterator[tuple[Any, ...]]:
        if isinstance(self.rows, list):
            return iter(self.rows)
        rows = self.rows.iterator(chunk_size=CHUNK_SIZE)
        if self.beside is None:
            return rows
        return self._with_beside(rows, self.beside)

    @staticmethod
    def _with_beside(
        rows: Iterator[tuple[Any, ...]], beside: Callable[[list[int]], Mapping[int, Any]]
    ) -> Iterator[tuple[Any, ...]]:
        while chunk := list(islice(rows, CHUNK_SIZE)):
            extra = beside([row[0] for row in chunk])
            for row in chunk:
                yield (*row, extra.get(row[0]))


def _name_expression(prefix: str, language: str) -> Any:
    """The name of a translated directory entry in ``language``, the Russian one if empty."""
    if language in ("kk", "en"):
        return Coalesce(NullIf(F(f"{prefix}__name_{language}"), Value("")), F(f"{prefix}__name_ru"))
    return F(f"{prefix}__name_ru")


def _person_expression(prefix: str) -> Any:
    parts = [f"{prefix}last_name", f"{prefix}first_name", f"{prefix}middle_name"]
    return Concat(
        F(parts[0]), Value(" "), F(parts[1]), Value(" "), F(parts[2]), output_field=CharField()
    )


def _local_date(value: datetime.datetime | None, zone: datetime.tzinfo) -> datetime.date | None:
    """The date of ``value`` in ``zone`` (the current zone, read once per export: looking it
    up for every value, as ``timezone.localtime`` does, was a fifth of a large export's time)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.date()
    return value.astimezone(zone).date()


def _person(value: str | None) -> str:
    return " ".join((value or "").split())


def _co_departments(
    through: Any, owner: str, ids: list[int], language: str
) -> dict[int, list[str]]:
    """The co-executing departments' names of the items ``ids``: one query."""
    names: dict[int, list[str]] = defaultdict(list)
    rows = (
        through.objects.filter(**{f"{owner}__in": ids})
        .annotate(x_name=_name_expression("department", language))
        .order_by(owner, "x_name")
        .values_list(owner, "x_name")
    )
    for item_id, name in rows:
        names[item_id].append(name or "")
    return names


@dataclass
class RequestBeside:
    """What a request's row carries from beside it: co-executors and answers' evaluations."""

    co_departments: list[str]
    evaluations: list[tuple[str, int | None]]
    #: The request's promise in force: (promised for, state, reported at), or ``None``.
    promise: tuple[datetime.date, str, datetime.datetime | None] | None = None


def _request_beside(language: str) -> Callable[[list[int]], Mapping[int, RequestBeside]]:
    def read(ids: list[int]) -> Mapping[int, RequestBeside]:
        co = _co_departments(
            DeputyRequest.co_departments.through, "deputyrequest_id", ids, language
        )
        evaluations: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        # Every evaluation is a row of its own (accepted or returned for rework), kept for
        # good: one query per chunk of requests, in the order they were given.
        rows = (
            Evaluation.objects.filter(request_id__in=ids)
            .order_by("request_id", "at", "id")
            .values_list("request_id", "decision", "rating")
        )
        for request_id, evaluation, rating in rows:
            evaluations[request_id].append((evaluation, rating))
        # The promise in force of each request (its latest; one withdrawn by a rework
        # promises nothing): one query per chunk.
        promises = {
            request_id: (due, state, reported)
            for request_id, due, state, reported in Commitment.objects.filter(
                request_id__in=ids, state__in=COUNTED_STATES
            )
            .order_by("request_id", "id")
            .values_list("request_id", "due_date", "state", "reported_at")
        }
        # Only the rows that have something beside them: the others read the default.
        return {
            item_id: RequestBeside(
                co.get(item_id, []), evaluations.get(item_id, []), promises.get(item_id)
            )
            for item_id in co.keys() | evaluations.keys() | promises.keys()
        }

    return read


def request_export(*, actor: Actor, params: Params, language: str) -> ExportSpec:
    """The deputy requests of the list with ``params``, as ``actor`` may see them.

    The same rows as ``GET /api/v1/requests/`` with the same query: no scope is implied
    (a deputy's empty query is every request visible to them); ``scope=mine`` narrows.
    """
    data = as_query_dict(params)
    filtered = filtered_requests(actor=actor, params=data, strict=True, default_scope=None)
    qs = ordered_for_export(filtered.queryset, data.get("ordering"))
    qs = qs.annotate(
        x_category=_name_expression("category", language),
        x_district=_name_expression("district", language),
        x_department=_name_expression("lead_department", language),
        x_author=_person_expression("author__user__"),
        x_executor=_person_expression("executor__"),
    ).values_list(
        "id",
        "number",
        "submitted_at",
        "title",
        "x_category",
        "x_district",
        "x_author",
        "x_department",
        "x_executor",
        "status",
        "due_date",
        "original_due_date",
        "answered_at",
        "overdue",
        "outcome",
        "rating",
        "rework_count",
        "request_rating",
    )
    zone = timezone.get_current_timezone()
    with override(language):
        headers = [
            gettext("Number"),
            gettext("Submitted"),
            gettext("Title"),
            gettext("Category"),
            gettext("District"),
            gettext("Author"),
            gettext("Lead department"),
            gettext("Co-executors"),
            gettext("Executor"),
            gettext("Status"),
            gettext("Due date"),
            gettext("Original due date"),
            gettext("Answered"),
            gettext("Overdue"),
            gettext("Outcome"),
            gettext("Returned for rework (times)"),
            gettext("Evaluations of the answers"),
            gettext("Ratings"),
            gettext("Last rating"),
            gettext("Deputy's rating"),
            gettext("Department's rating of the request"),
            gettext("Promised for"),
            gettext("Promise state"),
            gettext("Promise reported"),
        ]
        promise_states = {value: str(label) for value, label in CommitmentState.choices}
        promise_overdue = gettext("Overdue")
        statuses = {value: str(label) for value, label in RequestStatus.choices}
        outcomes = {value: str(label) for value, label in Outcome.choices}
        decisions = {"accept": gettext("accepted"), "rework": gettext("returned for rework")}
        yes, no = gettext("yes"), gettext("no")
        title = gettext("Deputy requests")

    def evaluations_text(evaluations: list[tuple[str, int | None]]) -> str:
        return "; ".join(
            f"{'—' if rating is None else rating} ({decisions.get(decision, decision)})"
            for decision, rating in evaluations
        )

    def ratings(evaluations: list[tuple[str, int | None]]) -> list[int]:
        return [rating for _decision, rating in evaluations if rating is not None]

    today = timezone.localdate()

    def promise_columns(promise: tuple[Any, str, Any] | None) -> list[Any]:
        if promise is None:
            return [None, "", None]
        due, state, reported = promise
        late = state in ACTIVE_STATES and due < today
        label = promise_overdue if late else promise_states.get(state, state)
        return [due, label, _local_date(reported, zone)]

    def convert(row: tuple[Any, ...]) -> list[Any]:
        (
            _id,
            number,
            submitted,
            title_text,
            category,
            district,
            author,
            department,
            executor,
            status,
            due,
            original_due,
            answered,
            overdue,
            outcome,
            rating,
            rework_count,
            request_rating,
            beside,
        ) = row
        beside = beside or RequestBeside([], [])
        given = ratings(beside.evaluations)
        return [
            number or "",
            _local_date(submitted, zone),
            _clean_text(title_text or ""),
            category or "",
            district or "",
            _person(author),
            department or "",
            "; ".join(beside.co_departments),
            _person(executor),
            statuses.get(status, status),
            due,
            original_due,
            _local_date(answered, zone),
            yes if overdue else no,
            outcomes.get(outcome, "") if outcome else "",
            rework_count or 0,
            evaluations_text(beside.evaluations),
            " → ".join(str(value) for value in given),
            given[-1] if given else None,
            rating,
            request_rating,
            *promise_columns(beside.promise),
        ]

    return ExportSpec(
        kind=ExportKind.REQUESTS,
        title=title,
        headers=headers,
        widths=[
            *[16, 12, 60, 24, 22, 30, 30, 30, 26, 16, 12, 12, 12, 10, 20, 12, 30, 12, 10, 10, 12],
            *[12, 18, 12],  # the promise: its date, its state, the report's date
        ],
        rows=qs,
        convert=convert,
        file_stem="requests",
        beside=_request_beside(language),
    )


def instruction_export(*, actor: Actor, params: Params, language: str) -> ExportSpec:
    """The protocol instructions of the list with ``params``, as ``actor`` may see them."""
    data = as_query_dict(params)
    base = instruction_with_overdue(instruction_visible(actor))
    filterset = InstructionFilter(data=data, queryset=base)
    if not filterset.is_valid():
        raise InvalidFilters(filterset.errors)
    qs = filterset.qs
    ordering = (data.get("ordering") or "").strip()
    if ordering.lstrip("-") in INSTRUCTION_ORDERING_FIELDS:
        qs = qs.order_by(ordering, "-id" if ordering.startswith("-") else "id")
    else:
        qs = qs.order_by("due_date", "id")
    approved = Extension.objects.filter(
        item_type=Instruction.ITEM_TYPE, item_id=OuterRef("pk"), status=ExtensionStatus.APPROVED
    ).order_by()
    reports = ExecutionReport.objects.filter(instruction_id=OuterRef("pk")).order_by()
    qs = qs.annotate(
        x_department=_name_expression("lead_department", language),
        x_commission=_name_expression("controller_commission", language),
        x_deputy=_person_expression("controller_deputy__user__"),
        x_extensions=Coalesce(
            Subquery(
                approved.values("item_id").annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        x_extended_to=Subquery(
            approved.values("item_id").annotate(last=Max("new_due_date")).values("last")
        ),
        x_reports=Coalesce(
            Subquery(
                reports.values("instruction_id").annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        x_last_report=Subquery(
            reports.values("instruction_id").annotate(last=Max("submitted_at")).values("last")
        ),
    ).values_list(
        "id",
        "number",
        "protocol__number",
        "protocol__date",
        "text",
        "x_department",
        "x_commission",
        "x_deputy",
        "due_date",
        "original_due_date",
        "status",
        "report_period",
        "reported_at",
        "executed_at",
        "overdue",
        "x_extensions",
        "x_extended_to",
        "x_reports",
        "x_last_report",
    )
    zone = timezone.get_current_timezone()
    with override(language):
        headers = [
            gettext("Number"),
            gettext("Protocol"),
            gettext("Protocol date"),
            gettext("Text"),
            gettext("Lead department"),
            gettext("Co-executors"),
            gettext("Controller"),
            gettext("Due date"),
            gettext("Original due date"),
            gettext("Status"),
            gettext("Periodic reports"),
            gettext("Reported"),
            gettext("Executed"),
            gettext("Overdue"),
            gettext("Extensions granted"),
            gettext("Extended to"),
            gettext("Reports"),
            gettext("Last report"),
        ]
        statuses = {value: str(label) for value, label in InstructionStatus.choices}
        periods = {value: str(label) for value, label in ReportPeriod.choices}
        yes, no = gettext("yes"), gettext("no")
        title = gettext("Protocol instructions")

    def convert(row: tuple[Any, ...]) -> list[Any]:
        (
            _id,
            number,
            protocol_number,
            protocol_date,
            text,
            department,
            commission,
            deputy,
            due,
            original_due,
            status,
            period,
            reported,
            executed,
            overdue,
            extensions,
            extended_to,
            reports_count,
            last_report,
            co_departments,
        ) = row
        text = _clean_text(text or "")
        if len(text) > INSTRUCTION_TEXT_LIMIT:
            text = text[:INSTRUCTION_TEXT_LIMIT] + "…"
        controller = "; ".join(part for part in (commission or "", _person(deputy)) if part)
        return [
            number,
            protocol_number,
            protocol_date,
            text,
            department or "",
            "; ".join(co_departments or []),
            controller,
            due,
            original_due,
            statuses.get(status, status),
            periods.get(period, period),
            _local_date(reported, zone),
            _local_date(executed, zone),
            yes if overdue else no,
            extensions or 0,
            _as_date(extended_to),
            reports_count or 0,
            _local_date(_as_datetime(last_report), zone),
        ]

    return ExportSpec(
        kind=ExportKind.INSTRUCTIONS,
        title=title,
        headers=headers,
        widths=[10, 14, 12, 70, 30, 30, 30, 12, 12, 16, 18, 12, 12, 10, 12, 12, 10, 12],
        rows=qs,
        convert=convert,
        file_stem="instructions",
        beside=lambda ids: _co_departments(
            Instruction.co_departments.through, "instruction_id", ids, language
        ),
    )


def _as_date(value: Any) -> datetime.date | None:
    """A subquery's date (SQLite hands back text)."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime.datetime | None:
    """A subquery's moment (SQLite hands back text, in UTC)."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=datetime.UTC)


def kpi_export(*, params: Params, language: str) -> ExportSpec:
    """The KPI ranking of departments or deputies for a period, from its latest snapshot.

    Rankings are public (the portal shows them to everyone), so no visibility applies.
    Raises ``InvalidFilters`` for an unknown kind or period and kpi's ``NoSnapshot`` when
    the period was never computed.
    """
    from kpi.calculators import DEPARTMENT, DEPUTY
    from kpi.periods import InvalidPeriod
    from kpi.selectors import kpi_rankings, methodology

    data = as_query_dict(params)
    kind = data.get("kind") or DEPARTMENT
    if kind not in (DEPARTMENT, DEPUTY):
        raise InvalidFilters({"kind": [gettext("Choose departments or deputies.")]})
    try:
        rankings = kpi_rankings(kind, data.get("period") or "rolling90")
    except InvalidPeriod as exc:
        raise InvalidFilters({"period": [str(exc.message)]}) from exc
    with override(language):
        section = methodology()["departments" if kind == DEPARTMENT else "deputies"]
        components = [(c["key"], c["label"]) for c in section["components"]]
        headers = [
            gettext("Rank"),
            gettext("Department") if kind == DEPARTMENT else gettext("Deputy"),
            gettext("Composite (0–100)"),
            gettext("Rated items"),
            gettext("Not enough data"),
            *[str(label) for _key, label in components],
        ]
        yes, no = gettext("yes"), gettext("no")
        title = gettext("KPI ranking %(period)s") % {"period": period_label(rankings.period)}
    rows = [
        (
            row.rank,
            row.entity.get("name", ""),
            None if row.composite is None else round(row.composite, 1),
            row.rated_items,
            yes if row.insufficient_data else no,
            *[_component_value(row.components.get(key)) for key, _label in components],
        )
        for row in rankings.rows
    ]
    return ExportSpec(
        kind=ExportKind.KPI,
        title=title,
        headers=headers,
        widths=[8, 40, 14, 12, 14, *[16] * len(components)],
        rows=rows,
        convert=list,
        file_stem=f"kpi-{kind}-{rankings.period}",
    )


def _component_value(component: Any) -> Any:
    if not isinstance(component, Mapping):
        return None
    value = component.get("value")
    return round(value, 4) if isinstance(value, float) else value


def export_spec(
    *,
    kind: str,
    actor: Actor,
    params: Params,
    language: str,
) -> ExportSpec:
    if kind == ExportKind.REQUESTS:
        return request_export(actor=actor, params=params, language=language)
    if kind == ExportKind.INSTRUCTIONS:
        return instruction_export(actor=actor, params=params, language=language)
    if kind == ExportKind.KPI:
        return kpi_export(params=params, language=language)
    raise InvalidFilters({"kind": [gettext("Unknown export.")]})


# --- Writing ----------------------------------------------------------------------------------


def write_export(
    spec: ExportSpec,
    path: Path,
    fmt: str,
    *,
    progress: Callable[[int], None] | None = None,
    every: int = CHUNK_SIZE,
) -> int:
    """Write ``spec`` to ``path`` in ``fmt``; call ``progress(rows)`` every ``every`` rows."""
    writer: RowWriter
    if fmt == ExportFormat.XLSX:
        writer = XlsxWriter(path, spec.headers, spec.title, spec.widths)
    elif fmt in DELIMITERS:
        writer = CsvWriter(path, spec.headers, DELIMITERS[fmt])  # type: ignore[index]
    else:
        raise InvalidFilters({"format": [gettext("Choose xlsx, csv or csv-comma.")]})
    written = 0
    try:
        for row in spec.iterate():
            writer.write(spec.convert(row))
            written += 1
            if progress is not None and written % every == 0:
                progress(written)
    finally:
        writer.close()
    if progress is not None:
        progress(written)
    return written


def write_to_temporary_file(spec: ExportSpec, fmt: str) -> Path:
    """A small export written to a temporary file (the caller streams and deletes it)."""
    handle, name = tempfile.mkstemp(prefix="export-", suffix=f".{extension(fmt)}")
    os.close(handle)
    path = Path(name)
    try:
        write_export(spec, path, fmt)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def file_name(spec: ExportSpec, fmt: str, today: datetime.date | None = None) -> str:
    today = today or timezone.localdate()
    return f"{spec.file_stem}-{today:%Y-%m-%d}.{extension(fmt)}"


def extension(fmt: str) -> str:
    """The file name's extension of format ``fmt``."""
    return EXTENSIONS.get(fmt, fmt)  # type: ignore[call-overload]


def parse_format(value: str | None) -> str:
    fmt = (value or ExportFormat.XLSX).strip().lower()
    if fmt not in ExportFormat.values:
        raise InvalidFilters({"format": [gettext("Choose xlsx, csv or csv-comma.")]})
    return fmt


def parameters_without_controls(params: QueryDict) -> list[list[str]]:
    """The filters of an export as JSON pairs (what is stored on a background job)."""
    from .selectors import query_pairs

    return query_pairs(params, drop=("format", "page", "page_size"))


def rows_of(spec: ExportSpec) -> Iterable[list[Any]]:
    """The converted rows (tests and the PDF report read them this way)."""
    for row in spec.iterate():
        yield spec.convert(row)
