"""Files to import, written the way staff would: Excel or CSV, headers in Russian."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from django.utils import translation

from imports.columns import columns_of


def headers(kind: str, keys: Sequence[str], language: str = "ru") -> list[str]:
    labels = {column.key: column.label for column in columns_of(kind)}
    with translation.override(language):
        return [str(labels[key]) for key in keys]


def write_csv(
    path: Path,
    kind: str,
    rows: Iterable[dict[str, Any]],
    *,
    delimiter: str = ";",
    language: str = "ru",
) -> Path:
    rows = list(rows)
    keys = list(rows[0])
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(headers(kind, keys, language))
        for row in rows:
            writer.writerow(["" if row.get(key) is None else row.get(key) for key in keys])
    return path


def write_xlsx(path: Path, kind: str, rows: Iterable[dict[str, Any]], language: str = "ru") -> Path:
    rows = list(rows)
    keys = list(rows[0])
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headers(kind, keys, language))
    for row in rows:
        sheet.append([row.get(key) for key in keys])
    workbook.save(path)
    return path


def request_row(number: str, **overrides: Any) -> dict[str, Any]:
    """A closed request of the 8th convocation by deputy1 to finance, all cells filled."""
    row: dict[str, Any] = {
        "number": number,
        "submitted": "15.03.2024",
        "convocation": "VIII",
        "author": "Фамилия1 Имя1",
        "co_authors": "",
        "title": f"Ремонт дороги {number}",
        "body": "Жители просят отремонтировать проезжую часть.",
        "category": "Дороги",
        "district": "",
        "address": "ул. Абая, 10",
        "lead_department": "Управление финансов",
        "co_departments": "",
        "executor": "",
        "status": "Закрыт",
        "due_date": "15.04.2024",
        "answered": "10.04.2024",
        "outcome": "Решено",
        "answer_text": "Ремонт выполнен.",
        "rating": "5",
        "is_public": "да",
    }
    row.update(overrides)
    return row
