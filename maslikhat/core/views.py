from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .health import run_checks


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
