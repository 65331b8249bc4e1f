"""Worksheet rows as SpreadsheetML, written into the workbook that openpyxl laid out.

openpyxl writes a cell in about 10 µs, even in write-only mode: a month with 100,000
violations and eighteen columns would take half a minute. So openpyxl keeps what makes a
workbook — the sheets, styles and number formats, column widths, frozen panes, the
package's parts — and saves it with every sheet empty; :func:`fill_workbook` then copies
that archive and writes each sheet's rows into its empty ``<sheetData>``, rendered here
with plain string formatting (well under a microsecond a cell).

A cell given to :func:`render_rows` is one of:

- ``None`` — no cell;
- ``str`` — an inline string (the caller has removed characters XML cannot hold);
- ``(value, style)`` — an int, float, datetime or str with a style id that openpyxl
  registered (:attr:`openpyxl.cell.WriteOnlyCell.style_id`): a number format, the bold
  header, or the quote prefix that keeps a formula-like string text.
"""

from __future__ import annotations

import math
import numbers
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from openpyxl.utils import get_column_letter

EXCEL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Excel's 1900 date system (which counts a 29 February 1900 that never was)."""
EMPTY_SHEET_DATA = re.compile(rb"<sheetData\s*/>|<sheetData>\s*</sheetData>")
ROWS_PER_CHUNK = 2_000
XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters an XML 1.0 document cannot hold (openpyxl refuses them too)."""


def xml_safe(text: str) -> str:
    """``text`` without the characters XML cannot hold (each becomes a space)."""
    return XML_UNSAFE.sub(" ", text)


def escape(text: str) -> str:
    """Text content escaped for XML; a carriage return survives as a character reference."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def excel_serial(moment: datetime) -> float:
    """A naive datetime as Excel's serial number (days since 1899-12-30, time as fraction)."""
    return (moment - EXCEL_EPOCH).total_seconds() / 86_400


def number_text(value: Any) -> str | None:
    """A number cell's ``<v>`` text, or None when it is not a finite number.

    Python's own ``int``/``float`` text, whatever the value's type: ``repr`` of a numpy
    scalar is ``np.float64(0.5)`` and of a bool ``True``, neither of which a spreadsheet
    reads as a number.
    """
    if isinstance(value, datetime):
        value = excel_serial(value)
    if isinstance(value, bool | int | numbers.Integral):
        return str(int(value))
    number = float(value)
    return repr(number) if math.isfinite(number) else None


def cell_xml(ref: str, cell: Any) -> str:
    """One ``<c>`` element; empty text for no cell."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(cell)}</t></is></c>'
    value, style = cell
    if isinstance(value, str):
        return (
            f'<c r="{ref}" s="{style}" t="inlineStr">'
            f'<is><t xml:space="preserve">{escape(value)}</t></is></c>'
        )
    number = number_text(value)
    if number is None:
        return ""
    return f'<c r="{ref}" s="{style}"><v>{number}</v></c>'


def render_rows(rows: Iterable[Sequence[Any]], width: int) -> Iterator[str]:
    """``<row>`` elements numbered from 1, joined into chunks of :data:`ROWS_PER_CHUNK`."""
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    chunk: list[str] = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(
            cell_xml(f"{letter}{number}", cell) for letter, cell in zip(letters, row, strict=False)
        )
        chunk.append(f'<row r="{number}">{cells}</row>')
        if len(chunk) == ROWS_PER_CHUNK:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def fill_workbook(
    skeleton: IO[bytes], target: IO[bytes], parts: Mapping[str, Iterable[str]]
) -> None:
    """Copy the archive ``skeleton`` to ``target``, filling each named sheet part's rows.

    ``parts`` maps a part's name in the archive (``xl/worksheets/sheet1.xml``) to its
    rendered rows. A part that has no empty ``<sheetData>`` is a bug (openpyxl changed how
    it writes an empty sheet), never a half-written workbook.
    """
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out,
    ):
        for info in source.infolist():
            data = source.read(info)
            rows = parts.get(info.filename)
            if rows is None:
                out.writestr(info.filename, data)
                continue
            found = EMPTY_SHEET_DATA.search(data)
            if found is None:
                raise RuntimeError(f"{info.filename} has no empty <sheetData> to fill")
            with out.open(info.filename, "w") as part:
                part.write(data[: found.start()] + b"<sheetData>")
                for chunk in rows:
                    part.write(chunk.encode("utf-8"))
                part.write(b"</sheetData>" + data[found.end() :])
