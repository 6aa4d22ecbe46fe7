"""Deputies' activities: receptions, reports and visits, recorded by the deputy or by staff."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from maslikhat.core.web import call_service
from maslikhat.directory import selectors as directory_selectors

from .. import permissions, presenters, selectors, services
from ..forms import ActivityForm
from .base import PAGE_SIZE, render_page, require


@login_required
@require_http_methods(["GET", "POST"])
def activities(request: HttpRequest) -> HttpResponse:
    """A deputy records their receptions, reports and visits; staff record anyone's."""
    actor = require(request, permissions.can_see_activities)
    records = permissions.can_record_activity(actor)
    own_deputy_id = actor.deputy_id if actor.is_deputy else None

    def make_form(data: QueryDict | None = None) -> ActivityForm:
        return ActivityForm(
            data,
            deputies=directory_selectors.deputy_list(user=request.user),
            districts=directory_selectors.district_list(),
            own_deputy_id=own_deputy_id,
        )

    form = make_form() if records else None
    status = 200
    if request.method == "POST":
        if not records:
            raise PermissionDenied
        form = make_form(request.POST)
        status = 400
        if form.is_valid():
            recorded = call_service(
                request,
                services.deputy_activity_record,
                form=form,
                success=gettext("The activity was recorded."),
                by=request.user,
                **form.service_kwargs(),
            )
            if recorded.ok:
                return redirect("kpi:activities")
            status = recorded.status
    page = Paginator(selectors.activity_list(actor=actor), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render_page(
        request,
        "kpi/activities.html",
        {
            "form": form,
            "page": page,
            "rows": list(page.object_list),
            "shows_deputy": not actor.is_deputy,
            "own_page": presenters.own_page(actor),
            "page_query": "?",
        },
        active="activities",
        status=status,
    )
