"""Speed → outcome as a spreadsheet table: ``speed_outcome.csv`` and the workbook's sheet.

The rates and intervals come from the result (:meth:`AuditResult.speed_outcome_report`);
this module lays them out. One spreadsheet row per group and scope — the audited month,
then with ``--trend`` the trend window pooled — each row repeating its scope and the
scope's sentence, as ``summary.csv`` repeats the SLA, so a filtered row still says what it
belongs to. A group with fewer than :data:`~audit.outcome_claims.MIN_GROUP` judged handoffs
says so in its Note: its rate is shown, but nothing is claimed from it.
"""

from __future__ import annotations

from typing import Any

from audit.outcome_claims import MIN_GROUP, OutcomeFindings, SpeedOutcomeReport
from audit.outcome_rates import OutcomeRow, Rate
from audit.reports.sheets import Column, Figure, Sheet
from audit.result import AuditResult

GROUPINGS: tuple[tuple[str, str], ...] = (
    ("by_first_touch", "First touch (business time)"),
    ("by_attempts", "Counted attempts"),
)
OUTCOME_TITLES: dict[str, str] = {"connect": "Connect", "sql": "MQL→SQL"}
HIT_TITLES: dict[str, str] = {"connect": "Connected", "sql": "Became SQL"}


def sheet_columns() -> list[Column]:
    columns = [Column("Scope"), Column("Grouping"), Column("Group")]
    for outcome, title in OUTCOME_TITLES.items():
        columns += [
            Column(f"{title} judged", "integer"),
            Column(HIT_TITLES[outcome], "integer"),
            Column(f"{title} rate", "figure"),
            Column(f"{title} 95% low", "figure"),
            Column(f"{title} 95% high", "figure"),
        ]
    return [*columns, Column("Note"), Column("In words")]


def scopes(report: SpeedOutcomeReport) -> list[OutcomeFindings]:
    """The audited month, then the trend window when there is one."""
    return [report.period, *([report.trend_window] if report.trend_window else [])]


def rows_of(found: OutcomeFindings, grouping: str) -> tuple[OutcomeRow, ...]:
    return getattr(found.table, grouping)


def speed_outcome_sheet(result: AuditResult) -> Sheet | None:
    """The table of ``speed_outcome.csv`` (None for a result without speed → outcome)."""
    report = result.speed_outcome_report()
    if report is None:
        return None
    sheet = Sheet("speed_outcome", sheet_columns())
    for found in scopes(report):
        for grouping, grouping_title in GROUPINGS:
            for row in rows_of(found, grouping):
                cells: list[Any] = [found.scope, grouping_title, row.label]
                for outcome in OUTCOME_TITLES:
                    cells += rate_cells(row.outcome(outcome))
                sheet.rows.append((*cells, few_note(row), found.sentence))
    return sheet


def rate_cells(rate: Rate) -> list[Any]:
    low, high = rate.interval or (None, None)
    return [rate.judged, rate.hits, *(_share(value) for value in (rate.rate, low, high))]


def _share(value: float | None) -> Figure | None:
    return None if value is None else Figure(value, "share")


def few_note(row: OutcomeRow) -> str:
    """Which outcomes of the row have too few judged handoffs to claim anything from."""
    few = [OUTCOME_TITLES[name] for name in OUTCOME_TITLES if row.outcome(name).judged < MIN_GROUP]
    if not few:
        return ""
    return f"fewer than {MIN_GROUP} judged ({' and '.join(few)}): too few to compare"
