"""The portal's one vocabulary of roles: which role belongs to which group.

Every page, API endpoint, navigation menu and selector asks these functions (through
``Actor`` in ``maslikhat/directory/actors.py``, or ``User`` where no actor is at hand);
nothing else lists roles. The groups follow the table of roles in ``docs/roles.md``:

- **council staff** (аппарат маслихата): registers and routes items, decides extensions,
  creates protocols and instructions, edits the KPI weights, runs survey rounds and
  reviews rater flags — the only role that changes council-wide things;
- **the chair** sees everything staff see and changes nothing except decisions on
  extensions of instructions;
- **administrators** (role ``admin``) manage users and the directory in the Django admin;
  a Django superuser, who can read every table there anyway, also reads everything in the
  portal, changing nothing;
- **department officers** (executor, head) work on what is addressed to their department;
- **who sees everything**: staff, the chair and Django superusers.
"""

from __future__ import annotations

from .models import Role

DEPARTMENT_ROLES: frozenset[str] = frozenset({Role.EXECUTOR, Role.HEAD})
#: The council's own people (staff and the chair): they answer the survey as civil servants.
COUNCIL_ROLES: frozenset[str] = frozenset({Role.STAFF, Role.CHAIR})
#: Roles that read every registered item, every dashboard and every KPI page (and so does a
#: Django superuser, whatever its role).
SEES_EVERYTHING_ROLES: frozenset[str] = COUNCIL_ROLES


def is_council_staff(role: str) -> bool:
    """Maslikhat staff: the one role that registers, routes and administers the KPI."""
    return role == Role.STAFF


def is_chair(role: str) -> bool:
    return role == Role.CHAIR


def administers(role: str, is_superuser: bool) -> bool:
    """Administrators of the Django admin: users and the directory (a superuser is one)."""
    return role == Role.ADMIN or is_superuser


def is_department_role(role: str) -> bool:
    return role in DEPARTMENT_ROLES


def is_deputy_role(role: str) -> bool:
    return role == Role.DEPUTY


def sees_everything(role: str, is_superuser: bool) -> bool:
    """Staff, the chair and Django superusers read every registered item and every dashboard;
    an administrator without superuser rights manages users and the directory only."""
    return role in SEES_EVERYTHING_ROLES or is_superuser


def is_civil_servant(role: str) -> bool:
    """Department officers, staff and the chair answer the survey as civil servants."""
    return role in DEPARTMENT_ROLES or role in COUNCIL_ROLES
