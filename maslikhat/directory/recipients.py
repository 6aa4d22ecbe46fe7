"""Who hears of an item: a department's officers and heads, the maslikhat staff.

Read in two queries whatever the number of items, for the reminder sweep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from maslikhat.accounts.models import Role, User

from .models import DepartmentMember, Position


class Recipients:
    """The officers and heads of the departments involved, and staff, read in one go."""

    def __init__(self, department_ids: Iterable[int | None], *, need_staff: bool) -> None:
        ids = {pk for pk in department_ids if pk}
        self.officers: dict[int, list[User]] = defaultdict(list)
        self.heads: dict[int, list[User]] = defaultdict(list)
        if ids:
            members = DepartmentMember.objects.filter(
                department_id__in=ids, is_active=True, user__is_active=True
            ).select_related("user")
            for member in members:
                self.officers[member.department_id].append(member.user)
                if member.position == Position.HEAD:
                    self.heads[member.department_id].append(member.user)
        self.staff = (
            list(User.objects.filter(role=Role.STAFF, is_active=True)) if need_staff else []
        )

    def executor_or_officers(self, department_id: int | None, executor: User | None) -> list[User]:
        if executor is not None and executor.is_active:
            return [executor]
        return self.officers.get(department_id or 0, [])


def department_users(
    department_ids: Iterable[int | None], *, heads_only: bool = False
) -> list[User]:
    """The active officers (or only the heads) of the departments named; none for no id."""
    ids = [pk for pk in department_ids if pk]
    if not ids:
        return []
    members = DepartmentMember.objects.filter(
        department_id__in=ids, is_active=True, user__is_active=True
    ).select_related("user")
    if heads_only:
        members = members.filter(position=Position.HEAD)
    return [member.user for member in members]


def staff_users() -> list[User]:
    """The active maslikhat staff: they register, route and decide extensions."""
    return list(User.objects.filter(role=Role.STAFF, is_active=True))
