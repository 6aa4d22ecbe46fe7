"""Who is acting: a user with their role, department and deputy, resolved once per request.

Permissions (``can_*`` predicates) and visibility selectors take an ``Actor``
rather than a bare user, so they stay pure functions and never query. Which role
belongs to which group (staff, administrators, departments, who sees everything) is
said once, in ``maslikhat/accounts/roles.py``; the properties here ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maslikhat.accounts import roles
from maslikhat.accounts.models import User

from .models import DepartmentMember, Deputy, Position


@dataclass(frozen=True)
class Actor:
    user: User | None
    role: str
    department_id: int | None = None
    is_department_head: bool = False
    deputy_id: int | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def is_deputy(self) -> bool:
        return self.deputy_id is not None

    @property
    def is_department(self) -> bool:
        return self.department_id is not None

    @property
    def is_staff(self) -> bool:
        """Maslikhat staff: registers, routes, decides extensions, administers the KPI."""
        return roles.is_council_staff(self.role)

    @property
    def is_chair(self) -> bool:
        return roles.is_chair(self.role)

    @property
    def is_admin(self) -> bool:
        """An administrator of the Django admin (users and the directory); reads, never acts."""
        return roles.administers(self.role, self._is_superuser)

    @property
    def is_civil_servant(self) -> bool:
        """Department officers, staff and the chair (the survey's civil servants' group)."""
        return roles.is_civil_servant(self.role)

    @property
    def sees_everything(self) -> bool:
        """Staff, the chair and Django superusers see every registered item."""
        return roles.sees_everything(self.role, self._is_superuser)

    @property
    def _is_superuser(self) -> bool:
        return bool(self.user is not None and self.user.is_superuser)

    def in_department(self, department_id: int | None) -> bool:
        return department_id is not None and self.department_id == department_id

    def heads(self, department_id: int | None) -> bool:
        return self.is_department_head and self.in_department(department_id)


ANONYMOUS = Actor(user=None, role="anonymous")


def actor_for(user: Any) -> Actor:
    """The actor of ``user`` (anonymous for ``AnonymousUser``), cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_portal_actor", None)
    if cached is not None:
        return cached
    department_id = None
    is_head = False
    deputy_id = None
    if roles.is_department_role(user.role):
        membership = (
            DepartmentMember.objects.filter(user=user, is_active=True, department__is_active=True)
            .values("department_id", "position")
            .first()
        )
        if membership:
            department_id = membership["department_id"]
            is_head = membership["position"] == Position.HEAD
    elif roles.is_deputy_role(user.role):
        deputy_id = (
            Deputy.objects.filter(user=user, is_active=True).values_list("pk", flat=True).first()
        )
    actor = Actor(
        user=user,
        role=user.role,
        department_id=department_id,
        is_department_head=is_head,
        deputy_id=deputy_id,
    )
    user._portal_actor = actor
    return actor


def forget_actor(user: Any) -> None:
    """Drop the cached actor (after a change of membership in the same request)."""
    if hasattr(user, "_portal_actor"):
        del user._portal_actor
