"""Staff pages: the working calendar (public holidays and decreed days) and the deadline rules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from .actors import actor_for


def _require_staff(request: HttpRequest) -> None:
    """Council staff and administrators; everyone else signed in gets 403."""
    actor = actor_for(request.user)
    if not (actor.is_staff or actor.is_admin):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    return render(request, "directory/calendar.html", {})
