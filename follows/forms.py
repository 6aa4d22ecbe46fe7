"""The follow form: an address, what to follow, the language of the e-mail."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import TargetKind


class FollowForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"), max_length=254)
    target = forms.ChoiceField(label=_("What to follow"), choices=TargetKind.choices)
    id = forms.IntegerField(label=_("Number"), min_value=1, max_value=2**62)
    language = forms.ChoiceField(
        label=_("Language of the e-mail"), choices=settings.LANGUAGES, initial="ru", required=False
    )
