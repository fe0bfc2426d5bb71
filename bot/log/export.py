"""The inquiry log as CSV or Excel, the way staff open it (Excel/WPS): Chinese headers,
readable times in the office's time zone, sensible column widths and a frozen header row.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.log.listing import InquiryRow
from bot.log.models import Demand
from bot.texts import Texts

__all__ = ["COLUMNS", "DEMAND_COLUMNS", "demand_rows", "export_rows", "position_line", "table_rows"]

COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "person",
    "person_key",
    "audience",
    "channel",
    "text",
    "outcome",
    "entry_id",
    "entry_title",
    "reply",
    "score",
    "ticket_id",
    "status",
    "assignee",
    "helpful",
    "resolution_note",
    "resolved_at",
)
WIDTHS = {
    "reply": 30,
    "resolution_note": 30,
    "resolved_at": 17,
    "created_at": 17,
    "person": 14,
    "person_key": 18,
    "text": 48,
    "entry_title": 24,
    "entry_id": 28,
    "status": 10,
}


def bot_reply(row: InquiryRow, t: Texts) -> str:
    """What the bot answered, in a word: the entry, the choices offered, or the outcome."""
    titles = [str(s.get("title", "")) for s in row.suggestions if isinstance(s, dict)]
    if row.outcome == "answered" and row.entry_title:
        return row.entry_title
    if row.outcome in ("multi", "suggested") and titles:
        key = "log.reply_multi" if row.outcome == "multi" else "log.reply_suggested"
        return t.t(key, titles="；".join(titles))
    return t.t(f"log.outcome.{row.outcome}")


def table_rows(
    rows: Sequence[InquiryRow], t: Texts, timezone: str, *, real_times: bool = False
) -> list[list[Any]]:
    """Rows as displayed values: labels translated, times local, scores rounded.

    ``real_times`` keeps times as (local, naive) datetimes, for spreadsheet date cells.
    """
    zone = ZoneInfo(timezone)
    out = []
    for row in rows:
        values = asdict(row)
        for column in ("created_at", "resolved_at"):
            when = values[column]
            if when is not None:
                local = when.astimezone(zone)
                values[column] = (
                    local.replace(tzinfo=None) if real_times else local.strftime("%Y-%m-%d %H:%M")
                )
        values["reply"] = bot_reply(row, t)
        values.pop("suggestions", None)
        if row.helpful is not None:
            values["helpful"] = t.t("cli.helpful" if row.helpful else "cli.not_helpful")
        values["outcome"] = t.t(f"log.outcome.{row.outcome}")
        values["status"] = t.t(f"log.status.{row.status or 'none'}")
        values["audience"] = t.t(f"audience.{row.audience}") if row.audience else ""
        values["score"] = round(row.score, 3) if row.score is not None else None
        out.append([values[c] for c in COLUMNS])
    return out


DEMAND_COLUMNS: tuple[str, ...] = (
    "id",
    "created_at",
    "company",
    "contact_name",
    "contact_phone",
    "positions",
    "needed_by",
    "ticket_id",
)


def position_line(position: dict[str, Any]) -> str:
    """One position of a recruitment need as one readable line."""
    parts = [str(position.get(k, "")) for k in ("title", "count", "requirement", "pay")]
    return " / ".join(p for p in parts if p)


def demand_rows(demands: Sequence[Demand], timezone: str) -> list[list[Any]]:
    """Recruitment needs as displayed values."""
    zone = ZoneInfo(timezone)
    return [
        [
            d.id,
            d.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            d.company,
            d.contact_name,
            d.contact_phone,
            "\n".join(position_line(p) for p in d.positions),
            d.needed_by,
            d.ticket_id,
        ]
        for d in demands
    ]


def export_rows(
    rows: Sequence[InquiryRow],
    path: Path,
    *,
    fmt: str,
    t: Texts,
    timezone: str,
    demands: Sequence[Demand] = (),
) -> None:
    """Writes ``rows`` to ``path`` as ``csv`` (UTF-8 with BOM, for Excel) or ``xlsx``.

    The xlsx workbook has a second sheet with the enterprises' recruitment needs.
    """
    header = [t.t(f"log.columns.{c}") for c in COLUMNS]
    body = table_rows(rows, t, timezone, real_times=fmt != "csv")
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body)
        return
    # Imported here: openpyxl costs ~20 MB of memory, and a running bot rarely exports.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = t.t("log.sheet")
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in body:
        sheet.append(values)
    for number, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(number)].width = WIDTHS.get(column, 10)
    text_column = get_column_letter(COLUMNS.index("text") + 1)
    for cell in sheet[text_column][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column in ("created_at", "resolved_at"):
        letter = get_column_letter(COLUMNS.index(column) + 1)
        for cell in sheet[letter][1:]:
            cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    needs = workbook.create_sheet(t.t("demand_columns.sheet"))
    needs.append([t.t(f"demand_columns.{c}") for c in DEMAND_COLUMNS])
    for cell in needs[1]:
        cell.font = Font(bold=True)
    for values in demand_rows(demands, timezone):
        needs.append(values)
    for number, width in enumerate((6, 17, 24, 12, 16, 40, 14, 8), start=1):
        needs.column_dimensions[get_column_letter(number)].width = width
    needs.freeze_panes = "A2"
    workbook.save(path)
