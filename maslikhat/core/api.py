"""API plumbing shared by every app: the exception handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
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
