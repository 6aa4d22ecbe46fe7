"""Who imports past records: the council's office (staff) and Django superusers."""

from __future__ import annotations

from typing import Any

from maslikhat.accounts import roles


def can_import(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return roles.is_council_staff(user.role) or bool(user.is_superuser)
