"""The import page: upload, preview, match columns and names, commit, follow the progress.

Staff only (``permissions.can_import``): the list answers 403 to anyone else, a batch's
pages 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maslikhat.core.exceptions import PortalError

from . import presenters, selectors, services
from .forms import UploadForm, chosen_columns, chosen_names
from .models import ImportKind
from .permissions import can_import
from .template import CONTENT_TYPE, template_name, template_workbook


def _require_staff(request: HttpRequest) -> None:
    if not can_import(request.user):
        raise PermissionDenied


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The recent imports, the templates and the upload form."""
    _require_staff(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = services.batch_upload(
                by=request.user,  # type: ignore[arg-type]
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
            )
        except PortalError as exc:
            form.add_error("file", str(exc.message))
        else:
            return redirect("imports:batch", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "imports/index.html",
        {"form": form, "batches": selectors.batch_list(user=request.user), "kinds": ImportKind},
        status=status,
    )


@login_required
@require_GET
def template(request: HttpRequest, kind: str) -> HttpResponse:
    """The template of ``kind`` as an Excel workbook (its second sheet explains the columns)."""
    _require_staff(request)
    if kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(template_workbook(kind), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{template_name(kind)}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def batch(request: HttpRequest, pk: int) -> HttpResponse:
    """The check of one file: preview, columns, names to match, errors; or its progress."""
    item = selectors.batch_for(user=request.user, pk=pk)
    if request.method == "POST":
        headers = (item.report or {}).get("headers", [])
        try:
            services.batch_update(
                pk=item.pk,
                by=request.user,  # type: ignore[arg-type]
                columns=chosen_columns(request.POST, headers),
                names=chosen_names(request.POST),
            )
        except PortalError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("The file was checked again."))
        return redirect("imports:batch", pk=item.pk)
    return render(request, "imports/batch.html", presenters.batch_context(item))


@login_required
@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the import of a checked file (a background task; the page shows its progress)."""
    item = selectors.batch_for(user=request.user, pk=pk)
    try:
        services.batch_commit_start(pk=item.pk, by=request.user)  # type: ignore[arg-type]
    except PortalError as exc:
        messages.error(request, str(exc.message))
    return redirect("imports:batch", pk=item.pk)


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment the batch page polls (htmx) until the import is finished."""
    item = selectors.batch_for(user=request.user, pk=pk)
    return render(request, "imports/_progress.html", presenters.progress_context(item))
