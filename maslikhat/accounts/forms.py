from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from .models import User, canonical_username


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of notifications and e-mail"), choices=settings.LANGUAGES
    )
    email_reminders = forms.BooleanField(
        label=_("Send me deadline reminders by e-mail"),
        required=False,
        help_text=_("Escalations of overdue items are always sent by e-mail."),
    )


class CanonicalUsernameMixin(forms.ModelForm):
    """The admin's user forms store the canonical username and refuse a taken one.

    "Deputy1" when "deputy1" exists is the same account name, refused with a message
    that says why, instead of a second account nobody could log in to.
    """

    def clean_username(self) -> str:
        username = canonical_username(self.cleaned_data.get("username"))
        taken = User.objects.filter(username=username).exclude(pk=self.instance.pk).exists()
        if taken:
            raise forms.ValidationError(
                _(
                    "The username “%(username)s” is taken. Usernames do not depend on "
                    "letter case or surrounding spaces."
                ),
                code="username_taken",
                params={"username": username},
            )
        return username


class PortalUserCreationForm(CanonicalUsernameMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class PortalUserChangeForm(CanonicalUsernameMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
