"""The CSV report: a folder of files that open cleanly in Excel and Google Sheets.

- ``summary.csv`` — one row per rule; every row repeats the SLA, period, whether the month
  is provisional (month to date), its data coverage, the as-of and the overall status, so
  a filtered or pasted row still says what it belongs to.
- ``reps.csv`` — the rep × rule grid: one row per rep, worst first (with a Team column
  when the SLA declares teams).
- ``teams.csv`` — only when the SLA declares teams: the team × rule grid, teams worst
  first, then each rep in no team, then ``unassigned`` (:mod:`audit.reports.team_sheet`).
- ``violations.csv`` — one row per violating handoff, worst rep first (the table's first
  20 are this file's first 20); the instants behind each violation follow as columns.
- ``pending.csv`` — handoffs not decidable yet as of the audit's as-of.
- ``splits.csv`` — every rule by segment, by lead source and (with tiers) by tier, one
  row per group, largest group first (:mod:`audit.reports.split_sheet`).
- ``trend.csv`` — only with ``--trend N``: one row per month per rule, the earlier months
  oldest first, then the audited period, so a spreadsheet chart needs no second file.
- ``speed_outcome.csv`` — connect and MQL→SQL rates with 95 % intervals by first-touch
  band and by attempts, for the period and the trend window
  (:mod:`audit.reports.speed_outcome_sheet`).

The tables and their columns are :mod:`audit.reports.sheets` (shared with the workbook);
a rule's nested details are left to the JSON report. Conventions a reader relies on:

- Headers are words. Shares are percentages with one decimal (``82.3``; the header or a
  ``Unit`` column says ``%``), counts are whole numbers; numbers are never quoted, so a
  spreadsheet reads them as numbers. Nothing judged is "no data" in the status column and
  an empty figure, never a 0.
- Instants are local wall time in the SLA's time zone, ``2026-10-02 15:00:00`` (Excel,
  Sheets and pandas read it as a date and time), each followed by a ``… UTC offset``
  column (``UTC+02:00``): the offset changes within a month. ``summary.csv`` names the
  zone. Durations are words ("2 h 12 min (business)").
- An empty cell means "no value".
- UTF-8 with a byte-order mark (Excel otherwise guesses the legacy code page and mangles
  "João"), CRLF line endings (the csv module's default dialect).
- A text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is prefixed
  with ``'``: CRM values are typed by outsiders, and a lead named ``=HYPERLINK(…)`` must
  stay text instead of running as a formula (CSV injection).
- A reused folder holds only this run's files: a file of ours (by name) that this run did
  not write, such as a ``trend.csv`` from an earlier ``--trend`` run, is removed; any other
  file is left alone.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from audit.reports.files import ensure_private_folder, private_text_file
from audit.reports.local_clock import LocalClock
from audit.reports.sheet_list import report_sheets
from audit.reports.sheets import (
    OFFSET_SUFFIX,
    Column,
    Figure,
    Sheet,
)
from audit.result import AuditResult

ENCODING = "utf-8-sig"
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
FILE_NAMES: tuple[str, ...] = (
    "summary.csv",
    "reps.csv",
    "teams.csv",
    "violations.csv",
    "pending.csv",
    "splits.csv",
    "trend.csv",
    "speed_outcome.csv",
)
"""Every file this report writes; only these are ever removed from a reused folder."""

Row = Sequence[Any]
Cells = Callable[[Any], tuple[Any, ...]]


def spreadsheet_cell(value: Any) -> Any:
    """A value as a spreadsheet should see it.

    Real numbers stay numbers (so ``-0.5`` is written bare, not quoted or prefixed); text
    that a spreadsheet would run as a formula gets a leading ``'``; None becomes empty.
    Booleans are text ("true"/"false"): Excel would otherwise show Python's "True".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def figure_cell(value: Figure | None) -> Any:
    """A share as a percentage with one decimal (0.8231 → 82.3); a count as a whole number.

    A fractional count (a pro-rated target, 583.3) keeps one decimal: shown as 583 it
    would make a measured 583 look met.
    """
    if value is None:
        return ""
    if value.unit == "share":
        return round(value.value * 100, 1)
    return int(value.value) if value.value.is_integer() else round(value.value, 1)


def header(columns: Sequence[Column]) -> list[str]:
    """The columns' headers; an instant's is followed by its offset column's."""
    names: list[str] = []
    for column in columns:
        names.append(column.header)
        if column.kind == "instant":
            names.append(column.header + OFFSET_SUFFIX)
    return names


def converter(column: Column, clock: LocalClock) -> Cells:
    """How one column's value becomes its CSV cell (two cells for an instant)."""
    if column.kind == "figure":
        return lambda value: (figure_cell(value),)
    if column.kind == "integer":
        return lambda value: ("" if value is None else int(value),)
    if column.kind == "instant":

        def instant(value: Any) -> tuple[Any, ...]:
            parts = clock(value)
            return ("", "") if parts is None else (spreadsheet_cell(parts[0]), parts[1])

        return instant
    return lambda value: (spreadsheet_cell(value),)


def csv_rows(sheet: Sheet, clock: LocalClock) -> Iterable[list[Any]]:
    """The sheet's rows as CSV cells, one list per row."""
    converters = [converter(column, clock) for column in sheet.columns]
    for row in sheet.rows:
        cells: list[Any] = []
        for convert, value in zip(converters, row, strict=True):
            cells.extend(convert(value))
        yield cells


def write_sheet(folder: Path, sheet: Sheet, clock: LocalClock) -> Path:
    """Write one table as ``<name>.csv`` (BOM, CRLF, neutralised cells, owner-only)."""
    path = folder / f"{sheet.name}.csv"
    with private_text_file(path, encoding=ENCODING, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header(sheet.columns))
        writer.writerows(csv_rows(sheet, clock))
    return path


def remove_stale(folder: Path, written: Sequence[Path]) -> None:
    """Remove our files (by name) that this run did not write; leave everything else."""
    kept = {path.name for path in written}
    for name in FILE_NAMES:
        path = folder / name
        if name not in kept and path.is_file():
            path.unlink()


def write_csv_folder(result: AuditResult, folder: Path) -> list[Path]:
    """Write the CSV files into ``folder`` (created owner-only if missing).

    Five always; ``teams.csv`` as well when the SLA declares teams, ``trend.csv`` when the
    result carries a trend. The new files are
    in place before stale ones are removed, so a failed run leaves the previous report.
    """
    ensure_private_folder(folder)
    sheets = report_sheets(result, trend_always=False)
    clock = LocalClock(result.timezone)
    paths = [write_sheet(folder, sheet, clock) for sheet in sheets]
    remove_stale(folder, paths)
    return paths
