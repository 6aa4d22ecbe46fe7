# ruff: noqa: E501
"""The template of each kind: its columns, in the order the exports write them.

The first columns of each template are the export's own (``reports/exports.py``), with the
export's headers, so an exported file imports as it is (the round trip); the columns the
export does not write (the text of a request, its convocation, …) follow. A file's
header matches a column when, lower-cased and with spaces collapsed, it equals the
column's header in Russian, Kazakh or English, or its code (``number``, ``title``, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from .matching import normalise
from .models import ImportKind

LANGUAGES = ("ru", "kk", "en")


@dataclass(frozen=True)
class Column:
    """One column of a template.

    ``label`` is the header (the export's where the export has the column); ``ignored``
    columns are what the portal computes (overdue, counts of extensions): read, not
    stored. ``help`` is what the template's second sheet says of the column.
    """

    key: str
    label: Any
    help: Any
    required: bool = False
    ignored: bool = False
    aliases: tuple[Any, ...] = field(default=())
    #: Headers matched as written (spellings common in the registers kept before the portal).
    spellings: tuple[str, ...] = field(default=())


REQUEST_COLUMNS: tuple[Column, ...] = (
    Column(
        "number",
        _("Number"),
        _(
            "The original registration number; the key of the import: a number already imported is skipped."
        ),
        required=True,
        aliases=(_("Registration number"),),
    ),
    Column(
        "submitted",
        _("Submitted"),
        _("The date it was submitted, dd.mm.yyyy."),
        required=True,
        aliases=(_("Submitted date"),),
    ),
    Column("title", _("Title"), _("The title (at most 300 characters)."), required=True),
    Column(
        "category",
        _("Category"),
        _("The category's name in any language, or its code."),
        required=True,
    ),
    Column("district", _("District"), _("The city district's name or code; may be empty.")),
    Column(
        "author",
        _("Author"),
        _("The author deputy: last name, first name, middle name."),
        required=True,
    ),
    Column(
        "lead_department",
        _("Lead department"),
        _(
            "The department that answered: its name in any language, or its code. Needed unless the request was declined or withdrawn before routing."
        ),
    ),
    Column("co_departments", _("Co-executors"), _("Co-executing departments, separated by “;”.")),
    Column(
        "executor",
        _("Executor"),
        _("The officer of the lead department who drafted the answer; may be empty."),
    ),
    Column(
        "status",
        _("Status"),
        _(
            "Submitted, in progress, answered, closed, declined or withdrawn (in any language, or the code)."
        ),
        required=True,
    ),
    Column(
        "due_date",
        _("Due date"),
        _("The due date; needed while the request is in progress or answered."),
    ),
    Column(
        "original_due_date",
        _("Original due date"),
        _("The due date before any extension; the due date if empty."),
    ),
    Column(
        "answered",
        _("Answered"),
        _("The date of the final answer; needed once answered or closed."),
        aliases=(_("Answered date"),),
    ),
    Column(
        "overdue", _("Overdue"), _("Computed by the portal from the dates; ignored."), ignored=True
    ),
    Column(
        "outcome",
        _("Outcome"),
        _(
            "Resolved, partially resolved, planned, refused, explained or not resolved; needed once answered or closed."
        ),
    ),
    Column(
        "rework_count",
        _("Returned for rework (times)"),
        _(
            "How many times the answer was returned for rework; counted from the evaluations if empty."
        ),
    ),
    Column(
        "evaluations",
        _("Evaluations of the answers"),
        _("The deputy's evaluations in order, e.g. “3 (returned for rework); 5 (accepted)”."),
    ),
    Column("rating", _("Deputy's rating"), _("The deputy's rating of the answer, 1–5.")),
    Column(
        "request_rating",
        _("Department's rating of the request"),
        _("The department's rating of the request, 1–5."),
    ),
    Column(
        "convocation",
        _("Convocation"),
        _("The convocation's number (e.g. 7 or VII); found from the submitted date if empty."),
    ),
    Column("co_authors", _("Co-authors"), _("Co-author deputies, separated by “;”.")),
    Column("body", _("Text"), _("The request's text; the title if empty.")),
    Column("address", _("Address"), _("The address the request is about; may be empty.")),
    Column(
        "answer_text",
        _("Answer text"),
        _("The text of the final answer."),
        spellings=("Текст ответа", "Ответ", "Жауап мәтіні"),
    ),
    Column("is_public", _("Public"), _("“yes” to publish it on the public portal.")),
)

INSTRUCTION_COLUMNS: tuple[Column, ...] = (
    Column("number", _("Number"), _("The instruction's number in its protocol."), required=True),
    Column(
        "protocol",
        _("Protocol"),
        _(
            "The protocol's number; with its date and the instruction's number, the key of the import."
        ),
        required=True,
    ),
    Column(
        "protocol_date",
        _("Protocol date"),
        _("The date of the protocol (the meeting), dd.mm.yyyy."),
        required=True,
        aliases=(_("Meeting date"),),
    ),
    Column("text", _("Text"), _("The instruction's text."), required=True),
    Column(
        "lead_department",
        _("Lead department"),
        _("The responsible department: its name in any language, or its code."),
        required=True,
    ),
    Column(
        "co_departments", _("Co-executors"), _("Other responsible departments, separated by “;”.")
    ),
    Column(
        "controller",
        _("Controller"),
        _(
            "The controlling commission and/or deputy, separated by “;”; staff choose one for rows without it."
        ),
    ),
    Column("due_date", _("Due date"), _("The due date."), required=True),
    Column(
        "original_due_date",
        _("Original due date"),
        _("The due date before any extension; the due date if empty."),
    ),
    Column(
        "status",
        _("Status"),
        _(
            "On control, reported, executed, returned or removed from control (in any language, or the code)."
        ),
        required=True,
    ),
    Column(
        "report_period",
        _("Periodic reports"),
        _("No periodic reports, monthly or quarterly; none if empty."),
    ),
    Column("reported", _("Reported"), _("The date of the final report.")),
    Column(
        "executed",
        _("Executed"),
        _("The date it was accepted as executed; needed once executed."),
        aliases=(_("Executed date"),),
    ),
    Column("overdue", _("Overdue"), _("Computed by the portal; ignored."), ignored=True),
    Column(
        "extensions", _("Extensions granted"), _("Computed by the portal; ignored."), ignored=True
    ),
    Column("extended_to", _("Extended to"), _("Computed by the portal; ignored."), ignored=True),
    Column("reports", _("Reports"), _("Computed by the portal; ignored."), ignored=True),
    Column("last_report", _("Last report"), _("Computed by the portal; ignored."), ignored=True),
    Column(
        "convocation",
        _("Convocation"),
        _("The convocation's number (e.g. 7 or VII); found from the protocol date if empty."),
    ),
    Column(
        "report_text",
        _("Report text"),
        _("The text of the execution report."),
        spellings=("Текст отчёта", "Отчёт об исполнении", "Есеп мәтіні"),
    ),
)

COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.REQUESTS: REQUEST_COLUMNS,
    ImportKind.INSTRUCTIONS: INSTRUCTION_COLUMNS,
}


def columns_of(kind: str) -> tuple[Column, ...]:
    return COLUMNS[kind]


def header_names(column: Column) -> set[str]:
    """Every header that names ``column``: its code, its header and aliases in each language."""
    names = {normalise(column.key), *(normalise(name) for name in column.spellings)}
    for language in LANGUAGES:
        with override(language):
            for label in (column.label, *column.aliases):
                names.add(normalise(str(label)))
    return names


def header_index(kind: str) -> dict[str, str]:
    """``{normalised header: column key}`` of the kind's template."""
    index: dict[str, str] = {}
    for column in columns_of(kind):
        for name in header_names(column):
            index.setdefault(name, column.key)
    return index


def match_headers(
    kind: str, headers: list[str], chosen: dict[str, str] | None = None
) -> dict[int, str]:
    """``{position in the file: column key}``; ``chosen`` (header → key, or "" to skip one)
    is what staff picked and wins over the names. A column named twice keeps the first."""
    index = header_index(kind)
    known = {column.key for column in columns_of(kind)}
    chosen = chosen or {}
    found: dict[int, str] = {}
    taken: set[str] = set()
    for position, header in enumerate(headers):
        key = chosen.get(header)
        if key is None:
            key = index.get(normalise(header), "")
        if key and key in known and key not in taken:
            found[position] = key
            taken.add(key)
    return found


def column_label(kind: str, key: str) -> str:
    for column in columns_of(kind):
        if column.key == key:
            return str(column.label)
    return key


def template_headers(kind: str) -> list[str]:
    return [gettext(str(column.label)) for column in columns_of(kind)]
