"""The quarterly PDF report of the maslikhat: summary, department table, KPI ranking.

Drawn with reportlab in the vendored DejaVu Sans (``static/vendor/fonts/``), which has every
Cyrillic and Kazakh letter (ә, ғ, қ, ң, ө, ұ, ү, һ, і). Its numbers come from the same
reader as the dashboard and the summary (requests submitted in the period, as the actor may
see them, from the daily tables where they answer) and from the KPI snapshot of the period,
so the three never disagree.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kpi.presenters import period_label
from maslikhat.directory.actors import Actor

from .daily_counts import request_summary_from_daily_counts
from .selectors import instruction_counters

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
BRAND = colors.HexColor("#0b4f6c")
KPI_ROWS = 15


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    if FONT_BOLD not in registered:
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20, textColor=BRAND
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=10, leading=14),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
            textColor=BRAND,
        ),
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "note": ParagraphStyle(
            "note", parent=body, fontSize=7.5, leading=10, textColor=colors.HexColor("#555555")
        ),
        "footer": ParagraphStyle("footer", parent=body, fontSize=7, alignment=TA_CENTER),
    }


def _escape(text: Any) -> str:
    return (
        str("" if text is None else text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _table(
    header: list[str], rows: list[list[Any]], widths: list[float], style: ParagraphStyle
) -> Table:
    data = [[Paragraph(_escape(h), style) for h in header]]
    for row in rows:
        data.append([Paragraph(_escape(value), style) for value in row])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7f0f4")),
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b5c4cc")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f9fa")]),
            ]
        )
    )
    return table


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def quarterly_report_pdf(*, actor: Actor, period: Any) -> bytes:
    """The PDF of ``period`` (a ``kpi.periods.Period``: a quarter, month or year)."""
    from kpi.calculators import DEPARTMENT, DEPUTY
    from kpi.selectors import NoSnapshot, kpi_rankings

    _register_fonts()
    styles = _styles()
    today = timezone.localdate()
    start, end = period.natural_bounds(today)
    # The daily tables' figures where they answer (the period's submission days).
    summary = request_summary_from_daily_counts(
        actor=actor,
        params={"submitted_after": start.isoformat(), "submitted_before": end.isoformat()},
        today=today,
    )
    instructions = instruction_counters(actor, today)
    rankings: dict[str, Any] = {}
    for kind in (DEPARTMENT, DEPUTY):
        try:
            rankings[kind] = kpi_rankings(kind, period.key)
        except NoSnapshot:
            rankings[kind] = None

    buffer = io.BytesIO()
    title = gettext("Almaty city maslikhat: report for %(period)s") % {
        "period": period_label(period.key)
    }
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author=gettext("Almaty city maslikhat"),
    )
    width = document.width
    counters = summary["counters"]
    story: list[Any] = [
        Paragraph(_escape(title), styles["title"]),
        Paragraph(
            _escape(
                gettext(
                    "Deputy requests submitted from %(start)s to %(end)s; figures as of %(today)s."
                )
                % {
                    "start": start.strftime("%d.%m.%Y"),
                    "end": end.strftime("%d.%m.%Y"),
                    "today": today.strftime("%d.%m.%Y"),
                }
            ),
            styles["subtitle"],
        ),
        Spacer(1, 6),
        Paragraph(_escape(gettext("Summary")), styles["h2"]),
        _table(
            [gettext("Indicator"), gettext("Value")],
            [
                [gettext("Registered requests"), summary["total"] - summary["by_status"]["draft"]],
                [gettext("Answered"), counters["answered"]],
                [gettext("Answered on time"), counters["on_time"]],
                [gettext("Answered late"), counters["answered_late"]],
                [gettext("In progress past the due date"), counters["overdue_open"]],
                [gettext("Awaiting the deputy's evaluation"), counters["awaiting_evaluation"]],
                [gettext("Closed"), counters["closed"]],
                [gettext("Closed as resolved or partially resolved"), counters["resolved"]],
                [
                    gettext("Median days from routing to the final answer"),
                    _number(summary["median_answer_days"]),
                ],
                [gettext("Protocol instructions on control"), instructions["on_control"]],
                [gettext("Protocol instructions overdue"), instructions["overdue_open"]],
            ],
            [width * 0.75, width * 0.25],
            styles["cell"],
        ),
        Paragraph(_escape(gettext("Departments")), styles["h2"]),
        _table(
            [
                gettext("Department"),
                gettext("Received"),
                gettext("Answered"),
                gettext("On time"),
                gettext("Answered late"),
                gettext("Median days"),
                gettext("Open overdue"),
            ],
            [
                [
                    row["name"] or gettext("Not routed yet"),
                    row["received"],
                    row["answered"],
                    row["on_time"],
                    row["answered_late"],
                    _number(row["median_days"]),
                    row["overdue_open"],
                ]
                for row in summary["by_department"]
            ]
            or [[gettext("No requests in this period."), "", "", "", "", "", ""]],
            [width * 0.28, *[width * 0.12] * 6],
            styles["cell"],
        ),
        Paragraph(_escape(gettext("Districts")), styles["h2"]),
        _table(
            [
                gettext("District"),
                gettext("Received"),
                gettext("Answered"),
                gettext("Closed"),
                gettext("Resolved"),
            ],
            [
                [
                    row["name"] or gettext("No district"),
                    row["received"],
                    row["answered"],
                    row["closed"],
                    row["resolved"],
                ]
                for row in summary["by_district"]
            ]
            or [[gettext("No requests in this period."), "", "", "", ""]],
            [width * 0.4, *[width * 0.15] * 4],
            styles["cell"],
        ),
    ]
    for kind, heading, entity in (
        (DEPARTMENT, gettext("KPI ranking of departments"), gettext("Department")),
        (DEPUTY, gettext("KPI ranking of deputies"), gettext("Deputy")),
    ):
        story.append(Paragraph(_escape(heading), styles["h2"]))
        ranking = rankings[kind]
        if ranking is None or not ranking.rows:
            story.append(
                Paragraph(
                    _escape(gettext("There is no KPI snapshot for this period yet.")),
                    styles["body"],
                )
            )
            continue
        story.append(
            _table(
                [gettext("Rank"), entity, gettext("Composite (0–100)"), gettext("Rated items")],
                [
                    [
                        row.rank if row.rank is not None else gettext("not enough data"),
                        row.entity.get("name", ""),
                        _number(row.composite),
                        row.rated_items,
                    ]
                    for row in ranking.rows[:KPI_ROWS]
                ],
                [width * 0.16, width * 0.5, width * 0.18, width * 0.16],
                styles["cell"],
            )
        )
        story.append(
            Paragraph(
                _escape(
                    gettext("Snapshot as of %(date)s.")
                    % {"date": ranking.as_of.strftime("%d.%m.%Y")}
                ),
                styles["note"],
            )
        )
    story.append(Spacer(1, 8))
    story.append(
        Paragraph(
            _escape(
                gettext(
                    "On time: the final answer was sent by the due date in force. Median days: "
                    "calendar days from routing to the final answer. The KPI methodology is "
                    "published on the public portal."
                )
            ),
            styles["note"],
        )
    )

    page_label = gettext("Page %(number)d")

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawCentredString(
            A4[0] / 2, 8 * mm, f"{title} · {page_label % {'number': doc.page}}"
        )
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
