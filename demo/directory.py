"""Demo directory: invented people in the real structure of the Almaty maslikhat and akimat.

Two halves. ``plan_directory`` is pure: from the reference data and a seed it
decides every demo account, name and deputy assignment, drawing only from its
own ``random.Random(seed)``, so the same seed always gives the same plan.
``seed_directory`` writes that plan (after loading the reference data) as
upserts keyed on usernames, so running it twice creates nothing twice.

The names and the officers' titles are data: ``demo/data/names.json``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from maslikhat.accounts.models import Role, User
from maslikhat.directory.models import (
    Commission,
    DepartmentKind,
    DepartmentMember,
    Deputy,
    Mandate,
    Position,
)
from maslikhat.directory.services import (
    ReferenceDirectory,
    directory_load_reference,
    read_reference_data,
)

from .context import DEFAULT_SEED, DemoDirectory
from .data import load, pairs, strings

EMAIL_DOMAIN = "maslikhat.local"
DEMO_LANGUAGE = "ru"
# Self-nominated deputies cannot stand on a party list: they are all single-mandate.
INDEPENDENT_PARTY_CODE = "independent"
SINGLE_MANDATE_SEATS_PER_DISTRICT = 2
# Shares of the invented population: Almaty is mostly Kazakh, the council mostly male.
KAZAKH_NAME_SHARE = 0.75
FEMALE_DEPUTY_SHARE = 0.3
FEMALE_OFFICER_SHARE = 0.5
SECOND_COMMISSION_SHARE = 0.5
HEAD_SUFFIX = "-head"
EXECUTOR_SUFFIX = "-exec"


# --- Names --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamePool:
    """Names of one tradition; patronymics as (male, female) pairs, surnames in male form."""

    surnames: tuple[str, ...]
    male_first_names: tuple[str, ...]
    female_first_names: tuple[str, ...]
    patronymics: tuple[tuple[str, str], ...]

    @classmethod
    def from_data(cls, data: Mapping[str, list[Any]]) -> NamePool:
        return cls(
            surnames=strings(data["surnames"]),
            male_first_names=strings(data["male_first_names"]),
            female_first_names=strings(data["female_first_names"]),
            patronymics=pairs(data["patronymics"]),
        )


_NAMES = load("names")
KAZAKH_NAMES = NamePool.from_data(_NAMES["kazakh"])
RUSSIAN_NAMES = NamePool.from_data(_NAMES["russian"])
# (head, executor) titles by department kind.
OFFICER_TITLES: dict[str, tuple[str, str]] = {
    kind: (head, executor) for kind, (head, executor) in _NAMES["officer_titles"].items()
}


def feminine_surname(surname: str) -> str:
    """The female form of a surname: Ахметов → Ахметова, Мусин → Мусина; Ким stays Ким."""
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname.removesuffix("ий") + "ая"
    return surname


@dataclass(frozen=True)
class PersonName:
    last_name: str
    first_name: str
    middle_name: str

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.middle_name}"


class NameGenerator:
    """Invents distinct full names from the pools, drawing from the caller's ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[PersonName] = set()

    def person(self, *, female_share: float) -> PersonName:
        female = self.rng.random() < female_share
        pool = KAZAKH_NAMES if self.rng.random() < KAZAKH_NAME_SHARE else RUSSIAN_NAMES
        # The pools hold thousands of combinations; a handful of tries always suffices.
        while True:
            surname = self.rng.choice(pool.surnames)
            male_patronymic, female_patronymic = self.rng.choice(pool.patronymics)
            if female:
                name = PersonName(
                    feminine_surname(surname),
                    self.rng.choice(pool.female_first_names),
                    female_patronymic,
                )
            else:
                name = PersonName(surname, self.rng.choice(pool.male_first_names), male_patronymic)
            if name not in self.used:
                self.used.add(name)
                return name


# --- The plan (pure) ---------------------------------------------------------------------


@dataclass(frozen=True)
class AccountPlan:
    """One demo login."""

    username: str
    role: Role
    name: PersonName
    is_superuser: bool = False
    department_code: str | None = None
    position: Position | None = None
    title: str = ""

    @property
    def email(self) -> str:
        return f"{self.username}@{EMAIL_DOMAIN}"


@dataclass(frozen=True)
class DeputyPlan:
    """One deputy's mandate; the account is the ``AccountPlan`` with the same username."""

    username: str
    party_code: str
    mandate: Mandate
    electoral_district: int | None
    district_code: str | None
    commission_codes: tuple[str, ...]


@dataclass(frozen=True)
class DirectoryPlan:
    accounts: tuple[AccountPlan, ...]
    deputies: tuple[DeputyPlan, ...]
    commission_chairs: dict[str, str] = field(default_factory=dict)  # commission → username


def department_usernames(code: str) -> tuple[str, str]:
    """A department's demo head and executor: ``<code>-head``, ``<code>-exec``."""
    return f"{code}{HEAD_SUFFIX}", f"{code}{EXECUTOR_SUFFIX}"


def _plan_deputies(*, data: Mapping[str, Any], rng: random.Random) -> tuple[DeputyPlan, ...]:
    convocation = data["convocation"]
    seats = [party["code"] for party in convocation["parties"] for _ in range(party["seats"])]
    if convocation.get("seats") is not None and len(seats) != convocation["seats"]:
        raise ValueError(
            f"Reference data: party seats add up to {len(seats)}, not {convocation['seats']}."
        )
    district_codes = [d["code"] for d in data["districts"]]
    single_mandate_count = SINGLE_MANDATE_SEATS_PER_DISTRICT * len(district_codes)
    independents = [i for i, code in enumerate(seats) if code == INDEPENDENT_PARTY_CODE]
    party_members = [i for i, code in enumerate(seats) if code != INDEPENDENT_PARTY_CODE]
    if len(independents) > single_mandate_count or len(seats) < single_mandate_count:
        raise ValueError("Reference data: the seats do not fit the single-mandate districts.")
    single_mandate = independents + rng.sample(
        party_members, single_mandate_count - len(independents)
    )
    rng.shuffle(single_mandate)
    # Electoral districts 1..16 in pairs over the city districts: 1–2 Alatau, 3–4 Almaly, …
    electoral = {
        seat: (number, district_codes[(number - 1) // SINGLE_MANDATE_SEATS_PER_DISTRICT])
        for number, seat in enumerate(single_mandate, start=1)
    }

    order = list(range(len(seats)))  # deputy1 … deputyN in a seeded order, parties mixed
    rng.shuffle(order)

    commission_codes = [c["code"] for c in data["commissions"]]
    plans = []
    for position, seat in enumerate(order):
        # Every commission gets the same share of first memberships; about half
        # of the deputies also sit on a second one.
        first = commission_codes[position % len(commission_codes)]
        codes = [first]
        if len(commission_codes) > 1 and rng.random() < SECOND_COMMISSION_SHARE:
            codes.append(rng.choice([c for c in commission_codes if c != first]))
        number, district_code = electoral.get(seat, (None, None))
        plans.append(
            DeputyPlan(
                username=f"deputy{position + 1}",
                party_code=seats[seat],
                mandate=Mandate.DISTRICT if seat in electoral else Mandate.PARTY_LIST,
                electoral_district=number,
                district_code=district_code,
                commission_codes=tuple(codes),
            )
        )
    return tuple(plans)


def _plan_commission_chairs(
    *, deputies: Sequence[DeputyPlan], data: Mapping[str, Any], rng: random.Random
) -> dict[str, str]:
    # A chair is drawn from the commission's first members, who belong to no
    # other commission first: nobody chairs two commissions.
    chairs = {}
    for entry in data["commissions"]:
        candidates = [d.username for d in deputies if d.commission_codes[0] == entry["code"]]
        if candidates:
            chairs[entry["code"]] = rng.choice(candidates)
    return chairs


def _department_titles(kind: str) -> tuple[str, str]:
    return OFFICER_TITLES[kind]


def plan_directory(*, data: Mapping[str, Any], seed: int) -> DirectoryPlan:
    """Every demo account, name and deputy assignment for ``seed``; no database access.

    Accounts: ``admin``, ``staff``, ``chair``, ``deputy1``…``deputyN`` (N = the
    convocation's seats), and ``<code>-head`` / ``<code>-exec`` for every city
    department and every district akimat (code = the district's code).
    """
    rng = random.Random(seed)
    names = NameGenerator(rng)
    accounts = [
        AccountPlan(
            "admin", Role.ADMIN, names.person(female_share=FEMALE_OFFICER_SHARE), is_superuser=True
        ),
        AccountPlan("staff", Role.STAFF, names.person(female_share=FEMALE_OFFICER_SHARE)),
        AccountPlan("chair", Role.CHAIR, names.person(female_share=FEMALE_DEPUTY_SHARE)),
    ]
    deputies = _plan_deputies(data=data, rng=rng)
    accounts += [
        AccountPlan(d.username, Role.DEPUTY, names.person(female_share=FEMALE_DEPUTY_SHARE))
        for d in deputies
    ]
    departments = [(e["code"], DepartmentKind.CITY_DEPARTMENT) for e in data["city_departments"]]
    departments += [(e["code"], DepartmentKind.DISTRICT_AKIMAT) for e in data["districts"]]
    for code, kind in departments:
        head, executor = department_usernames(code)
        head_title, executor_title = _department_titles(kind)
        accounts.append(
            AccountPlan(
                head,
                Role.HEAD,
                names.person(female_share=FEMALE_OFFICER_SHARE),
                department_code=code,
                position=Position.HEAD,
                title=head_title,
            )
        )
        accounts.append(
            AccountPlan(
                executor,
                Role.EXECUTOR,
                names.person(female_share=FEMALE_OFFICER_SHARE),
                department_code=code,
                position=Position.EXECUTOR,
                title=executor_title,
            )
        )
    return DirectoryPlan(
        accounts=tuple(accounts),
        deputies=deputies,
        commission_chairs=_plan_commission_chairs(deputies=deputies, data=data, rng=rng),
    )


# --- Writing the plan ----------------------------------------------------------------------


USER_FIELDS = (
    "first_name",
    "last_name",
    "middle_name",
    "email",
    "role",
    "language",
    "is_staff",
    "is_superuser",
    "is_active",
)


def _upsert_users(
    accounts: Sequence[AccountPlan], *, password_hash: str
) -> tuple[dict[str, User], int]:
    """Create the missing accounts and bring the others in line with the plan.

    Accounts that exist keep their password: running the command again must not
    undo a password somebody changed.
    """
    usernames = [a.username for a in accounts]
    existing = {u.username: u for u in User.objects.filter(username__in=usernames)}
    to_create, to_update = [], []
    for account in accounts:
        values = {
            "first_name": account.name.first_name,
            "last_name": account.name.last_name,
            "middle_name": account.name.middle_name,
            "email": account.email,
            "role": account.role,
            "language": DEMO_LANGUAGE,
            "is_staff": account.is_superuser,
            "is_superuser": account.is_superuser,
            "is_active": True,
        }
        user = existing.get(account.username)
        if user is None:
            to_create.append(User(username=account.username, password=password_hash, **values))
        else:
            for name, value in values.items():
                setattr(user, name, value)
            to_update.append(user)
    User.objects.bulk_create(to_create)
    User.objects.bulk_update(to_update, USER_FIELDS)
    # Read back rather than trust bulk_create to fill in primary keys on every backend.
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    return users, len(to_create)


def _upsert_department_members(
    accounts: Sequence[AccountPlan], *, users: Mapping[str, User], reference: ReferenceDirectory
) -> None:
    officers = [
        (users[a.username], reference.departments[a.department_code], a.position, a.title)
        for a in accounts
        if a.department_code is not None and a.position is not None
    ]
    existing = {
        m.user_id: m for m in DepartmentMember.objects.filter(user__in=[o[0] for o in officers])
    }
    to_create, to_update = [], []
    for user, department, position, title in officers:
        member = existing.get(user.pk)
        if member is None:
            to_create.append(
                DepartmentMember(user=user, department=department, position=position, title=title)
            )
        else:
            member.department = department
            member.position = position
            member.title = title
            member.is_active = True
            to_update.append(member)
    DepartmentMember.objects.bulk_create(to_create)
    DepartmentMember.objects.bulk_update(
        to_update, ["department", "position", "title", "is_active"]
    )


def _upsert_deputies(
    plans: Sequence[DeputyPlan], *, users: Mapping[str, User], reference: ReferenceDirectory
) -> list[Deputy]:
    deputy_users = [users[p.username] for p in plans]
    existing = {d.user_id: d for d in Deputy.objects.filter(user__in=deputy_users)}
    to_create, to_update = [], []
    for plan in plans:
        user = users[plan.username]
        values = {
            "convocation": reference.convocation,
            "party": reference.parties[plan.party_code],
            "mandate": plan.mandate,
            "electoral_district": plan.electoral_district,
            "district": reference.districts[plan.district_code] if plan.district_code else None,
            "is_active": True,
        }
        deputy = existing.get(user.pk)
        if deputy is None:
            to_create.append(Deputy(user=user, **values))
        else:
            for name, value in values.items():
                setattr(deputy, name, value)
            to_update.append(deputy)
    Deputy.objects.bulk_create(to_create)
    Deputy.objects.bulk_update(
        to_update,
        ["convocation", "party", "mandate", "electoral_district", "district", "is_active"],
    )
    by_username = {
        d.user.username: d
        for d in Deputy.objects.filter(user__in=deputy_users).select_related("user")
    }
    deputies = [by_username[p.username] for p in plans]

    # Commission seats: replace the demo deputies' seats in this convocation.
    membership = Deputy.commissions.through
    membership.objects.filter(
        deputy__in=deputies, commission__convocation=reference.convocation
    ).delete()
    membership.objects.bulk_create(
        membership(deputy_id=deputy.pk, commission_id=reference.commissions[code].pk)
        for plan, deputy in zip(plans, deputies, strict=True)
        for code in plan.commission_codes
    )
    return deputies


def _set_commission_chairs(
    chairs: Mapping[str, str], *, deputies: Sequence[Deputy], reference: ReferenceDirectory
) -> None:
    by_username = {d.user.username: d for d in deputies}
    commissions: list[Commission] = []
    for code, username in chairs.items():
        commission = reference.commissions[code]
        commission.chair = by_username[username]
        commissions.append(commission)
    Commission.objects.bulk_update(commissions, ["chair"])


@transaction.atomic
def seed_directory(
    *,
    seed: int = DEFAULT_SEED,
    scale: int = 1,
    data: Mapping[str, Any] | None = None,
    password: str | None = None,
) -> DemoDirectory:
    """Load the reference directory and the demo people of ``plan_directory(seed)``.

    Idempotent: accounts, deputies and department officers are matched by
    username and updated in place; running it with another seed renames and
    reassigns the same accounts. New accounts get ``password`` (default
    ``settings.DEMO_PASSWORD``), hashed once for all of them. ``scale`` does not
    change the directory: a city has one council whatever the load.
    """
    del scale  # accepted so every step has the same signature; see DemoContext
    data = data if data is not None else read_reference_data()
    password = password if password is not None else settings.DEMO_PASSWORD
    plan = plan_directory(data=data, seed=seed)

    reference = directory_load_reference(data=data)
    users, created = _upsert_users(plan.accounts, password_hash=make_password(password))
    _upsert_department_members(plan.accounts, users=users, reference=reference)
    deputies = _upsert_deputies(plan.deputies, users=users, reference=reference)
    _set_commission_chairs(plan.commission_chairs, deputies=deputies, reference=reference)

    heads = {
        a.department_code: users[a.username]
        for a in plan.accounts
        if a.department_code and a.position == Position.HEAD
    }
    executors = {
        a.department_code: users[a.username]
        for a in plan.accounts
        if a.department_code and a.position == Position.EXECUTOR
    }
    return DemoDirectory(
        reference=reference,
        users=users,
        deputies=deputies,
        heads=heads,
        executors=executors,
        password=password,
        created_accounts=created,
    )
