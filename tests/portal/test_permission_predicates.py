"""Every ``can_*`` predicate agrees with its visibility selector, for every persona and item.

Predicates (``requests_app/permissions.py``, ``requests_app/instruction_permissions.py``,
``kpi/permissions.py``) decide who may act on an item; the selectors decide who sees it.
They must never disagree: a predicate that lets someone act on an item their selector
hides would turn a 404 into an action on someone else's item. The predicates are found
by name, so a new ``can_*`` is checked without touching this file.
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import pytest
from django.db.models import Model, QuerySet

from instructions import permissions as instruction_permissions
from instructions.selectors import instruction_visible
from kpi import permissions as kpi_permissions
from kpi import selectors as kpi_selectors
from kpi.models import ActivityKind, DeputyActivity
from maslikhat.accounts.models import Role, User
from maslikhat.directory.actors import Actor, actor_for
from requests_app import permissions
from requests_app.models import RequestStatus
from requests_app.selectors import deputy_request_visible
from tests.factories import UserFactory
from tests.instruction_helpers import World, create_instruction, make_world
from tests.requests_helpers import make_request

pytestmark = pytest.mark.django_db

PERSONAS = (
    "alice",
    "bob",
    "carol",
    "finance_head",
    "finance_exec",
    "mobility_head",
    "mobility_exec",
    "energy_head",
    "staff",
    "chair",
    "admin",
    "plain_admin",
    "anonymous",
)


def item_predicates(module: ModuleType) -> dict[str, Callable[[Actor, Any], bool]]:
    """The module's ``can_*(actor, item)`` predicates, by name."""
    return {
        name: function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("can_")
        and function.__module__ == module.__name__
        and list(inspect.signature(function).parameters) == ["actor", "item"]
    }


def actors(world: World) -> dict[str, Actor]:
    plain_admin = UserFactory.create(username="plain-admin", role=Role.ADMIN, is_staff=True)
    users: dict[str, User | None] = {
        name: world.user(name) for name in PERSONAS if name not in ("plain_admin", "anonymous")
    }
    users["plain_admin"] = plain_admin
    users["anonymous"] = None
    return {name: actor_for(user) for name, user in users.items()}


def disagreements(
    predicates: dict[str, Callable[[Actor, Any], bool]],
    everyone: dict[str, Actor],
    items: Mapping[str, Model],
    visible: Callable[[Actor], QuerySet[Any]],
) -> list[str]:
    """(predicate, persona, item) where the predicate allows what the selector hides."""
    found = []
    for who, actor in everyone.items():
        seen = set(
            visible(actor)
            .filter(pk__in=[i.pk for i in items.values()])
            .values_list("pk", flat=True)
        )
        for label, item in items.items():
            for name, predicate in predicates.items():
                if predicate(actor, item) and item.pk not in seen:
                    found.append(f"{name}: {who} on {label}")
    return found


@pytest.fixture
def world(directory: Any) -> World:
    return make_world(directory)


def test_the_predicates_are_found(world: World) -> None:
    assert {"can_route", "can_evaluate", "can_read_correspondence", "can_attach"} <= set(
        item_predicates(permissions)
    )
    assert {"can_report", "can_decide_report", "can_write_thread"} <= set(
        item_predicates(instruction_permissions)
    )
    assert "can_see" not in item_predicates(permissions)
    assert "can_see" not in item_predicates(instruction_permissions)


def test_no_request_predicate_allows_what_the_request_selector_hides(world: World) -> None:
    d = world.d
    items = {
        "alice's draft": make_request(d, status=RequestStatus.DRAFT),
        "alice's request at finance": make_request(
            d, status=RequestStatus.IN_PROGRESS, co_departments=[d.mobility]
        ),
        "bob's submitted request": make_request(d, status=RequestStatus.SUBMITTED, author=d.bob),
        "bob's published closed request": make_request(
            d, status=RequestStatus.CLOSED, author=d.bob, lead=d.mobility, is_public=True
        ),
        "bob's answered request at mobility": make_request(
            d, status=RequestStatus.ANSWERED, author=d.bob, lead=d.mobility
        ),
    }
    everyone = actors(world)
    found = disagreements(item_predicates(permissions), everyone, items, deputy_request_visible)
    assert found == [], "\n".join(found)
    # And the check is not empty: staff route, the author evaluates, the head assigns.
    assert permissions.can_route(everyone["staff"], items["bob's submitted request"])
    assert permissions.can_evaluate(everyone["bob"], items["bob's answered request at mobility"])
    assert permissions.can_assign(everyone["finance_head"], items["alice's request at finance"])


def test_no_instruction_predicate_allows_what_the_instruction_selector_hides(
    world: World,
) -> None:
    items = {
        "finance's, co-executed by mobility, controlled by alice": create_instruction(world),
        "energy's, controlled by the commission": create_instruction(
            world, lead=world.energy, co_departments=(), controller_deputy=None
        ),
    }
    everyone = actors(world)
    found = disagreements(
        item_predicates(instruction_permissions), everyone, items, instruction_visible
    )
    assert found == [], "\n".join(found)
    controlled = items["energy's, controlled by the commission"]
    assert instruction_permissions.can_decide_report(everyone["carol"], controlled)
    assert instruction_permissions.can_report(everyone["energy_head"], controlled)


def test_who_sees_an_activity_is_exactly_who_the_activity_selector_returns_it_to(
    world: World,
) -> None:
    d = world.d
    activities = [
        DeputyActivity.objects.create(
            deputy=deputy,
            kind=ActivityKind.RECEPTION,
            date=datetime.date(2026, 5, 4),
            recorded_by=deputy.user,
        )
        for deputy in (d.alice, d.bob, world.carol)
    ]
    for who, actor in actors(world).items():
        listed = set(kpi_selectors.activity_list(actor=actor).values_list("pk", flat=True))
        for activity in activities:
            allowed = kpi_permissions.can_see_activity(actor, activity.deputy_id)
            assert allowed == (activity.pk in listed), (who, activity.deputy_id)
            # Whoever may record an activity for a deputy sees it afterwards.
            if kpi_permissions.can_record_activity(actor, activity.deputy_id):
                assert allowed, (who, activity.deputy_id)


def test_the_kpi_pages_predicates_follow_the_roles_table(world: World) -> None:
    everyone = actors(world)
    editors = {who for who, a in everyone.items() if kpi_permissions.can_edit_weights(a)}
    reviewers = {who for who, a in everyone.items() if kpi_permissions.can_review_flags(a)}
    readers = {who for who, a in everyone.items() if kpi_permissions.can_see_flags(a)}
    assert editors == reviewers == {"staff"}
    # The demo administrator is a Django superuser; a plain administrator manages users only.
    assert readers == {"staff", "chair", "admin"}
    # Every actor who acts on the flags or weights also sees their pages.
    for who, actor in everyone.items():
        if kpi_permissions.can_edit_weights(actor):
            assert kpi_permissions.can_see_weights_page(actor), who
        if kpi_permissions.can_review_flags(actor):
            assert kpi_permissions.can_see_flags(actor), who
