"""A department's or a deputy's KPI page: components for a period, the trend, the weights."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.views.decorators.http import require_GET

from .. import presenters, selectors
from ..calculators import DEPARTMENT, DEPUTY
from ..forms import COMPONENT_LABELS
from .base import id_or_404, render_page


@require_GET
def department_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A department's KPI: composite and components for a period, the trend, the weights."""
    return _entity_page(request, DEPARTMENT, pk)


@require_GET
def deputy_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A deputy's KPI, as a department's, plus their party, district and activities."""
    return _entity_page(request, DEPUTY, pk)


def _entity_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    asked = presenters.parse_period(request.GET.get("period"))
    trend = request.GET.get("trend", "month")
    if trend not in dict(presenters.HISTORY_CHOICES):
        trend = "month"
    page = selectors.kpi_entity_page(
        kind, id_or_404(pk), period=asked.key, trend=trend, user=request.user
    )
    if page is None:
        raise Http404
    choice = presenters.period_choice(page.period, page.periods, error=asked.error)
    trend_data = presenters.trend_chart(kind, page.history)
    params = request.GET.copy()
    params["period"] = choice.key
    context: dict[str, Any] = {
        "kind": kind,
        "entity": page.entity,
        "period": choice,
        "rankings": page.rankings,
        "row": page.row,
        "cells": presenters.cells_of(kind, page.row.components) if page.row else [],
        "trend": trend,
        "trend_links": [
            {
                "key": key,
                "label": label,
                "url": presenters.query(params, trend=key),
                "active": key == trend,
            }
            for key, label in presenters.HISTORY_CHOICES
        ],
        "trend_chart": trend_data["chart"],
        "trend_rows": trend_data["rows"],
        "trend_columns": [label for _, label in COMPONENT_LABELS[kind]],
        "weights": presenters.weights_table(kind, page.weights),
        "weights_version": page.weights_version,
        "rankings_url": reverse("kpi:index")
        + presenters.query(QueryDict(), period=choice.key, kind=kind),
    }
    if kind == DEPUTY:
        context.update({"profile": page.profile, "activities": page.activities})
    return render_page(request, "kpi/entity.html", context, active="index")
