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

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.inquiries import InquiryRow
from bot.texts import Texts

__all__ = ["COLUMNS", "export_rows", "table_rows"]

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
    "score",
    "ticket_id",
    "status",
    "assignee",
)
WIDTHS = {
    "created_at": 17,
    "person": 14,
    "person_key": 18,
    "text": 48,
    "entry_title": 24,
    "entry_id": 28,
    "status": 10,
}


def table_rows(rows: Sequence[InquiryRow], t: Texts, timezone: str) -> list[list[Any]]:
    """Rows as displayed values: labels translated, times local, scores rounded."""
    zone = ZoneInfo(timezone)
    out = []
    for row in rows:
        values = asdict(row)
        values["created_at"] = row.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        values["outcome"] = t.t(f"log.outcome.{row.outcome}")
        values["status"] = t.t(f"log.status.{row.status or 'none'}")
        values["audience"] = t.t(f"audience.{row.audience}") if row.audience else ""
        values["score"] = round(row.score, 3) if row.score is not None else None
        out.append([values[c] for c in COLUMNS])
    return out


def export_rows(
    rows: Sequence[InquiryRow], path: Path, *, fmt: str, t: Texts, timezone: str
) -> None:
    """Writes ``rows`` to ``path`` as ``csv`` (UTF-8 with BOM, for Excel) or ``xlsx``."""
    header = [t.t(f"log.columns.{c}") for c in COLUMNS]
    body = table_rows(rows, t, timezone)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(body)
        return
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
    sheet.freeze_panes = "A2"
    workbook.save(path)
