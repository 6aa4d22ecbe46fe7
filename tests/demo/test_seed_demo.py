"""manage.py seed_demo: the demo directory, the demo accounts, re-runs and seeds."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from demo.context import DemoContext
from demo.directory import feminine_surname, plan_directory
from demo.management.commands import seed_demo
from maslikhat.accounts.models import Role, User
from maslikhat.directory.models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentKind,
    DepartmentMember,
    Deputy,
    District,
    Mandate,
    Party,
    Position,
)


def reference_data() -> dict[str, Any]:
    with open(settings.DIRECTORY_DATA_FILE, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def seed(*args: str) -> str:
    """Run the command; its output is read in English (the catalogs translate it)."""
    out = StringIO()
    with translation.override("en"):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def directory_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the directory: the demo-year steps have tests of their own."""
    monkeypatch.setattr(seed_demo, "STEPS", [])


def dump() -> list[tuple[Any, ...]]:
    """A canonical picture of the demo people: names and every deputy assignment."""
    users = sorted((u.username, u.full_name, u.role) for u in User.objects.all())
    deputies = sorted(
        (
            d.user.username,
            d.party.code,
            d.mandate,
            d.electoral_district,
            d.district.code if d.district else None,
            tuple(sorted(c.code for c in d.commissions.all())),
            tuple(sorted(c.code for c in d.chaired_commissions.all())),
        )
        for d in Deputy.objects.select_related("user", "party", "district").prefetch_related(
            "commissions", "chaired_commissions"
        )
    )
    return [*users, *deputies]


def wipe() -> None:
    """Empty the directory and the users, as a fresh database would be."""
    Commission.objects.update(chair=None)
    Deputy.commissions.through.objects.all().delete()
    Deputy.objects.all().delete()
    DepartmentMember.objects.all().delete()
    User.objects.all().delete()
    Category.objects.all().delete()
    Department.objects.all().delete()
    Commission.objects.all().delete()
    District.objects.all().delete()
    Party.objects.all().delete()
    Convocation.objects.all().delete()


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Deputy,
            DepartmentMember,
            Department,
            Commission,
            Category,
            District,
            Party,
            Convocation,
            Deputy.commissions.through,
        )
    }


@pytest.mark.django_db
def test_seed_loads_convocation_8_with_42_deputies_by_party_seats() -> None:
    seed()
    data = reference_data()
    convocation = Convocation.objects.get()
    assert (convocation.number, convocation.is_current) == (8, True)
    assert (str(convocation.elected_on), str(convocation.ends_on)) == ("2023-03-19", "2028-03-19")

    assert Deputy.objects.filter(convocation=convocation).count() == 42
    seats = {p["code"]: p["seats"] for p in data["convocation"]["parties"]}
    assert sum(seats.values()) == 42
    for code, expected in seats.items():
        assert Deputy.objects.filter(party__code=code).count() == expected, code


@pytest.mark.django_db
def test_seed_gives_16_single_mandate_deputies_two_per_district() -> None:
    seed()
    single = Deputy.objects.filter(mandate=Mandate.DISTRICT)
    numbers = [d.electoral_district or 0 for d in single]
    assert sorted(numbers) == list(range(1, 17))
    for district in District.objects.all():
        assert single.filter(district=district).count() == 2, district.code
    party_list = Deputy.objects.filter(mandate=Mandate.PARTY_LIST)
    assert party_list.count() == 26
    assert not party_list.filter(district__isnull=False).exists()
    assert not party_list.filter(electoral_district__isnull=False).exists()
    # Self-nominated deputies cannot be elected on a party list.
    assert not party_list.filter(party__code="independent").exists()


@pytest.mark.django_db
def test_seed_puts_every_deputy_on_one_or_two_commissions_each_with_a_member_chair() -> None:
    seed()
    assert Commission.objects.count() == 6
    for deputy in Deputy.objects.prefetch_related("commissions"):
        assert 1 <= len(deputy.commissions.all()) <= 2, deputy.user.username
    for commission in Commission.objects.all():
        assert commission.chair is not None, commission.code
        assert commission.members.filter(pk=commission.chair.pk).exists(), commission.code
    chairs = list(Commission.objects.values_list("chair", flat=True))
    assert len(set(chairs)) == 6


@pytest.mark.django_db
def test_seed_loads_departments_akimats_and_categories_from_the_data_file() -> None:
    seed()
    data = reference_data()
    city = Department.objects.filter(kind=DepartmentKind.CITY_DEPARTMENT)
    assert sorted(city.values_list("code", flat=True)) == sorted(
        e["code"] for e in data["city_departments"]
    )
    akimats = Department.objects.filter(kind=DepartmentKind.DISTRICT_AKIMAT)
    assert akimats.count() == 8
    for akimat in akimats.select_related("district"):
        assert akimat.district is not None
        assert akimat.code == akimat.district.code
    alatau = akimats.get(code="alatau")
    assert alatau.name_ru == "Акимат Алатауского района"
    assert alatau.name_kk == "Алатау ауданының әкімдігі"
    assert alatau.name_en == "Akimat of Alatau district"

    assert Category.objects.count() == 15
    improvement = Category.objects.get(code="improvement")
    assert improvement.route_to_district_akimat
    assert improvement.default_department is None
    roads = Category.objects.get(code="roads")
    assert roads.default_department is not None
    assert (roads.default_department.code, roads.route_to_district_akimat) == ("mobility", False)
    assert roads.commission_code == "infrastructure"
    other = Category.objects.get(code="other")
    assert (other.default_department, other.commission_code) == (None, "")


@pytest.mark.django_db
def test_seed_creates_the_demo_accounts_with_roles_and_the_demo_password() -> None:
    output = seed()
    expected = {"admin": Role.ADMIN, "staff": Role.STAFF, "chair": Role.CHAIR}
    expected |= {f"deputy{n}": Role.DEPUTY for n in range(1, 43)}
    for department in Department.objects.all():
        expected[f"{department.code}-head"] = Role.HEAD
        expected[f"{department.code}-exec"] = Role.EXECUTOR
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == set(expected)
    for username, role in expected.items():
        user = users[username]
        assert user.role == role, username
        assert user.email == f"{username}@maslikhat.local"
        assert user.language == "ru"
        assert user.first_name and user.last_name and user.middle_name, username
        assert user.check_password(settings.DEMO_PASSWORD), username
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not users["staff"].is_superuser and not users["deputy1"].is_staff
    assert not Deputy.objects.filter(user=users["chair"]).exists()

    assert "deputy1 … deputy42" in output
    assert "62" in output  # department accounts
    assert settings.DEMO_PASSWORD in output


@pytest.mark.django_db
def test_seed_gives_every_department_exactly_one_head_and_one_executor() -> None:
    seed()
    for department in Department.objects.all():
        members = DepartmentMember.objects.filter(department=department).select_related("user")
        assert sorted((m.position, m.user.username) for m in members) == [
            (Position.EXECUTOR, f"{department.code}-exec"),
            (Position.HEAD, f"{department.code}-head"),
        ]


@pytest.mark.django_db
def test_it_can_run_twice_without_duplicates_or_password_resets() -> None:
    seed()
    before = counts()
    first = dump()
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-the-operator")
    admin.save()
    Category.objects.filter(code="roads").update(auto_route=True)

    output = seed()

    assert counts() == before
    assert dump() == first
    assert User.objects.get(username="admin").check_password("changed-by-the-operator")
    assert Category.objects.get(code="roads").auto_route  # staff's choice survives
    assert "kept their passwords" in output


@pytest.mark.django_db
def test_it_is_deterministic_per_seed() -> None:
    seed("--seed", "7")
    first = dump()
    wipe()
    seed("--seed", "7")
    assert dump() == first

    wipe()
    seed("--seed", "8")
    other = dump()
    assert other != first
    assert len(other) == len(first)

    # Re-seeding an existing database with the first seed restores its picture.
    seed("--seed", "7")
    assert dump() == first


def test_it_plans_without_the_database_and_spells_female_names() -> None:
    data = reference_data()
    assert plan_directory(data=data, seed=1) == plan_directory(data=data, seed=1)
    names = [a.name.full_name for a in plan_directory(data=data, seed=1).accounts]
    assert len(names) == len(set(names))
    assert feminine_surname("Ахметов") == "Ахметова"
    assert feminine_surname("Нуртазин") == "Нуртазина"
    assert feminine_surname("Ким") == "Ким"


@pytest.mark.django_db
def test_it_skips_with_if_empty_when_users_exist() -> None:
    User.objects.create_user(username="someone", password="x")
    output = seed("--if-empty")
    assert "already has users" in output
    assert User.objects.count() == 1
    assert not Department.objects.exists()


@pytest.mark.django_db
def test_it_seeds_with_if_empty_on_an_empty_database() -> None:
    seed("--if-empty", "--scale", "3")
    assert Deputy.objects.count() == 42


STEP_CALLS: list[DemoContext] = []


def record_step(context: DemoContext) -> str:
    STEP_CALLS.append(context)
    return "recorded step ran"


@pytest.mark.django_db
def test_it_runs_the_registered_steps_with_seed_and_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed_demo, "STEPS", [record_step])
    STEP_CALLS.clear()
    output = seed("--seed", "5", "--scale", "2")
    assert "recorded step ran" in output
    [context] = STEP_CALLS
    assert (context.seed, context.scale) == (5, 2)
    assert len(context.directory.deputies) == 42
    assert context.directory.staff.username == "staff"
    assert context.rng("x").random() == DemoContext(context.directory, seed=5).rng("x").random()
