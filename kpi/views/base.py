"""What every KPI page shares: the section menu, access checks, ids from the address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from maslikhat.directory.actors import Actor, actor_for

from .. import presenters
from ..calculators import DEPARTMENT, DEPUTY

KINDS = (DEPARTMENT, DEPUTY)
PAGE_SIZE = 25

#: The largest id a database column holds (SQLite and PostgreSQL bigint).
MAX_ID = 2**63 - 1


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    active: str = "",
    status: int = 200,
) -> HttpResponse:
    """``render`` with the KPI section's menu, ``active`` highlighted."""
    context["kpi_menu"] = presenters.section_menu(actor_for(request.user), active)
    return render(request, template, context, status=status)


def id_or_404(pk: int) -> int:
    """An id from the URL; one too large for the database is simply not found (not a 500)."""
    if pk > MAX_ID:
        raise Http404
    return pk


def require(request: HttpRequest, predicate: Callable[[Actor], bool]) -> Actor:
    """The actor, when ``predicate`` (one of ``kpi/permissions.py``) lets them in; else 403."""
    actor = actor_for(request.user)
    if not predicate(actor):
        raise PermissionDenied
    return actor
