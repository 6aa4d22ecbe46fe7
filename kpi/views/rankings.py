"""``/kpi/``: the rankings of departments or deputies for a period."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from maslikhat.directory.actors import actor_for

from .. import presenters, selectors
from ..calculators import DEPARTMENT, DEPUTY, MIN_RATED_ITEMS
from .base import KINDS, render_page


@require_GET
def kpi_index(request: HttpRequest) -> HttpResponse:
    """Rankings of departments or deputies for a period, every component shown."""
    kind = request.GET.get("kind", DEPARTMENT)
    if kind not in KINDS:
        kind = DEPARTMENT
    asked = presenters.parse_period(request.GET.get("period"))
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in presenters.sort_keys(kind):
        sort = ""
    page = selectors.kpi_rankings_page(kind, period=asked.key)
    choice = presenters.period_choice(page.period, page.periods, error=asked.error)
    lines = presenters.sorted_lines(presenters.ranking_lines(kind, page.rankings, choice.key), sort)
    params = request.GET.copy()
    params["period"] = choice.key
    params["kind"] = kind
    context = {
        "kind": kind,
        "period": choice,
        "rankings": page.rankings,
        "lines": lines,
        "has_unranked": any(line.insufficient_data for line in lines),
        "sort": sort,
        "columns": presenters.sort_columns(kind, params, sort),
        "rank_url": presenters.query(params, sort=None),
        "tabs": [
            {
                "kind": tab,
                "label": label,
                "url": presenters.query(params, kind=tab, sort=None),
                "active": tab == kind,
            }
            for tab, label in ((DEPARTMENT, _("Departments")), (DEPUTY, _("Deputies")))
        ],
        "own_page": presenters.own_page(actor_for(request.user)),
        "min_rated_items": MIN_RATED_ITEMS,
    }
    return render_page(request, "kpi/index.html", context, active="index")
