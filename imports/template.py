"""The template of each kind as an Excel workbook: the columns on the first sheet (headers
in the reader's language), and on the second what each column holds, in ru, kk and en."""

from __future__ import annotations

import io

from django.utils.translation import gettext, override
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .columns import LANGUAGES, columns_of
from .models import ImportKind

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_name(kind: str) -> str:
    return f"import-template-{kind}.xlsx"


def template_workbook(kind: str) -> bytes:
    columns = columns_of(kind)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = str(ImportKind(kind).label)[:31]
    bold = Font(bold=True)
    sheet.append([str(column.label) for column in columns])
    for index in range(1, len(columns) + 1):
        sheet.cell(row=1, column=index).font = bold
        sheet.column_dimensions[get_column_letter(index)].width = 22
    sheet.freeze_panes = "A2"

    guide = workbook.create_sheet(gettext("Columns")[:31])
    header = [gettext("Code"), gettext("Required")]
    for language in LANGUAGES:
        with override(language):
            header.append(f"{gettext('Column')} ({language})")
    for language in LANGUAGES:
        with override(language):
            header.append(f"{gettext('What it holds')} ({language})")
    guide.append(header)
    for cell in guide[1]:
        cell.font = bold
    yes, no = gettext("yes"), gettext("no")
    for column in columns:
        row = [column.key, yes if column.required else no]
        for language in LANGUAGES:
            with override(language):
                row.append(str(column.label))
        for language in LANGUAGES:
            with override(language):
                row.append(str(column.help))
        guide.append(row)
    for index, width in enumerate([18, 10, 28, 28, 28, 60, 60, 60], start=1):
        guide.column_dimensions[get_column_letter(index)].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
