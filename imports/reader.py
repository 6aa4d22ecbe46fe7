"""Reading an uploaded table: Excel (.xlsx, read-only streaming) or CSV (UTF-8 with or
without a BOM, ``;`` or ``,`` found from the header line)."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from maslikhat.core.exceptions import ValidationFailed

#: Rows after the header that are read at most (a guard, far above any real register).
MAX_ROWS = 200_000


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)


def _cell_text(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def read_table(path: Path, name: str = "") -> Table:
    """The header and the rows of the file at ``path`` (``name`` tells the format)."""
    if not path.is_file():
        raise ValidationFailed(_("The uploaded file is no longer there: upload it again."))
    suffix = Path(name or path.name).suffix.lower()
    if suffix == ".xlsx" or (not suffix and zipfile.is_zipfile(path)):
        return _read_xlsx(path)
    if suffix in (".csv", ".txt", ""):
        return _read_csv(path)
    raise ValidationFailed(_("Upload an Excel (.xlsx) or CSV file."), field="file")


def _read_xlsx(path: Path) -> Table:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a broken or disguised file: say so, never a 500
        raise ValidationFailed(
            _("The file is not a readable Excel workbook."), field="file"
        ) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        workbook.close()
        raise ValidationFailed(_("The file is empty."), field="file")
    headers = [str(_cell_text(cell) or "") for cell in header]

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, row in enumerate(rows, start=2):
                cells = [_cell_text(cell) for cell in row][: len(headers)]
                if _is_blank(cells):
                    continue
                if number > MAX_ROWS:
                    raise ValidationFailed(
                        _("The file has more than %(limit)s rows.") % {"limit": MAX_ROWS}
                    )
                yield number, cells
        finally:
            workbook.close()

    return Table(headers, body())


def _read_csv(path: Path) -> Table:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_("Save the CSV file in UTF-8."), field="file") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        raise ValidationFailed(_("The file is empty."), field="file")
    headers = [cell.strip() for cell in header]

    def body() -> Iterator[tuple[int, list[Any]]]:
        for number, row in enumerate(reader, start=2):
            cells: list[Any] = [_unquote(cell.strip()) for cell in row][: len(headers)]
            if _is_blank(cells):
                continue
            yield number, cells

    return Table(headers, body())


def _unquote(value: str) -> str:
    """The exports write ``'=…`` for text a spreadsheet would run: read the text back."""
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def parse_date(value: Any) -> datetime.date | None:
    """A date cell: a real date, ``dd.mm.yyyy``, ``yyyy-mm-dd`` or ``dd/mm/yyyy``.

    Raises ``ValueError`` for text that is not a date; None for an empty cell.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)
