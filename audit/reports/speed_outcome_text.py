"""Speed → outcome in the table report: the audited month's two compact tables, then its
sentences below them.

The trend window is left to the JSON, CSV, workbook and HTML reports, as the trend itself
is: the table report reads the same with and without ``--trend``.

A rate from fewer than :data:`~audit.outcome_claims.MIN_GROUP` judged handoffs is shown
with a ``*``: a reader sees it, and the footer says nothing is claimed from it.
"""

from __future__ import annotations

from audit.outcome_claims import MIN_GROUP
from audit.outcome_rates import OutcomeRow, Rate
from audit.reports.grid import Cell, Grid
from audit.reports.speed_outcome_sheet import OUTCOME_TITLES, rows_of
from audit.result import AuditResult

HEADERS: tuple[str, ...] = (
    "connected",
    "95% interval",
    "judged",
    "became SQL",
    "95% interval",
    "judged",
)
FEW_MARK = " *"
GROUPINGS: tuple[tuple[str, str], ...] = (
    ("by_first_touch", "first touch"),
    ("by_attempts", "attempts"),
)


def speed_outcome_grids(result: AuditResult) -> list[Grid]:
    """Two grids (by first touch, by attempts); the last one's footer holds the words."""
    report = result.speed_outcome_report()
    if report is None:
        return []
    found = report.period
    grids = [
        Grid(
            f"Speed → outcome by {title} ({found.scope})",
            (title, *HEADERS),
            [text_row(row) for row in rows_of(found, grouping)],
            numeric=frozenset(range(1, len(HEADERS) + 1)),
            nowrap=frozenset(range(len(HEADERS) + 1)),
        )
        for grouping, title in GROUPINGS
    ]
    few = any(FEW_MARK in cell.text for grid in grids for row in grid.rows for cell in row)
    words = [f"* fewer than {MIN_GROUP} judged: shown, too few to compare."] if few else []
    words.append(found.sentence)
    grids[-1].footer = "\n".join(words)
    return grids


def text_row(row: OutcomeRow) -> tuple[Cell, ...]:
    cells = [Cell(row.label)]
    for name in OUTCOME_TITLES:
        rate = row.outcome(name)
        few = FEW_MARK if rate.judged < MIN_GROUP else ""
        cells += [Cell(percent(rate.rate) + few), Cell(interval(rate)), Cell(str(rate.judged))]
    return tuple(cells)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def interval(rate: Rate) -> str:
    """``63.3–76.9%``; "—" when nothing was judged."""
    if rate.interval is None:
        return "—"
    low, high = rate.interval
    return f"{low:.1%}–{high:.1%}".replace("%–", "–", 1)
