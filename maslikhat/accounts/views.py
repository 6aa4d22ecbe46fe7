"""Login and logout pages (Django's auth views with the portal's templates)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from .forms import PreferencesForm
from .lockout import locked_out_message
from .models import canonical_username
from .services import user_update_preferences


class LoginForm(AuthenticationForm):
    username = UsernameField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    error_messages = {
        "invalid_login": _(
            "Wrong username or password. The password is case-sensitive, the username is not."
        ),
        "inactive": _("This account is disabled. Ask the maslikhat staff to enable it."),
    }

    def clean_username(self) -> str:
        """The canonical username: the lookup and the lockout see " Deputy1 " as "deputy1"."""
        return canonical_username(self.cleaned_data.get("username"))


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def locked_out(
    request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object
) -> HttpResponse:
    """What django-axes answers after too many failed logins (HTTP 429): JSON for the API."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": locked_out_message()}, status=429)
    return render(
        request, "accounts/locked_out.html", {"message": locked_out_message()}, status=429
    )


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """The user's own settings: language of e-mail, reminders by e-mail or not."""
    user = request.user
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            user_update_preferences(
                user=user,  # type: ignore[arg-type]
                language=form.cleaned_data["language"],
                email_reminders=form.cleaned_data["email_reminders"],
            )
            messages.success(request, _("Your settings are saved."))
            return redirect("accounts:preferences")
        status = 400
    else:
        form = PreferencesForm(
            initial={"language": user.language, "email_reminders": user.email_reminders}  # type: ignore[union-attr]
        )
        status = 200
    return render(request, "accounts/preferences.html", {"form": form}, status=status)
