"""API plumbing shared by every app: the exception handler, and JSON for Django's own errors.

``/api/…`` answers JSON whatever happens: besides DRF's errors, an address that matches no
route (``/api/v1/requests/abc/``) and a request Django itself refuses (a body over the
upload limit) get the ``{"detail": ...}`` the schema documents, not the HTML error page.
The same holds for any address when the client asks for JSON only.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import PortalError, ValidationFailed


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler plus the portal's typed errors.

    ``PortalError`` subclasses carry their own status (409 for transitions and
    stale versions); a Django ``ValidationError`` from a model constraint becomes
    a 400 with field messages instead of a 500.
    """
    if isinstance(exc, ValidationFailed) and exc.field:
        return Response({exc.field: [str(exc.message)]}, status=exc.status_code)
    if isinstance(exc, PortalError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response({"detail": str(exc.detail)}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: JSON for API clients, the portal's friendly page for people."""
    if _wants_json(request):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400`` (a request Django refuses before any view): JSON for API clients."""
    if _wants_json(request):
        return JsonResponse({"detail": str(exceptions.ParseError.default_detail)}, status=400)
    return defaults.bad_request(request, exception)
