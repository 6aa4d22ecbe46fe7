"""The login lockout (django-axes): whose attempts count together, and what it says."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import ngettext

from .models import canonical_username


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The username a failed attempt counts against (``AXES_USERNAME_CALLABLE``).

    The canonical spelling, so "Deputy1", " deputy1 " and "deputy1" share one counter —
    they are one account. Taken from the credentials given to ``authenticate()`` (the
    login page, the token endpoint, the admin's login) or else from the posted form.
    """
    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    if credentials:
        value = credentials.get(field)
    else:
        data = getattr(request, "data", None) or request.POST
        value = data.get(field)
    return canonical_username(value if isinstance(value, str) else None)


def locked_out_message() -> str:
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
