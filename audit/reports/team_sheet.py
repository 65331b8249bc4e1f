"""The teams table of the CSV folder (``teams.csv``) and the workbook (sheet ``Teams``).

One row per team, worst first, then each rep in no team, then ``unassigned``
(:mod:`audit.reports.teams`), and per rule the team's figure in the rule's own unit — a
share pooled over the team's reps' handoffs (for MQLs per rep, the share of its reps in
range), a count summed — with how many were judged and how many broke the rule. Only
written when the SLA declares teams.
"""

from __future__ import annotations

from typing import Any

from audit.reports.rule_facts import rule_unit
from audit.reports.sheets import Column, Sheet, grid_cells, grid_columns
from audit.reports.teams import UNASSIGNED, groups_worst_first
from audit.result import AuditResult

LEAD_COLUMNS = [
    Column("Team"),
    Column("Manager"),
    Column("Reps"),
    Column("Rules with violations", "integer"),
    Column("Violations", "integer"),
]


def teams_sheet(result: AuditResult) -> Sheet:
    """The team × rule grid (see the module's docstring); no rows without teams."""
    rule_ids = list(dict.fromkeys(row.rule for row in result.teams))
    columns = list(LEAD_COLUMNS)
    for rule_id in rule_ids:
        columns += grid_columns(rule_id, rule_unit(rule_id))
    sheet = Sheet("teams", columns)
    for group in groups_worst_first(result.teams):
        by_rule = group.by_rule()
        reps = [rep for rep in group.reps if rep != UNASSIGNED]
        cells: list[Any] = [
            group.label,
            group.manager,
            ", ".join(reps) or None,
            group.rules_with_violations,
            group.violations,
        ]
        for rule_id in rule_ids:
            cells += grid_cells(by_rule.get(rule_id), rule_id, rule_unit(rule_id))
        sheet.rows.append(cells)
    return sheet
