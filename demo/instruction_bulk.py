"""The benchmark volume of protocol instructions: ``seed_demo --scale N`` copies the demo year.

The demo years of meetings, protocols and instructions go through the services
(``demo.instructions``, at most a few years); with ``--scale N`` they are then copied in SQL
until there are about N years, so the instructions keep the requests' proportion (about 150
instructions and 69 meetings per 500 requests). Each copy has its own meetings, protocols,
items, instructions, co-executor departments, execution reports, instruction extensions,
history and thread messages, with the same dates and states as the original: the same mix
of executed, on control, overdue, reported and returned instructions, N times over.
Notifications, read marks and attachments are not copied.

One ``INSERT … SELECT`` per table and per group of copies, the same SQL on SQLite and
PostgreSQL: a copy's row id is ``base + (copy − 1) × span + (id − first + 1)``, where
``base`` is the table's largest id before copying and ``first``/``span`` the first id and
the id range of the demo year's rows; a column that points at a copied table is mapped
the same way, so each copy points at its own meeting, protocol and instruction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max, Min, Q

from instructions.models import ExecutionReport, Instruction, Meeting, Protocol, ProtocolItem
from maslikhat.core.extensions import Extension
from maslikhat.core.items import ItemType
from maslikhat.core.threads import AuditEvent, Message

from .bulk import Progress

#: Copies written by one statement (a ``UNION ALL`` of the copy numbers).
COPIES_PER_STATEMENT = 50


@dataclass(frozen=True)
class IdRange:
    """Where a table's demo-year rows are and where their copies go."""

    base: int  # the largest id before copying
    first: int
    span: int

    def mapped(self, column: str) -> str:
        return f"({self.base} + (copies.k - 1) * {self.span} + ({column} - {self.first} + 1))"


@dataclass(frozen=True)
class CopySpec:
    """One table to copy: its model, which rows, and which columns point at copied rows."""

    key: str
    model: type[models.Model]
    where: Q
    references: dict[str, str]  # column → key of the copied table it points at


def copy_specs() -> list[CopySpec]:
    instruction_rows = Q(item_type=ItemType.INSTRUCTION.value)
    through = Instruction.co_departments.through
    return [
        CopySpec("meeting", Meeting, Q(), {}),
        CopySpec("protocol", Protocol, Q(), {"meeting_id": "meeting"}),
        CopySpec("item", ProtocolItem, Q(), {"protocol_id": "protocol"}),
        CopySpec(
            "instruction",
            Instruction,
            Q(),
            {"protocol_id": "protocol", "item_id": "item"},
        ),
        CopySpec("co_department", through, Q(), {"instruction_id": "instruction"}),
        CopySpec("report", ExecutionReport, Q(), {"instruction_id": "instruction"}),
        CopySpec(
            "extension",
            Extension,
            instruction_rows,
            {"item_id": "instruction"},
        ),
        CopySpec("event", AuditEvent, instruction_rows, {"item_id": "instruction"}),
        CopySpec("message", Message, instruction_rows, {"item_id": "instruction"}),
    ]


def _where_sql(model: type[models.Model], where: Q) -> tuple[str, list[Any]]:
    """The ``WHERE`` of ``where`` on ``model``'s table, without a table alias."""
    query = model._default_manager.filter(where).values("pk").query
    compiler = query.get_compiler(connection=connection)
    if not where:
        return "", []
    sql, params = query.where.as_sql(compiler, connection)
    return sql, list(params)


def copy_instruction_year(copies: int) -> tuple[int, float]:
    """Copy the demo year's instructions ``copies`` times; (rows written, seconds)."""
    started = time.perf_counter()
    if copies <= 0:
        return 0, 0.0
    specs = copy_specs()
    ranges: dict[str, IdRange] = {}
    for spec in specs:
        bounds = spec.model._default_manager.filter(spec.where).aggregate(
            first=Min("pk"), last=Max("pk")
        )
        base = spec.model._default_manager.aggregate(last=Max("pk"))["last"] or 0
        first, last = bounds["first"], bounds["last"]
        if first is None or last is None:
            ranges[spec.key] = IdRange(base=base, first=0, span=0)
        else:
            ranges[spec.key] = IdRange(base=base, first=first, span=last - first + 1)
    quote = connection.ops.quote_name
    written = 0
    progress = Progress("copies of the demo year's instructions", copies)
    for start in range(1, copies + 1, COPIES_PER_STATEMENT):
        numbers = range(start, min(copies, start + COPIES_PER_STATEMENT - 1) + 1)
        # The copy numbers as a derived table; plain SQL that SQLite and PostgreSQL share.
        series = " UNION ALL ".join(f"SELECT {number} AS k" for number in numbers)
        with connection.cursor() as cursor:
            for spec in specs:
                own = ranges[spec.key]
                if own.span == 0:
                    continue
                table = quote(spec.model._meta.db_table)
                columns, values = [], []
                for model_field in spec.model._meta.concrete_fields:
                    column = str(model_field.column)
                    columns.append(quote(column))
                    source = f"original.{quote(column)}"
                    if model_field.primary_key:
                        values.append(own.mapped(source))
                    elif column in spec.references:
                        values.append(ranges[spec.references[column]].mapped(source))
                    else:
                        values.append(source)
                where, params = _where_sql(spec.model, spec.where)
                # The unqualified column names of ``where`` resolve to the original rows:
                # the series has only ``k``.
                condition = f"original.{quote('id')} BETWEEN %s AND %s"
                params = [own.first, own.first + own.span - 1, *params]
                if where:
                    condition += f" AND {where.replace(f'{table}.', 'original.')}"
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(values)} FROM {table} AS original "
                    f"CROSS JOIN ({series}) AS copies WHERE {condition}",
                    params,
                )
                written += max(cursor.rowcount, 0)
        progress.update(numbers.stop - 1)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [s.model for s in specs]):
            cursor.execute(sql)
    return written, time.perf_counter() - started
