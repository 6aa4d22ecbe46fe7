"""Writing the benchmark volume fast: a row writer and a progress line.

``seed_demo --scale N`` writes most of a large data set without the services (see
``demo.request_bulk`` and ``demo.instruction_bulk``). Rows are plain lists in the column
order of the model; on PostgreSQL they go in with ``COPY … FROM STDIN`` (several times
faster than ``INSERT``), elsewhere with a prepared ``INSERT`` and ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, models

# COPY's text format: a tab between columns, a newline after a row, \N for NULL;
# these four characters are escaped inside a value.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_value(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is float:
        return str(value)
    if kind is dt.datetime or kind is dt.date:
        return value.isoformat()
    if kind is dict or kind is list:
        return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


class RowWriter:
    """Inserts rows of one model: ``COPY`` on PostgreSQL, ``executemany`` elsewhere.

    Why not ``bulk_create``: it prepares each value of every row in Python and SQLite's
    999-parameter limit cuts each ``INSERT`` to a few dozen rows; a million-request
    benchmark would take most of an hour. Here a row is a copy of a template of the
    model's defaults with the values of the row set by index (``index[attname]``).
    Callers pass dates, datetimes and JSON through ``date``, ``datetime`` and ``json``:
    on PostgreSQL they stay Python values (``copy_value`` writes them), elsewhere the
    backend's own adapters prepare them. Primary keys are given explicitly (the caller
    resets the sequences afterwards).
    """

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        self.copy = connection.vendor == "postgresql"
        ops = connection.ops
        self.template: list[Any] = []
        for model_field in self.fields:
            default = None if model_field.primary_key else model_field.get_default()
            if default is not None and model_field.get_internal_type() == "JSONField":
                default = self.json(model_field.attname, default)
            self.template.append(default)
        self.datetime: Callable[[dt.datetime | None], Any] = ops.adapt_datetimefield_value
        self.date: Callable[[dt.date | None], Any] = ops.adapt_datefield_value
        if self.copy:
            self.datetime = self.date = _same
        elif connection.vendor == "sqlite" and settings.USE_TZ:
            # What ``adapt_datetimefield_value`` does for the aware datetimes given here,
            # without its checks: a fifth of the run otherwise.
            database_tz = connection.timezone

            def sqlite_datetime(value: dt.datetime | None) -> str | None:
                return (
                    None
                    if value is None
                    else str(value.astimezone(database_tz).replace(tzinfo=None))
                )

            self.datetime = sqlite_datetime
        columns = ", ".join(ops.quote_name(str(f.column)) for f in self.fields)
        table = ops.quote_name(str(model._meta.db_table))
        placeholders = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"

    def json(self, attname: str, value: Any) -> Any:
        if self.copy:
            return value
        return self.fields[self.index[attname]].get_db_prep_save(value, connection)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            if self.copy:
                buffer = io.StringIO()
                buffer.writelines(
                    "\t".join([copy_value(value) for value in row]) + "\n" for row in rows
                )
                buffer.seek(0)
                cursor.cursor.copy_expert(self.copy_sql, buffer)
            else:
                cursor.executemany(self.sql, rows)


def _same(value: Any) -> Any:
    return value


class Progress:
    """A progress line on stderr every few percent: the large build takes minutes."""

    def __init__(self, what: str, total: int, *, every: float = 0.05) -> None:
        self.what = what
        self.total = total
        self.step = max(1, int(total * every))
        self.next = self.step
        self.started = time.perf_counter()

    def update(self, done: int) -> None:
        if done < self.next and done < self.total:
            return
        while self.next <= done:
            self.next += self.step
        seconds = time.perf_counter() - self.started
        rate = done / seconds if seconds else 0.0
        sys.stderr.write(
            f"  {self.what}: {done:,}/{self.total:,} ({100 * done / max(self.total, 1):.0f}%), "
            f"{seconds:.0f} s, {rate:,.0f}/s\n"
        )
        sys.stderr.flush()


@contextmanager
def indexes_deferred(*models_: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, drop the tables' secondary indexes for a bulk load and build them after.

    Keeping the indexes up to date row by row is most of a large load's time (the request
    table has three Russian full-text GIN indexes); building each once at the end is
    several times faster. The same definitions come back (read from ``pg_indexes``), in the
    same transaction, so the schema is unchanged, and the tables are analysed. Indexes
    behind a constraint (primary keys, unique fields) stay. Elsewhere this does nothing.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [str(model._meta.db_table) for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || "
            "quote_ident(i.indexname))::regclass)",
            [tables],
        )
        definitions = cursor.fetchall()
        for name, _definition in definitions:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit; PostgreSQL builds no index on a
        # table with checks pending, so they are run now (and deferred again after).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in definitions:
            cursor.execute(definition)
        # Fresh statistics before the next steps' set-based updates: a table just loaded
        # has none, and the planner would then scan it once per row of a correlated
        # subquery (the promises' back-dating took minutes at 100,000 requests, not seconds).
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    sys.stderr.write(
        f"  {len(definitions)} indexes of {', '.join(tables)} built again in "
        f"{time.perf_counter() - started:.0f} s\n"
    )
