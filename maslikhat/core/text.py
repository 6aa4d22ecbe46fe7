"""User text: one limit and one cleaning rule for every long text field of the portal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .exceptions import ValidationFailed

#: The longest text a user may type into one field (a request, an answer, a report).
TEXT_MAX = 20_000


def clean_text(value: str | None, *, field: str, required: bool, limit: int = TEXT_MAX) -> str:
    """Stripped user text; a clear 400 on the field when it is missing or too long."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_("This field is required."), field=field)
    if len(text) > limit:
        raise ValidationFailed(
            _("Too long: at most %(limit)d characters.") % {"limit": limit}, field=field
        )
    return text
