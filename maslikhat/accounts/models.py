"""Users of the portal and their roles."""

from __future__ import annotations

import unicodedata
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a user is in the council–akimat interaction (code names are fixed by the API)."""

    DEPUTY = "deputy", _("Deputy")
    EXECUTOR = "executor", _("Department executor")
    HEAD = "head", _("Department head")
    STAFF = "staff", _("Maslikhat staff")
    CHAIR = "chair", _("Chair of the maslikhat")
    ADMIN = "admin", _("Administrator")


def canonical_username(username: str | None) -> str:
    """The one spelling of a username: Unicode NFKC, no surrounding spaces, lower case.

    Stored usernames are canonical, and whatever a person types at the login page, in
    the API's token request or in the admin is brought to the same spelling before it
    is looked up — so " Deputy1 " and "deputy1" are one account and one lockout counter.
    """
    return unicodedata.normalize("NFKC", username or "").strip().lower()


class PortalUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        """Every login path (pages, API, admin) finds the user by the canonical username."""
        return self.get(**{self.model.USERNAME_FIELD: canonical_username(username)})

    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra: Any
    ) -> User:
        """``createsuperuser`` makes an administrator, not a deputy (the default role)."""
        extra.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra)


class User(AbstractUser):
    """A person who logs in: a deputy, a department officer, council staff, the chair or an admin.

    The role decides what the user sees and does; a department officer's
    department and a deputy's mandate live in the directory app.
    """

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.DEPUTY)
    middle_name = models.CharField(_("patronymic"), max_length=150, blank=True)
    language = models.CharField(
        _("language for e-mail"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("Notifications and e-mail are sent to the user in this language."),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email_reminders = models.BooleanField(
        _("e-mail reminders"),
        default=True,
        help_text=_(
            "Include deadline reminders and requests to evaluate answers in the daily e-mail. "
            "Escalations of overdue items are always e-mailed."
        ),
    )

    objects: ClassVar[PortalUserManager] = PortalUserManager()

    @classmethod
    def normalize_username(cls, username: str) -> str:
        """Used by ``create_user``, ``createsuperuser`` and ``clean()`` (so the admin too)."""
        return canonical_username(username)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    @property
    def full_name(self) -> str:
        parts = [self.last_name, self.first_name, self.middle_name]
        return " ".join(p for p in parts if p) or self.username

    @property
    def is_department_officer(self) -> bool:
        from .roles import is_department_role  # roles.py builds on Role, defined above

        return is_department_role(self.role)

    @property
    def sees_everything(self) -> bool:
        """Staff, the chair and superusers (see ``roles.py``, the one vocabulary of roles)."""
        from .roles import sees_everything

        return sees_everything(self.role, self.is_superuser)

    def __str__(self) -> str:
        return self.full_name
