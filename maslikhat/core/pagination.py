"""The standard pagination of lists: ``count``, ``next``, ``previous``, ``results``.

A page never pays for a count over a large set. ``count`` is exact up to
``EXACT_COUNT_LIMIT`` rows (a ``COUNT`` over a ``LIMIT``-ed subquery: bounded work).
On PostgreSQL the planner's estimate decides first: a set it expects to hold more than
``ESTIMATE_TRUSTED_ABOVE`` rows is not counted at all, and above the exact limit the
count is the estimate; the answer then says ``count_is_estimate``. A page of an
estimated list reads one row more than it shows, so ``next`` is exact all the same,
and a short page makes the count exact again. Elsewhere (SQLite, which has no planner
estimate to ask) counts are exact.

The API (``StandardPagination``) and the HTML lists (``BoundedCountPaginator`` in the
views) share it.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

#: Up to this many rows a list's count is exact.
EXACT_COUNT_LIMIT = 1_000
#: A set the planner expects to be larger than this is not counted at all (PostgreSQL):
#: ten times the exact limit, so an estimate off by as much still counts nothing big.
ESTIMATE_TRUSTED_ABOVE = 10 * EXACT_COUNT_LIMIT


def estimate_count(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate for ``queryset`` (PostgreSQL), or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    if getattr(queryset, "_fields", None) is None:
        # The rows' related objects change no row count: plan the rows alone (a list's
        # joins cost more to plan than the estimate is worth).
        queryset = queryset.select_related(None).prefetch_related(None)
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # ``.none()`` or a filter that can match nothing
        return 0
    with connection.cursor() as cursor:
        # EXPLAIN only plans the query: it reads statistics, not the rows.
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedPage(Page):
    """A page of a list whose count is an estimate: whether a next page exists is known
    from the one row read past the page, not from the count."""

    def __init__(self, object_list: Any, number: int, paginator: Any, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class BoundedCountPaginator(Paginator):
    """A paginator that never counts more than ``EXACT_COUNT_LIMIT + 1`` rows."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        unordered = qs.order_by()
        estimate = estimate_count(unordered)
        if estimate is None:
            # No planner to ask (SQLite: development and tests): exact, one query.
            return qs.count()
        if estimate > ESTIMATE_TRUSTED_ABOVE:
            self.count_is_estimate = True
            return estimate
        # COUNT over a LIMITed subquery: bounded work however large the table.
        bounded = unordered[: EXACT_COUNT_LIMIT + 1].count()
        if bounded <= EXACT_COUNT_LIMIT:
            return bounded
        self.count_is_estimate = True
        return max(estimate, bounded)

    def validate_number(self, number: Any) -> int:
        if not (self.count and self.count_is_estimate):
            return super().validate_number(number)
        # An estimate may be short of the real count: any page may exist; an empty one
        # is told apart when it is read.
        try:
            number = int(number)
        except (TypeError, ValueError):
            return super().validate_number(number)
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if not self.count_is_estimate:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if not more:
            # The last page: now the count is known exactly.
            self._settle(bottom + len(rows), estimate=False)
        elif self.count <= bottom + self.per_page:
            self._settle(bottom + self.per_page + 1, estimate=True)
        return EstimatedPage(rows, number, self, more=more)

    def get_page(self, number: Any) -> Page:
        try:
            return super().get_page(number)
        except EmptyPage:
            # Past the end of a list counted by estimate: its first page.
            return self.page(1)

    def _settle(self, count: int, *, estimate: bool) -> None:
        self.__dict__["count"] = count
        self.__dict__.pop("num_pages", None)
        self.count_is_estimate = estimate


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None
        paginator = self.page.paginator
        body: dict[str, Any] = {
            "count": paginator.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        }
        if getattr(paginator, "count_is_estimate", False):
            body["count_is_estimate"] = True
        return Response(body)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_estimate"] = {"type": "boolean"}
        return response
