"""The spreadsheet reports' tables, built once for the CSV folder and the workbook alike.

Leadership opens these in Excel or Google Sheets, so every table is laid out for people:
headers in words, one row per rep in the rep × rule grid, violations worst rep first (the
terminal's "first 20" are these rows' first 20), and "no data" where nothing could be
judged — never a 0 that reads as a failure. The two writers differ only in how a cell is
typed (:mod:`audit.reports.csv_report` writes text a spreadsheet parses,
:mod:`audit.reports.xlsx_report` writes typed cells), so the tables here hold neutral
values and each column says what kind they are:

- ``text`` — a string or None;
- ``integer`` — a whole count or None;
- ``figure`` — a :class:`Figure` (a share as a fraction 0–1, or a count) or None;
- ``instant`` — the snapshot's UTC text or None; each writer shows it in the SLA's time
  zone (:mod:`audit.reports.local_clock`) followed by a column with its UTC offset,
  because the offset changes within a month (daylight saving) and a wall-clock time
  alone is ambiguous for the hour the clocks go back.

A rule's ``details`` beyond its median and 90th-percentile times are left to the JSON
report: they are nested (histograms, the funnel) and do not fit a cell a person reads; the
summary carries the rule's own sentence instead. Every rule's split by segment, lead source
and tier is a table of its own (:mod:`audit.reports.split_sheet`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from audit.reports import words
from audit.reports.ordering import (
    rule_rank,
)
from audit.reports.rule_facts import counts_violations, rule_unit
from audit.result import AuditResult, RepRow, RuleResult, TeamRow
from audit.wording import compliant_count, human_duration, local_instant

if TYPE_CHECKING:
    from audit.rules.rule import Unit

Kind = Literal["text", "integer", "figure", "instant"]

NO_DATA = "no data"
UNIT_WORDS: dict[str, str] = {"share": "%", "count": "count"}
OFFSET_SUFFIX = " UTC offset"


@dataclass(frozen=True, slots=True)
class Figure:
    """A rule's measured or target value with its unit (a share is a fraction 0–1)."""

    value: float
    unit: Unit


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = "text"


@dataclass
class Sheet:
    """One table: its name (the CSV file's stem, the workbook's sheet), columns and rows."""

    name: str
    columns: list[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)


def status_words(status: str, measured: object = 0, target: object = 0) -> str:
    """A status as a reader says it: pass, warn and fail are words already.

    ``n/a`` says why: no target in the SLA, or nothing measured (an engine that predates
    the ``no_data`` status gives ``n/a`` there; both read "no data").
    """
    if status == "no_data":
        return NO_DATA
    if status == "n/a" and target is None:
        return "no target set"
    if status == "n/a" and measured is None:
        return NO_DATA
    return status


def figure(value: float | None, unit: Unit, *, no_data: bool = False) -> Figure | None:
    """A value as a figure cell; nothing when there is no value or nothing was judged.

    A value that is not a finite number has no cell either: a workbook cannot hold NaN.
    """
    if value is None or no_data or not math.isfinite(value):
        return None
    return Figure(float(value), unit)


# --- summary ----------------------------------------------------------------------------

SUMMARY_COLUMNS = [
    Column("SLA"),
    Column("Period"),
    Column("Provisional"),
    Column("Data coverage"),
    Column("As of", "instant"),
    Column("Time zone"),
    Column("Overall status"),
    Column("Rule"),
    Column("Status"),
    Column("Measured", "figure"),
    Column("Target", "figure"),
    Column("Unit"),
    Column("Judged", "integer"),
    Column("Compliant", "integer"),
    Column("Pending", "integer"),
    Column("Violations", "integer"),
    Column("Median time"),
    Column("90th percentile time"),
    Column("In words"),
    Column("Rule id"),
]


def provisional_words(provisional: bool) -> str:
    return "yes — month to date" if provisional else "no"


def coverage_words(coverage: str, data_start: str | None, timezone: str) -> str:
    """``full``, or where a partly covered month's data starts, or that there is none."""
    if coverage == "partial":
        start = f": data starts {local_instant(data_start, timezone)}" if data_start else ""
        return f"partly covered{start}"
    if coverage == "none":
        return "none: no data for this period"
    return coverage


def summary_sheet(result: AuditResult) -> Sheet:
    """One row per rule; each repeats the SLA, period, as-of and verdict for a pasted row."""
    tz = result.timezone
    as_of_words = local_instant(result.as_of, tz)
    head = (
        result.sla,
        result.period,
        provisional_words(result.provisional),
        coverage_words(result.coverage, result.data_start, tz),
        result.as_of,
        tz,
        status_words(result.status),
    )
    sheet = Sheet("summary", SUMMARY_COLUMNS)
    for rule in result.rules:
        sheet.rows.append((*head, *rule_cells(rule, as_of_words)))
    return sheet


def rule_cells(rule: RuleResult, as_of_words: str) -> tuple[Any, ...]:
    unit = rule_unit(rule.id)
    no_data = rule.status == "no_data"
    median, p90 = rule.details.get("median_minutes"), rule.details.get("p90_minutes")
    return (
        words.rule_title(rule.id),
        status_words(rule.status, rule.measured, rule.target),
        figure(rule.measured, unit, no_data=no_data),
        figure(rule.target, unit),
        UNIT_WORDS[unit],
        rule.judged,
        compliant_count(rule) if unit == "share" and not no_data else None,
        rule.pending,
        len(rule.violations),
        None if median is None else human_duration(median, business=True),
        None if p90 is None else human_duration(p90, business=True),
        words.rule_sentence(rule, as_of_words),
        rule.id,
    )


# --- reps -------------------------------------------------------------------------------


def grid_columns(rule_id: str, unit: Unit, *, intervals: bool = False) -> list[Column]:
    """A grid's columns for one rule: its figure in ``unit``, judged, and violations —
    except for a rule whose shortfall is an outcome, not a breach (conversion) — and with
    ``intervals`` a share's 95 % interval (its low and high ends)."""
    title = words.rule_title(rule_id)
    columns = [
        Column(f"{title} ({UNIT_WORDS[unit]})", "figure"),
        Column(f"{title} judged", "integer"),
    ]
    if counts_violations(rule_id):
        columns.append(Column(f"{title} violations", "integer"))
    if intervals and unit == "share":
        columns += [
            Column(f"{title} 95% low (%)", "figure"),
            Column(f"{title} 95% high (%)", "figure"),
        ]
    return columns


def grid_cells(
    row: RepRow | TeamRow | None, rule_id: str, unit: Unit, *, intervals: bool = False
) -> list[Any]:
    """The cells under :func:`grid_columns` for a rep's or a team's row (empty without one)."""
    cells = (
        [None, None, None]
        if row is None
        else [figure(row.measured, unit), row.judged, row.violations]
    )
    cells = cells if counts_violations(rule_id) else cells[:2]
    if intervals and unit == "share":
        interval = getattr(row, "interval", None)
        ends = [None, None] if interval is None else [figure(end, unit) for end in interval]
        cells += ends
    return cells


# --- trend ------------------------------------------------------------------------------

TREND_COLUMNS = [
    Column("Period"),
    Column("Provisional"),
    Column("Data coverage"),
    Column("As of", "instant"),
    Column("Rule"),
    Column("Status"),
    Column("Measured", "figure"),
    Column("Target", "figure"),
    Column("Unit"),
    Column("Judged", "integer"),
    Column("Pending", "integer"),
    Column("Rule id"),
]


def trend_sheet(result: AuditResult) -> Sheet:
    """Each earlier month's rules (oldest first), then the audited period's, in rule order.

    A month without data (status ``no_data``, or a snapshot that starts after it) says
    "no data" on each of its rows with no measured figure, so a spreadsheet chart of
    ``Measured`` leaves a gap there instead of plotting a 0 % month.
    """
    tz = result.timezone
    sheet = Sheet("trend", TREND_COLUMNS)
    months = [
        (m.period, m.provisional, m.coverage, None, m.as_of, m.status, m.rules)
        for m in result.trend
    ]
    current = {r.id: r.to_dict() for r in result.rules}
    months.append(
        (
            result.period,
            result.provisional,
            result.coverage,
            result.data_start,
            result.as_of,
            result.status,
            current,
        )
    )
    for period, provisional, coverage, start, as_of, status, rules in months:
        month_empty = status == "no_data" or coverage == "none"
        head = (period, provisional_words(provisional), coverage_words(coverage, start, tz), as_of)
        for rule_id in sorted(rules, key=rule_rank):
            sheet.rows.append((*head, *trend_cells(rule_id, rules[rule_id], month_empty)))
    return sheet


def trend_cells(rule_id: str, got: dict[str, Any], month_empty: bool) -> tuple[Any, ...]:
    unit = rule_unit(rule_id)
    measured, target = got.get("measured"), got.get("target")
    no_data = month_empty or got.get("status") == "no_data"
    return (
        words.rule_title(rule_id),
        NO_DATA if no_data else status_words(str(got.get("status")), measured, target),
        figure(measured, unit, no_data=no_data),
        figure(target, unit),
        UNIT_WORDS[unit],
        got.get("judged"),
        got.get("pending"),
        rule_id,
    )
