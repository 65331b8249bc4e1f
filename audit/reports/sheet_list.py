"""The tables of the spreadsheet reports, in order: one list for the CSV folder and the
workbook, so the two never disagree on which tables there are or in what order."""

from __future__ import annotations

from audit.reports.evidence_sheets import pending_sheet, violations_sheet
from audit.reports.rep_sheet import reps_sheet
from audit.reports.sheets import Sheet, summary_sheet, trend_sheet
from audit.reports.speed_outcome_sheet import speed_outcome_sheet
from audit.reports.split_sheet import splits_sheet
from audit.reports.team_sheet import teams_sheet
from audit.result import AuditResult


def report_sheets(result: AuditResult, *, trend_always: bool) -> list[Sheet]:
    """Summary, Reps, Teams (when the SLA declares teams), Violations, Pending, Splits,
    Trend, Speed_outcome (for an audit's result).

    ``trend_always``: the workbook always has its Trend sheet (the audited month alone
    without ``--trend``); the CSV folder writes ``trend.csv`` only with a trend.
    """
    speed_outcome = speed_outcome_sheet(result)
    return [
        summary_sheet(result),
        reps_sheet(result),
        *([teams_sheet(result)] if result.teams else []),
        violations_sheet(result),
        pending_sheet(result),
        splits_sheet(result),
        *([trend_sheet(result)] if trend_always or result.trend else []),
        *([speed_outcome] if speed_outcome is not None else []),
    ]
