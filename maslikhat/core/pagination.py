"""The standard API pagination: ``count``, ``next``, ``previous``, ``results``.

``count`` is exact up to 10,000 rows. Above that an exact ``COUNT(*)`` over a
large table would cost more than the page itself, so the count is the
planner's estimate (PostgreSQL) and the response says ``count_is_estimate``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

EXACT_COUNT_LIMIT = 10_000


def estimate_count(queryset: QuerySet[Any]) -> int | None:
    """The planner's row estimate for ``queryset`` (PostgreSQL), or None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # EXPLAIN only plans the query: it reads statistics, not the rows.
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class BoundedCountPaginator(Paginator):
    """A paginator whose count never scans more than ``EXACT_COUNT_LIMIT + 1`` rows."""

    count_is_estimate = False

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        # COUNT over a LIMITed subquery: bounded work however large the table.
        bounded = qs.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if bounded <= EXACT_COUNT_LIMIT:
            return bounded
        estimate = estimate_count(qs.order_by())
        if estimate is None:
            return qs.count()
        self.count_is_estimate = True
        return max(estimate, bounded)


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
