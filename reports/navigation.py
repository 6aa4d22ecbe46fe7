"""Navigation by role: one table, read by the base layout and by the home page.

An entry appears once its page exists (its URL name resolves); until then the
home page lists it under "coming next", so the menu never links to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maslikhat.accounts.models import Role
from maslikhat.accounts.roles import DEPARTMENT_ROLES, SEES_EVERYTHING_ROLES
from maslikhat.core.notifications import UNREAD_SHOWN, unread_count

ANONYMOUS = "anonymous"
EVERYONE = frozenset({*Role.values, ANONYMOUS})
SIGNED_IN = frozenset(Role.values)
# The groups come from the one vocabulary of roles (maslikhat/accounts/roles.py): a menu
# entry is offered to exactly the roles its page lets in.
DEPARTMENT = DEPARTMENT_ROLES
EVERYTHING = SEES_EVERYTHING_ROLES


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    roles: frozenset[str]
    description: str | Promise
    icon: str = "circle"


NAVIGATION: tuple[NavItem, ...] = (
    NavItem(
        "requests:list",
        _("My requests"),
        frozenset({Role.DEPUTY}),
        _("Your deputy requests, their deadlines and the departments' answers."),
        "envelope-paper",
    ),
    NavItem(
        "requests:new",
        _("New request"),
        frozenset({Role.DEPUTY}),
        _("File a deputy request from your phone in two minutes; drafts are saved."),
        "plus-circle",
    ),
    NavItem(
        "requests:list",
        _("Inbox"),
        DEPARTMENT,
        _("Requests addressed to your department with executors and due dates."),
        "inbox",
    ),
    NavItem(
        "requests:list",
        _("Registry"),
        EVERYTHING,
        _("Every deputy request: registration, routing queue, deadlines."),
        "journal-text",
    ),
    NavItem(
        "instructions:list",
        _("Instructions"),
        frozenset({*DEPARTMENT, *EVERYTHING}),
        _("Protocol instructions on control: executors, deadlines, reports."),
        "list-check",
    ),
    NavItem(
        "commitments:list",
        _("Promises"),
        frozenset({Role.DEPUTY, *DEPARTMENT, *EVERYTHING}),
        _("What the departments promised, by when, and whether it was kept."),
        "calendar-check",
    ),
    NavItem(
        "reports:dashboard",
        _("Dashboard"),
        EVERYTHING,
        _("The state of every request and instruction at a glance, with exports."),
        "speedometer2",
    ),
    NavItem(
        "reports:dashboard-department",
        _("Department dashboard"),
        DEPARTMENT,
        _("The department's inbox, what is overdue and each executor's load."),
        "speedometer2",
    ),
    NavItem(
        "reports:dashboard-deputy",
        _("My dashboard"),
        frozenset({Role.DEPUTY}),
        _("Your requests by state, their deadlines and the answers to evaluate."),
        "speedometer2",
    ),
    NavItem(
        "kpi:index",
        _("KPI"),
        EVERYONE,
        _("Two-way ratings: departments rated by deputies, deputies by departments."),
        "bar-chart",
    ),
    NavItem(
        "reports:public",
        _("Public portal"),
        EVERYONE,
        _("What deputies raised and how it was solved, open to every citizen."),
        "globe",
    ),
    NavItem(
        "directory:calendar",
        _("Calendar"),
        frozenset({Role.STAFF, Role.ADMIN}),
        _("The working calendar (public holidays, decreed days) and the deadline rules."),
        "calendar3",
    ),
    NavItem(
        "imports:index",
        _("Import of past records"),
        frozenset({Role.STAFF}),
        _("Requests and instructions of the years before the portal, from Excel or CSV."),
        "box-arrow-in-down",
    ),
    NavItem(
        "api-docs",
        _("API"),
        frozenset({Role.STAFF, Role.ADMIN}),
        _("The REST API and its documentation for integrations."),
        "braces",
    ),
    NavItem(
        "admin:index",
        _("Administration"),
        frozenset({Role.ADMIN}),
        _("Users, departments, deputies and the rest of the directory."),
        "gear",
    ),
)


def role_of(request: HttpRequest) -> str:
    user: Any = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    return str(user.role)


def _resolve(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def items_for(role: str) -> tuple[list[dict[str, Any]], list[NavItem]]:
    """(entries with their URLs that exist now, entries whose pages come later) for ``role``."""
    available: list[dict[str, Any]] = []
    coming: list[NavItem] = []
    for item in NAVIGATION:
        if role not in item.roles:
            continue
        url = _resolve(item.url_name)
        if url is None:
            coming.append(item)
        else:
            available.append({"item": item, "url": url})
    return available, coming


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the menu of the current user's role."""
    role = role_of(request)
    available, _coming = items_for(role)
    # The active entry is the one whose address is the longest prefix of the
    # current page: on /requests/new/ that is "New request", not "My requests".
    matching = [
        e["url"] for e in available if e["url"] != "/" and request.path.startswith(e["url"])
    ]
    active_url = max(matching, key=len, default=None)
    for entry in available:
        entry["active"] = entry["url"] == active_url
    context: dict[str, Any] = {"nav_items": available, "nav_role": role}
    if role != ANONYMOUS:
        # The bell's number: one COUNT per page (of at most a hundred index entries), and
        # only for a signed-in user.
        unread = unread_count(request.user)  # type: ignore[arg-type]
        context["notifications_unread"] = min(unread, UNREAD_SHOWN)
        context["notifications_unread_more"] = unread > UNREAD_SHOWN
    return context
