from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of notifications and e-mail"), choices=settings.LANGUAGES
    )
    email_reminders = forms.BooleanField(
        label=_("Send me deadline reminders by e-mail"),
        required=False,
        help_text=_("Escalations of overdue items are always sent by e-mail."),
    )
