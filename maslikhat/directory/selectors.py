"""Reads of the directory, and who sees which entries.

The directory is public information (the public portal shows deputies and
departments), but retired entries — inactive deputies and departments — are
shown only to those who see everything (staff, the chair, superusers).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from maslikhat.accounts.models import User

from .models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentMember,
    Deputy,
    District,
)


def sees_retired_entries(user: User | AnonymousUser) -> bool:
    """Staff, the chair and superusers (``maslikhat/accounts/roles.py``)."""
    return bool(getattr(user, "is_authenticated", False) and user.sees_everything)  # type: ignore[union-attr]


def convocation_list() -> QuerySet[Convocation]:
    return Convocation.objects.all()


def current_convocation() -> Convocation | None:
    return Convocation.objects.filter(is_current=True).first()


def commission_list() -> QuerySet[Commission]:
    return Commission.objects.select_related("convocation", "chair__user")


def district_list() -> QuerySet[District]:
    return District.objects.all()


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("default_department")


def department_list(*, user: User | AnonymousUser) -> QuerySet[Department]:
    qs = Department.objects.select_related("district")
    if not sees_retired_entries(user):
        qs = qs.filter(is_active=True)
    return qs


def deputy_list(*, user: User | AnonymousUser) -> QuerySet[Deputy]:
    qs = Deputy.objects.select_related("user", "party", "district", "convocation").prefetch_related(
        "commissions"
    )
    if not sees_retired_entries(user):
        qs = qs.filter(is_active=True)
    return qs


def department_of(user: User) -> Department | None:
    """The department a head or executor works in (None for everyone else)."""
    membership = (
        DepartmentMember.objects.select_related("department")
        .filter(user=user, is_active=True)
        .first()
    )
    return membership.department if membership else None


def deputy_of(user: User) -> Deputy | None:
    return Deputy.objects.filter(user=user).first()
