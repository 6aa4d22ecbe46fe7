"""Names in a file matched to the directory: exactly (in any language, normalised), never
by guess; close matches (rapidfuzz) are only *offered* to staff.

A ``Directory`` reads every department, category, district, commission, deputy and
department officer once (a few hundred rows) and answers each name from dictionaries, so
a 10,000-row file costs no query per row.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from maslikhat.directory.models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentMember,
    Deputy,
    District,
)

#: Name groups: what a name in a column is looked up among.
DEPARTMENT = "department"
CATEGORY = "category"
DISTRICT = "district"
DEPUTY = "deputy"
EXECUTOR = "executor"
CONTROLLER = "controller"
GROUPS = (DEPARTMENT, CATEGORY, DISTRICT, DEPUTY, EXECUTOR, CONTROLLER)

#: Close matches offered for one unknown name, and the lowest score (0–100) offered.
SUGGESTIONS = 5
SCORE_CUTOFF = 60

_QUOTES = re.compile(r"[«»\"“”„'`’]")
_SPACES = re.compile(r"\s+")
_PUNCT_END = re.compile(r"^[\s.,;:]+|[\s.,;:]+$")


def normalise(text: Any) -> str:
    """Lower case, ё as е, no quotes, spaces collapsed, no punctuation at the ends."""
    value = str(text or "").lower().replace("ё", "е")
    value = _QUOTES.sub("", value)
    value = _SPACES.sub(" ", value)
    return _PUNCT_END.sub("", value)


def person_keys(last: str, first: str, middle: str) -> set[str]:
    """The forms a person's name is written in: full, without the middle name, initials."""
    last, first, middle = normalise(last), normalise(first), normalise(middle)
    keys = {normalise(f"{last} {first} {middle}"), normalise(f"{last} {first}")}
    keys.add(normalise(f"{first} {middle} {last}"))
    keys.add(normalise(f"{first} {last}"))
    initials = (first[:1] + "." + (middle[:1] + "." if middle else "")) if first else ""
    if initials:
        keys.add(normalise(f"{last} {initials}"))
        keys.add(normalise(f"{last} {initials.replace('.', '. ')}"))
        keys.add(normalise(f"{initials} {last}"))
    return {key for key in keys if key}


def _person_key_variants(value: str) -> str:
    """A typed name with initials written closely ("Иванов И. И." → "иванов и.и.")."""
    return re.sub(r"(\b\w\.)\s+(?=\w\.)", r"\1", normalise(value))


@dataclass
class Choice:
    """A directory entry a name may be matched to: its value (``id`` or ``kind:id``), label."""

    value: str
    label: str
    convocation_id: int | None = None


@dataclass
class Group:
    choices: list[Choice] = field(default_factory=list)
    #: normalised name → the values it names (more than one: ambiguous)
    exact: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_value: dict[str, Choice] = field(default_factory=dict)

    def add(self, choice: Choice, names: Iterable[str]) -> None:
        self.choices.append(choice)
        self.by_value[choice.value] = choice
        for name in names:
            key = normalise(name)
            if key:
                self.exact[key].add(choice.value)


class Directory:
    """The directory read once: exact look-ups and close matches for each name group."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {name: Group() for name in GROUPS}
        self.convocations: dict[int, Convocation] = {}
        self._load()

    def _load(self) -> None:
        for department in Department.objects.order_by("kind", "name_ru"):
            self.groups[DEPARTMENT].add(
                Choice(str(department.pk), department.name_ru),
                [department.code, department.name_ru, department.name_kk, department.name_en],
            )
        for category in Category.objects.order_by("order", "name_ru"):
            self.groups[CATEGORY].add(
                Choice(str(category.pk), category.name_ru),
                [category.code, category.name_ru, category.name_kk, category.name_en],
            )
        for district in District.objects.order_by("name_ru"):
            self.groups[DISTRICT].add(
                Choice(str(district.pk), district.name_ru),
                [district.code, district.name_ru, district.name_kk, district.name_en],
            )
        for convocation in Convocation.objects.all():
            self.convocations[convocation.pk] = convocation
        for deputy in Deputy.objects.select_related("user").order_by(
            "user__last_name", "user__first_name", "convocation__number"
        ):
            user = deputy.user
            label = " ".join(
                part for part in (user.last_name, user.first_name, user.middle_name) if part
            )
            choice = Choice(str(deputy.pk), label, convocation_id=deputy.convocation_id)
            names = person_keys(user.last_name, user.first_name, user.middle_name)
            self.groups[DEPUTY].add(choice, names)
            self.groups[CONTROLLER].add(
                Choice(f"deputy:{deputy.pk}", label, deputy.convocation_id), names
            )
        for commission in Commission.objects.order_by("convocation__number", "order"):
            self.groups[CONTROLLER].add(
                Choice(
                    f"commission:{commission.pk}", commission.name_ru, commission.convocation_id
                ),
                [commission.code, commission.name_ru, commission.name_kk, commission.name_en],
            )
        for member in DepartmentMember.objects.select_related("user").order_by(
            "user__last_name", "user__first_name"
        ):
            user = member.user
            label = " ".join(
                part for part in (user.last_name, user.first_name, user.middle_name) if part
            )
            self.groups[EXECUTOR].add(
                Choice(str(user.pk), label),
                person_keys(user.last_name, user.first_name, user.middle_name),
            )

    def lookup(self, group: str, name: str, *, convocation_id: int | None = None) -> str | None:
        """The value ``name`` names exactly in ``group``, or None (unknown or ambiguous).

        A person named the same in two convocations is the one of ``convocation_id``.
        """
        entries = self.groups[group]
        values = entries.exact.get(normalise(name)) or entries.exact.get(_person_key_variants(name))
        if not values:
            return None
        if len(values) == 1:
            return next(iter(values))
        if convocation_id is not None:
            mine = [v for v in values if entries.by_value[v].convocation_id == convocation_id]
            if len(mine) == 1:
                return mine[0]
        return None

    def has(self, group: str, value: str) -> bool:
        return value in self.groups[group].by_value

    def label(self, group: str, value: str) -> str:
        choice = self.groups[group].by_value.get(value)
        return choice.label if choice else ""

    def suggestions(self, group: str, name: str) -> list[dict[str, Any]]:
        """Close matches for an unknown name, best first: ``{value, label, score}``.

        Offered for confirmation only; a name is never matched to one of them by itself.
        """
        entries = self.groups[group]
        if not name.strip():
            return [{"value": c.value, "label": c.label, "score": 0} for c in entries.choices]
        candidates = {
            key: values for key, values in entries.exact.items() if len(key) > 2 or key == name
        }
        found = process.extract(
            normalise(name),
            list(candidates),
            scorer=fuzz.WRatio,
            limit=SUGGESTIONS * 3,
            score_cutoff=SCORE_CUTOFF,
        )
        offered: list[dict[str, Any]] = []
        seen: set[str] = set()
        for key, score, _index in found:
            for value in sorted(candidates[key]):
                if value in seen:
                    continue
                seen.add(value)
                offered.append(
                    {"value": value, "label": entries.by_value[value].label, "score": round(score)}
                )
        return offered[:SUGGESTIONS]

    def all_choices(self, group: str) -> list[Choice]:
        return self.groups[group].choices

    def convocation_for(self, day: Any) -> int | None:
        """The convocation sitting on ``day`` (elected on or before it, not ended), if one."""
        sitting = [
            c
            for c in self.convocations.values()
            if c.elected_on <= day and (c.ends_on is None or day <= c.ends_on)
        ]
        if not sitting:
            return None
        return max(sitting, key=lambda c: c.elected_on).pk

    def convocation_by_number(self, number: int) -> int | None:
        for convocation in self.convocations.values():
            if convocation.number == number:
                return convocation.pk
        return None
