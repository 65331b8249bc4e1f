"""The rep × rule grid of the CSV folder (``reps.csv``) and the workbook (sheet ``Reps``).

One row per ranked rep, worst first (as the table and the page), then the reps with too
few judged handoffs to rank, by name (:mod:`audit.rep_judging`); per rule the rep's figure,
judged and violations, and for a share its 95 % interval.
"""

from __future__ import annotations

from typing import Any

from audit.reports.ordering import (
    ranked_rep,
    reps_too_few,
    reps_worst_first,
    rules_with_violations,
    violation_total,
)
from audit.reports.rule_facts import rep_unit
from audit.reports.sheets import Column, Sheet, grid_cells, grid_columns
from audit.reports.teams import team_of_rep
from audit.result import AuditResult


def reps_sheet(result: AuditResult) -> Sheet:
    """The rep × rule grid: one row per rep, worst first (as the table and the page).

    Per rule that reports reps: the rep's figure (a share, or a count for a count rule),
    how many of the rep's handoffs were judged, how many broke the rule, and for a share
    its 95 % interval. A rep with no row for a rule has empty cells there; a rep with
    nothing judged has no figure. With teams in the SLA, a Team column follows the rep.
    Reps with too few judged handoffs to rank come last, by name, marked in the last
    column (:mod:`audit.rep_judging`).
    """
    rule_ids = [rule.id for rule in result.rules if rule.reps]
    teams = team_of_rep(result.teams) if result.teams else None
    columns = [
        Column("Rep"),
        Column("Rep name"),
        *([Column("Team")] if teams is not None else []),
        Column("Rules with violations", "integer"),
        Column("Violations", "integer"),
    ]
    for rule_id in rule_ids:
        columns += grid_columns(rule_id, rep_unit(rule_id), intervals=True)
    columns.append(Column("Too few to judge"))
    sheet = Sheet("reps", columns)
    listed = reps_worst_first(result.reps) + reps_too_few(result.reps)
    for rep, rep_rows in listed:
        by_rule = {row.rule: row for row in rep_rows}
        team = [] if teams is None else [teams.get(rep)]
        counts = [rules_with_violations(rep_rows), violation_total(rep_rows)]
        cells: list[Any] = [rep, rep_rows[0].rep_name, *team, *counts]  # one name per rep
        for rule_id in rule_ids:
            row = by_rule.get(rule_id)
            cells += grid_cells(row, rule_id, rep_unit(rule_id), intervals=True)
        cells.append(None if ranked_rep(rep_rows) else too_few_mark(result.rep_min_judged))
        sheet.rows.append(cells)
    return sheet


def too_few_mark(min_judged: int) -> str:
    return f"too few to judge (under {min_judged} judged)"
