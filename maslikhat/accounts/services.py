"""Writes of a user's own account settings."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from maslikhat.core.exceptions import ValidationFailed

from .models import User


@transaction.atomic
def user_update_preferences(*, user: User, language: str, email_reminders: bool) -> User:
    """The user chooses the language of their e-mail and whether reminders come by e-mail.

    Escalations of overdue items are e-mailed whatever this setting says.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Choose one of the portal's languages."), field="language")
    user.language = language
    user.email_reminders = bool(email_reminders)
    user.save(update_fields=["language", "email_reminders"])
    return user
