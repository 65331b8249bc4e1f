"""The Excel workbook: the CSV folder's tables as typed sheets in one ``.xlsx`` file.

Sheets ``Summary``, ``Reps``, ``Teams``, ``Violations``, ``Pending`` and ``Trend`` hold the
tables of :mod:`audit.reports.sheets` (and its siblings for teams, evidence and splits), the
same rows in the same order as the CSV files. The Teams sheet is there when the SLA declares
teams; the Trend sheet always: without ``--trend`` it holds the audited month alone;
Speed_outcome last, for an audit's result (:mod:`audit.reports.speed_outcome_sheet`). What the
workbook adds over CSV is types, so nothing is left to a spreadsheet's guessing:

- shares are the real fractions formatted ``0.0%`` (a formula over them computes with
  0.823, not 82.3); counts are numbers formatted ``0`` (``0.0`` for a pro-rated target);
- instants are datetime cells formatted ``yyyy-mm-dd hh:mm``, in the SLA's time zone. Excel
  has no time zones, so the values are naive local times; the header names the zone and
  the next column gives each instant's UTC offset (it changes within a month);
- CRM text is always a string cell, never a formula: text starting with ``=``, ``+``, ``-``
  or ``@`` is stored as a string with Excel's quote prefix (editing it keeps it text), and
  characters a workbook cannot hold (control characters) become spaces;
- the header row is frozen (and the rep column of the grid), columns are as wide as their
  content, up to :data:`MAX_WIDTH` characters.

openpyxl (in write-only mode) lays the workbook out — sheets, styles, number formats,
widths, frozen panes — and :mod:`audit.reports.xlsx_rows` writes the rows into it, so a
month with 100,000 violations takes seconds, not the half minute openpyxl's per-cell
writer needs. The file is owner-only and appears whole or not at all
(:mod:`audit.reports.files`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from audit.reports.csv_report import FORMULA_PREFIXES
from audit.reports.files import private_text_file
from audit.reports.local_clock import LocalClock
from audit.reports.sheet_list import report_sheets
from audit.reports.sheets import (
    OFFSET_SUFFIX,
    Column,
    Figure,
    Sheet,
)
from audit.reports.xlsx_rows import fill_workbook, render_rows, xml_safe
from audit.result import AuditResult

SHARE_FORMAT = "0.0%"
INTEGER_FORMAT = "0"
FRACTION_FORMAT = "0.0"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60
"""Widest a column gets (characters); longer text (reasons, sentences) is cut off on screen."""
MAX_TEXT = 32_767
"""Excel's limit for one cell's text; a longer value is cut rather than corrupt the file."""
FIXED_WIDTHS = {"figure": 8, "instant": len("2026-10-02 15:00")}
OFFSET_WIDTH = len("UTC+05:30")
FREEZE = {"reps": "B2", "teams": "B2"}
"""Where a sheet's panes freeze (default ``A2``, the header row): a grid keeps its names."""

Cells = Callable[[Any], tuple[Any, ...]]


@dataclass(frozen=True)
class Styles:
    """The workbook's cell styles, as the ids openpyxl registered for them."""

    header: int
    share: int
    integer: int
    fraction: int
    instant: int
    quoted: int

    @classmethod
    def register(cls, worksheet: WriteOnlyWorksheet) -> Styles:
        def style(**attributes: Any) -> int:
            cell = WriteOnlyCell(worksheet)
            for name, value in attributes.items():
                setattr(cell, name, value)
            return cell.style_id

        return cls(
            header=style(font=Font(bold=True)),
            share=style(number_format=SHARE_FORMAT),
            integer=style(number_format=INTEGER_FORMAT),
            fraction=style(number_format=FRACTION_FORMAT),
            instant=style(number_format=DATETIME_FORMAT),
            quoted=style(quotePrefix=True),
        )


def write_xlsx(result: AuditResult, path: Path) -> Path:
    """Write the workbook to ``path`` (owner-only, replaced atomically) and return it."""
    sheets = report_sheets(result, trend_always=True)
    workbook = Workbook(write_only=True)
    worksheets = [lay_out(workbook, sheet, result.timezone) for sheet in sheets]
    styles = Styles.register(worksheets[0])
    skeleton = io.BytesIO()
    workbook.save(skeleton)
    parts = {}
    clock = LocalClock(result.timezone)
    for worksheet, sheet in zip(worksheets, sheets, strict=True):
        width = len(expanded_headers(sheet.columns, result.timezone))
        rows = sheet_cells(sheet, styles, clock)
        parts[worksheet.path.lstrip("/")] = render_rows(rows, width)  # named when saved
    with private_text_file(path) as stream:
        fill_workbook(skeleton, stream.buffer, parts)  # a zip archive: bytes
    return path


def lay_out(workbook: Workbook, sheet: Sheet, timezone: str) -> WriteOnlyWorksheet:
    """An empty worksheet with the sheet's column widths and frozen header."""
    worksheet = workbook.create_sheet(sheet.name.capitalize())
    headers = expanded_headers(sheet.columns, timezone)
    for index, width in enumerate(column_widths(sheet, headers), start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = width
    worksheet.freeze_panes = FREEZE.get(sheet.name, "A2")
    return worksheet


def sheet_cells(sheet: Sheet, styles: Styles, clock: LocalClock) -> Iterator[list[Any]]:
    """The header row, then each row's cells (see :mod:`audit.reports.xlsx_rows`)."""
    headers = expanded_headers(sheet.columns, clock.timezone)
    yield [(text_value(header), styles.header) for header in headers]
    converters = [converter(column, styles, clock) for column in sheet.columns]
    for row in sheet.rows:
        cells: list[Any] = []
        for convert, value in zip(converters, row, strict=True):
            cells.extend(convert(value))
        yield cells


def expanded_headers(columns: Sequence[Column], timezone: str) -> list[str]:
    """Headers with the zone named on each instant and its offset column after it."""
    headers: list[str] = []
    for column in columns:
        if column.kind == "instant":
            zone = f" ({timezone})" if timezone else ""
            headers += [f"{column.header}{zone}", column.header + OFFSET_SUFFIX]
        else:
            headers.append(column.header)
    return headers


def column_widths(sheet: Sheet, headers: Sequence[str]) -> list[float]:
    """Each column's width: its widest cell or header, plus a margin, capped."""
    content: list[int] = []
    for index, column in enumerate(sheet.columns):
        fixed = FIXED_WIDTHS.get(column.kind)
        values = (row[index] for row in sheet.rows)
        widest = fixed or max((len(str(v)) for v in values if v is not None), default=0)
        content.append(widest)
        if column.kind == "instant":
            content.append(OFFSET_WIDTH)
    return [
        min(MAX_WIDTH, max(width, len(header))) + 2
        for width, header in zip(content, headers, strict=True)
    ]


def text_value(value: Any) -> str:
    """Text a workbook can hold: no control characters, at most Excel's cell limit."""
    return xml_safe(str(value))[:MAX_TEXT]


def converter(column: Column, styles: Styles, clock: LocalClock) -> Cells:
    """How one column's value becomes its cells (two for an instant)."""
    if column.kind == "figure":
        return lambda value: (figure_cell(value, styles),)
    if column.kind == "integer":
        return lambda value: (None if value is None else (int(value), styles.integer),)
    if column.kind == "instant":
        return lambda value: instant_cells(value, styles, clock)
    return lambda value: (text_cell(value, styles),)


def text_cell(value: Any, styles: Styles) -> Any:
    """A string cell; one a spreadsheet could run as a formula gets the quote prefix."""
    if value is None:
        return None
    text = text_value(value)
    return (text, styles.quoted) if text.startswith(FORMULA_PREFIXES) else text


def figure_cell(value: Figure | None, styles: Styles) -> Any:
    """A share as its fraction formatted ``0.0%``; a count as a whole or one-decimal number."""
    if value is None:
        return None
    if value.unit == "share":
        return (value.value, styles.share)
    if value.value.is_integer():
        return (int(value.value), styles.integer)
    return (round(value.value, 1), styles.fraction)


def instant_cells(value: Any, styles: Styles, clock: LocalClock) -> tuple[Any, Any]:
    """A naive local datetime and its ``UTC+02:00`` offset (text that is no instant stays
    text)."""
    parts = clock(value)
    if parts is None:
        return None, None
    stamp, offset = parts
    if not offset:
        return text_cell(stamp, styles), None
    return (datetime.fromisoformat(stamp), styles.instant), offset
