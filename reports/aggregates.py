"""SQL building blocks of the reports: a median aggregate and a day difference.

Both are computed by the database, one query per table whatever the number of rows:

- PostgreSQL: ``percentile_cont(0.5) WITHIN GROUP (ORDER BY …)``, the exact median.
- SQLite (the embedded set-up) has no median; ``ReportsConfig.ready`` registers a small
  aggregate function, ``portal_median``, on every new connection (``install_sqlite_functions``).
  It runs inside SQLite's own query, so it is still one query; it keeps the values of one
  group in memory, which is fine at the embedded set-up's scale (thousands of rows).
"""

from __future__ import annotations

import statistics
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, FloatField, Func, IntegerField
from django.db.models.sql.compiler import SQLCompiler

SQLITE_MEDIAN = "portal_median"


class Median(Aggregate):
    """The exact median of a numeric expression (NULLs ignored), or None without values."""

    function = "PERCENTILE_CONT"
    name = "Median"
    output_field = FloatField()
    allow_distinct = False
    # Ordered-set aggregates take the value in WITHIN GROUP, not as an argument.
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        # A copy with SQLite's spelling (``Aggregate.as_sql`` builds the FILTER clause
        # around ``self.template``, so it is replaced on the copy, not passed as context).
        clone = self.copy()
        clone.function = SQLITE_MEDIAN
        clone.template = "%(function)s(%(expressions)s)"
        return clone.as_sql(compiler, connection, **extra_context)


class WholeDaysBetween(Func):
    """Whole days elapsed from ``start`` to ``end`` (fractions dropped), an integer.

    The medians count whole days, so a histogram of them (``RequestAnswerCount``) gives the
    same exact median as the requests themselves.
    """

    arity = 2
    output_field = IntegerField()

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(end, start)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400) AS integer)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, Any]:
        # Whole seconds, then whole days: exact integers (``julianday`` is a float). The
        # ``%`` of ``strftime`` is doubled for the query's parameters and once more for the
        # template.
        sql, params = self.as_sql(
            compiler,
            connection,
            template="CAST(strftime('%%%%s', %(expressions)s) AS integer)",
            arg_joiner=") AS integer) - CAST(strftime('%%s', ",
            **extra_context,
        )
        return f"(({sql}) / 86400)", params


def median_of_histogram(counts: dict[int, int]) -> float | None:
    """The exact median of values given as ``value → how many``: the middle value, or the
    mean of the two middle ones (as ``percentile_cont(0.5)``); ``None`` without values."""
    total = sum(n for n in counts.values() if n > 0)
    if not total:
        return None
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value in sorted(counts):
        n = counts[value]
        if n <= 0:
            continue
        if lower is None and lower_rank < seen + n:
            lower = value
        if upper_rank < seen + n:
            upper = value
            break
        seen += n
    assert lower is not None and upper is not None
    return (lower + upper) / 2


class _MedianAccumulator:
    """SQLite aggregate: collect the group's values, return their median."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def install_sqlite_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: register ``portal_median`` on SQLite connections."""
    if connection.vendor != "sqlite":
        return
    connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _MedianAccumulator)
