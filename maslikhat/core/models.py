"""Shared model building blocks.

Directory entries (departments, commissions, districts, categories, parties) keep
their names in Russian, Kazakh and English side by side; ``name`` picks the one of
the active language, falling back to Russian, the council's default language.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

FALLBACK_LANGUAGE = "ru"


def pick_language(*, ru: str, kk: str, en: str, language: str | None = None) -> str:
    """The text for ``language`` (default: the active one), else the Russian text."""
    code = (language or get_language() or FALLBACK_LANGUAGE)[:2]
    return {"ru": ru, "kk": kk, "en": en}.get(code) or ru


class TranslatedName(models.Model):
    """A name stored in the three languages of the portal."""

    name_ru = models.CharField(_("name (Russian)"), max_length=300)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=300, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick_language(ru=self.name_ru, kk=self.name_kk, en=self.name_en)


# The models of the shared machinery live in their own modules; importing them
# here (after ``TranslatedName``, which they build on) registers them with the app.
from .deadlines import CalendarDay, CalendarDayKind, DayUnit, DeadlineRule  # noqa: E402
from .digests import OutgoingEmail  # noqa: E402
from .extensions import Extension, ExtensionStatus  # noqa: E402
from .notifications import Notification  # noqa: E402
from .threads import Attachment, AuditEvent, Message, ThreadReadMark  # noqa: E402

__all__ = [
    "Attachment",
    "AuditEvent",
    "CalendarDay",
    "CalendarDayKind",
    "DayUnit",
    "DeadlineRule",
    "Extension",
    "ExtensionStatus",
    "Message",
    "Notification",
    "OutgoingEmail",
    "ThreadReadMark",
    "TranslatedName",
    "pick_language",
]
