"""Writes to the directory: the council's and the akimat's structure.

The reference data (``settings.DIRECTORY_DATA_FILE``, see ``data/almaty.json``)
is loaded by ``directory_load_reference``: every row is matched by its stable
code and updated in place, so loading the file again never duplicates anything
and never breaks the foreign keys requests already hold.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from .models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentKind,
    District,
    Party,
)

# A category whose ``default_department`` is this marker goes to the akimat of
# the request's district instead of one city department.
DISTRICT_AKIMAT_MARKER = "district_akimat"
CONVOCATION_TERM_YEARS = 5


@dataclass(frozen=True)
class ReferenceDirectory:
    """The directory rows the reference data describes, each by its stable code."""

    convocation: Convocation
    parties: dict[str, Party]
    districts: dict[str, District]
    commissions: dict[str, Commission]
    departments: dict[str, Department]
    categories: dict[str, Category]

    @property
    def district_akimats(self) -> dict[str, Department]:
        return {
            code: dept
            for code, dept in self.departments.items()
            if dept.kind == DepartmentKind.DISTRICT_AKIMAT
        }


def names_of(entry: Mapping[str, Any]) -> dict[str, str]:
    """The ``name_*`` fields of a reference entry written as ``{"ru": …, "kk": …, "en": …}``."""
    return {"name_ru": entry["ru"], "name_kk": entry.get("kk", ""), "name_en": entry.get("en", "")}


def district_akimat_names(district: Mapping[str, Any]) -> dict[str, str]:
    """The names of a district's akimat, derived from the district's names.

    «Алатауский район» → «Акимат Алатауского района», «Алатау ауданы» →
    «Алатау ауданының әкімдігі», «Alatau district» → «Akimat of Alatau district».
    A name that does not follow the usual pattern still gives a readable name.
    """
    ru, kk, en = district["ru"], district.get("kk", ""), district.get("en", "")
    if ru.endswith("ий район"):
        name_ru = f"Акимат {ru.removesuffix('ий район')}ого района"
    else:
        name_ru = f"Акимат: {ru}"
    if kk.endswith(" ауданы"):
        name_kk = f"{kk.removesuffix(' ауданы')} ауданының әкімдігі"
    else:
        name_kk = f"{kk} әкімдігі" if kk else ""
    name_en = f"Akimat of {en}" if en else ""
    return {"name_ru": name_ru, "name_kk": name_kk, "name_en": name_en}


def _add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _load_convocation(info: Mapping[str, Any]) -> Convocation:
    elected_on = datetime.date.fromisoformat(info["elected_on"])
    ends_on = (
        datetime.date.fromisoformat(info["ends_on"])
        if info.get("ends_on")
        else _add_years(elected_on, CONVOCATION_TERM_YEARS)
    )
    convocation, _ = Convocation.objects.update_or_create(
        number=info["number"], defaults={"elected_on": elected_on, "ends_on": ends_on}
    )
    # Only one convocation may be current (a partial unique constraint). If an
    # operator already marked another one current, their choice wins.
    wants_current = info.get("is_current", True)
    if (
        wants_current
        and not convocation.is_current
        and not Convocation.objects.filter(is_current=True).exists()
    ):
        convocation.is_current = True
        convocation.save(update_fields=["is_current"])
    return convocation


def _check_unique_codes(kind: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"Reference data: {kind} code {code!r} is used twice.")
        seen.add(code)


def read_reference_data(path: Path | None = None) -> dict[str, Any]:
    """The reference data file (``settings.DIRECTORY_DATA_FILE`` by default)."""
    with open(path or settings.DIRECTORY_DATA_FILE, encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@transaction.atomic
def directory_load_reference(*, data: Mapping[str, Any]) -> ReferenceDirectory:
    """Create or update the directory from the reference data; safe to run again.

    Loads the convocation (its term is five years unless the data says
    otherwise), parties, districts, the convocation's standing commissions, one
    district akimat per district (code = the district's code), the city
    departments and the request categories. Rows are matched by stable code.
    Fields that staff own after the first load — a department's ``is_active``, a
    category's ``auto_route``, a commission's chair — are never overwritten.

    Raises ``ValueError`` when the data contradicts itself (a code used twice, a
    category pointing at a commission or department the data does not define).
    """
    convocation = _load_convocation(data["convocation"])

    parties: dict[str, Party] = {}
    for entry in data["convocation"]["parties"]:
        parties[entry["code"]], _ = Party.objects.update_or_create(
            code=entry["code"], defaults=names_of(entry)
        )
    districts: dict[str, District] = {}
    for entry in data["districts"]:
        districts[entry["code"]], _ = District.objects.update_or_create(
            code=entry["code"], defaults=names_of(entry)
        )
    commissions = {
        entry["code"]: Commission.objects.update_or_create(
            convocation=convocation,
            code=entry["code"],
            defaults={**names_of(entry), "order": order},
        )[0]
        for order, entry in enumerate(data["commissions"], start=1)
    }

    # Department codes are unique across both kinds: a city department must not
    # take a district's code, or loading would turn one into the other.
    _check_unique_codes(
        "department",
        [e["code"] for e in data["city_departments"]] + [e["code"] for e in data["districts"]],
    )
    departments: dict[str, Department] = {}
    for entry in data["city_departments"]:
        departments[entry["code"]] = Department.objects.update_or_create(
            code=entry["code"],
            defaults={**names_of(entry), "kind": DepartmentKind.CITY_DEPARTMENT, "district": None},
        )[0]
    for entry in data["districts"]:
        departments[entry["code"]] = Department.objects.update_or_create(
            code=entry["code"],
            defaults={
                **district_akimat_names(entry),
                "kind": DepartmentKind.DISTRICT_AKIMAT,
                "district": districts[entry["code"]],
            },
        )[0]

    categories: dict[str, Category] = {}
    for order, entry in enumerate(data["categories"], start=1):
        commission_code = entry.get("commission") or ""
        if commission_code and commission_code not in commissions:
            raise ValueError(
                f"Reference data: category {entry['code']!r} names an unknown commission "
                f"{commission_code!r}."
            )
        target = entry.get("default_department")
        to_akimat = target == DISTRICT_AKIMAT_MARKER
        default_department = None
        if target and not to_akimat:
            if target not in departments:
                raise ValueError(
                    f"Reference data: category {entry['code']!r} names an unknown department "
                    f"{target!r}."
                )
            default_department = departments[target]
        categories[entry["code"]] = Category.objects.update_or_create(
            code=entry["code"],
            defaults={
                **names_of(entry),
                "commission_code": commission_code,
                "default_department": default_department,
                "route_to_district_akimat": to_akimat,
                "order": order,
            },
        )[0]

    return ReferenceDirectory(
        convocation=convocation,
        parties=parties,
        districts=districts,
        commissions=commissions,
        departments=departments,
        categories=categories,
    )
