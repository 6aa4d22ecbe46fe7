from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks
from .items import get_readable_item
from .storage import stored_file_response
from .threads import Attachment


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the cache and the broker answer; 503 otherwise."""
    results = run_checks()
    healthy = all(r.ok for r in results)
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {
            r.name: {"ok": r.ok, "ms": r.ms, **({"error": r.error} if r.error else {})}
            for r in results
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Download an attachment: only for those who may see its item, always as a file.

    The item's own selector decides (404 for "missing" and "not yours" alike);
    the response is ``Content-Disposition: attachment`` with ``nosniff``, so a
    browser never renders an uploaded file as a page.
    """
    if not request.user.is_authenticated:
        raise Http404
    attachment = get_object_or_404(Attachment, pk=pk)
    get_readable_item(attachment.item_type, request.user, attachment.item_id)
    try:
        # Streamed from the storage (local folder or bucket), never a bucket address.
        return stored_file_response(
            attachment.file.name or "",
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
    except FileNotFoundError as exc:
        raise Http404 from exc
