"""The weights page: staff put a new version in force; the chair reads every version."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from maslikhat.core.web import call_service

from .. import permissions, presenters, selectors, services
from ..forms import WeightsForm
from .base import KINDS, render_page, require


@login_required
@require_http_methods(["GET", "POST"])
def weights_edit(request: HttpRequest) -> HttpResponse:
    """Staff put a new version of the weights in force (one form per kind); the chair and
    superusers read the versions."""
    actor = require(request, permissions.can_see_weights_page)
    can_edit = permissions.can_edit_weights(actor)
    if request.method == "POST" and not can_edit:
        raise PermissionDenied
    versions = selectors.weights_pages()
    forms = {kind: WeightsForm(kind=kind, initial=versions[kind].current.weights) for kind in KINDS}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in KINDS:
            messages.error(request, gettext("Choose the weights of departments or of deputies."))
            return redirect("kpi:weights")
        form = WeightsForm(request.POST, kind=kind)
        forms[kind] = form
        status = 400
        if form.is_valid():
            saved = call_service(
                request,
                services.kpi_weights_set,
                form=form,
                success=lambda row: (
                    gettext("Version %(version)s of the weights is in force.")
                    % {"version": row.version}
                ),
                by=request.user,
                **form.service_kwargs(),
            )
            if saved.ok:
                return redirect(reverse("kpi:weights") + f"#weights-{kind}")
            status = saved.status
    return render_page(
        request,
        "kpi/weights.html",
        {"sections": presenters.weights_sections(versions, forms), "can_edit": can_edit},
        active="weights",
        status=status,
    )
