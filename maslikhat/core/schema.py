"""The OpenAPI schema of ``/api/schema/`` documents the errors the API really returns.

drf-spectacular documents the successful answer of each operation from its serializers. The
error answers are the same for every endpoint of the portal (``core.api.exception_handler``),
so they are added here once, by :class:`PortalAutoSchema`, instead of on every view:

- 400 ``ValidationError`` where the operation takes input (a body or query parameters):
  ``{"field": ["message"], ...}``, or ``{"detail": ...}`` for a rule about the whole input;
- 401 ``Error`` where the view authenticates (no or a bad token);
- 403 ``Error`` where the view can refuse: a permission, a CSRF check on a write, or a service's
  ``ActionForbidden``;
- 404 ``Error`` where the path names an object (missing and not visible answer alike) and on
  paginated lists (a page past the end);
- 409 ``Error`` on writes of authenticated views: a transition not allowed in the item's
  current state, or a stale ``version``.

A code an operation already documents with a body is left as it is; one documented by a
description alone gets the error body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import permissions

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: ``{"detail": "...", "code": "..."}``: what 401, 403, 404 and 409 answer.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error: a message for the user and, for the portal's own errors, a code.",
    "properties": {
        "detail": {"type": "string", "description": "The message, in the user's language."},
        "code": {
            "type": "string",
            "description": "A stable code: transition_not_allowed, stale_version, forbidden, …",
        },
    },
    "required": ["detail"],
}

#: What a 400 answers: messages by field (nested for lists and objects), or a ``detail``.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "Invalid input: each field's name maps to its messages (an object of them for nested "
        "input); a rule about the whole input answers `detail` or `non_field_errors`."
    ),
    "properties": {
        "detail": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
        "code": {"type": "string"},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {"oneOf": [{"type": "array"}, {"type": "object"}]},
}

ERRORS: dict[str, tuple[str, str]] = {
    "400": ("ValidationError", "The input is invalid; the messages say what to correct."),
    "401": ("Error", "Not signed in: no token, or an unknown or inactive one."),
    "403": ("Error", "The user may not take this action."),
    "404": ("Error", "No such object, or one the user may not see; or a page past the end."),
    "409": (
        "Error",
        "Not allowed in the item's current state, or the item changed since it was loaded.",
    ),
}


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the portal's error answers (see the module docstring)."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if responses.get(code, {}).get("content"):
                continue  # the view documents this answer itself
            name, description = ERRORS[code]
            responses[code] = {
                "description": responses.get(code, {}).get("description") or description,
                "content": {"application/json": {"schema": self._error_component(name)}},
            }
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        query = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        writes = self.method in UNSAFE_METHODS
        authenticates = bool(getattr(self.view, "authentication_classes", []))
        public = all(
            issubclass(permission, permissions.AllowAny)
            for permission in getattr(self.view, "permission_classes", [])
        )
        codes = []
        if writes or query or "requestBody" in operation:
            codes.append("400")
        if authenticates:
            codes.append("401")
        if authenticates and (writes or not public):
            codes.append("403")
        if "{" in self.path or "page" in query:
            codes.append("404")
        if writes and authenticates:
            codes.append("409")
        return codes

    def _error_component(self, name: str) -> dict[str, str]:
        schema = VALIDATION_ERROR_SCHEMA if name == "ValidationError" else ERROR_SCHEMA
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref
