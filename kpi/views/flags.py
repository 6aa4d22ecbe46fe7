"""Rater flags: raters who gave one score to 10 or more items in a row, for staff to review."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from maslikhat.core.web import call_service, form_errors_as_text

from .. import permissions, presenters, selectors, services
from ..forms import FlagReviewForm
from ..models import FlagStatus
from .base import PAGE_SIZE, id_or_404, render_page, require


@login_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    """Staff review the flags; the chair and superusers read them."""
    actor = require(request, permissions.can_see_flags)
    status = request.GET.get("status", FlagStatus.OPEN)
    if status not in dict(presenters.FLAG_FILTERS):
        status = FlagStatus.OPEN
    flags = selectors.rater_flag_list(status=None if status == "all" else status)
    page = Paginator(flags, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    return render_page(
        request,
        "kpi/flags.html",
        {
            "entries": presenters.flag_entries(rows, selectors.rater_names(rows)),
            "page": page,
            "status": status,
            "filters": presenters.flag_filters(status),
            "page_query": f"?status={status}",
            "can_review": permissions.can_review_flags(actor),
        },
        active="flags",
    )


@login_required
@require_POST
def flag_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: the ratings stand (dismiss) or were given formally (confirm), with a note."""
    require(request, permissions.can_review_flags)
    form = FlagReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_as_text(form))
    else:
        call_service(
            request,
            services.rater_flag_review,
            success=gettext("The review of the flag was saved."),
            by=request.user,
            flag_id=id_or_404(pk),
            status=form.cleaned_data["status"],
            note=form.cleaned_data.get("note") or "",
        )
    return redirect(reverse("kpi:flags") + presenters.query(request.GET))
