"""The methodology: the formulas, the weights in force, the safeguards, the weights' history."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .. import presenters, selectors
from .base import render_page


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    """The formulas, the weights in force, the safeguards and the weights' history."""
    page = selectors.methodology_page()
    return render_page(
        request,
        "kpi/methodology.html",
        {
            "data": page.data,
            "sections": presenters.methodology_sections(page),
            "constants": page.data["constants"],
            "promises": presenters.promises_note(page),
        },
        active="methodology",
    )
