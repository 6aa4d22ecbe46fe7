"""A deputy's instruction counters (``reports.instruction_counts``): counted in one query
over the two ways a deputy controls an instruction — themselves, or as chair of the
controlling commission — each instruction once, equal to the figures over everything the
deputy sees (``instructions.selectors.instruction_visible``), with or without today's
build, in a number of queries that does not grow with the instructions."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from instructions.models import Instruction
from instructions.selectors import instruction_visible
from maslikhat.directory.actors import actor_for
from reports.daily_counts import build_daily_counts
from reports.instruction_counts import instruction_counts
from reports.selectors import live_instruction_counters
from tests.factories import CommissionFactory, DemoDirectory
from tests.instruction_helpers import World, make_world
from tests.reports.test_instruction_daily_counts import bulk_instructions

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(directory: DemoDirectory) -> World:
    return make_world(directory)


def controllers(world: World, instructions: list[Instruction]) -> None:
    """Every mix of controllers: alice alone, carol's commission alone, both carol herself
    and her commission (counted once for her), alice and carol's commission (each sees
    it), and a commission bob chairs (neither alice nor carol sees it)."""
    d = world.d
    bobs = CommissionFactory.create(convocation=d.convocation, chair=d.bob)
    ids = [i.pk for i in instructions]
    Instruction.objects.filter(pk__in=ids[0::5]).update(
        controller_deputy=world.carol, controller_commission=world.commission
    )
    Instruction.objects.filter(pk__in=ids[1::5]).update(
        controller_deputy=d.alice, controller_commission=world.commission
    )
    Instruction.objects.filter(pk__in=ids[2::5]).update(
        controller_deputy=None, controller_commission=bobs
    )
    Instruction.objects.filter(pk__in=ids[3::10]).update(
        controller_deputy=d.alice, controller_commission=bobs
    )


def queries(read: object) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        result = read()  # type: ignore[operator]
    return result, len(captured.captured_queries)


@pytest.mark.parametrize("built", [False, True])
def test_a_deputys_counters_count_each_instruction_they_control_once(
    world: World, built: bool
) -> None:
    controllers(world, bulk_instructions(world, 120))
    if built:
        build_daily_counts()
    today = timezone.localdate()
    d = world.d
    seen = {}
    for deputy in (d.alice, world.carol, d.bob):
        actor = actor_for(deputy.user)
        counted, n = queries(lambda actor=actor: instruction_counts(actor, today))
        assert counted == live_instruction_counters(actor, today), deputy.user.username
        assert counted == instruction_counts(actor, today, live=True)
        assert n == 1
        seen[deputy.pk] = counted
        visible = instruction_visible(actor)
        assert seen[deputy.pk]["total"] == visible.count() == len(set(visible))
    assert seen[d.alice.pk]["total"] > 0 and seen[world.carol.pk]["total"] > 0
    assert seen[d.bob.pk]["total"] > 0
    # Carol's commission's instructions that alice controls are carol's too.
    both = Instruction.objects.filter(
        controller_deputy=d.alice, controller_commission=world.commission
    ).count()
    assert both > 0


def test_a_deputy_without_instructions_sees_zeros(world: World) -> None:
    bulk_instructions(world, 20)
    actor = actor_for(world.d.bob.user)
    counted = instruction_counts(actor, timezone.localdate())
    assert set(counted.values()) == {0}
    assert counted == live_instruction_counters(actor, timezone.localdate())
