"""The HTML report's teams table: one row per team, worst first, a column per rule.

Rows and order are :mod:`audit.reports.teams` (the terminal's and the spreadsheets' too);
each cell is the team's own figure in the rule's unit, already in words, with its
violations and pending handoffs beneath, like the reps table's cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.reports import display, words
from audit.reports.rule_facts import rule_unit
from audit.reports.teams import UNASSIGNED, groups_worst_first
from audit.result import AuditResult, TeamRow

NO_DATA = display.status_word("no_data")


@dataclass
class TeamCell:
    text: str
    sort: float | None
    violations: int
    pending: int


@dataclass
class TeamView:
    label: str
    manager: str
    members: str
    """The team's reps, comma-separated ("" for a rep alone or ``unassigned``)."""
    rules_broken: int
    violations: int
    cells: list[TeamCell]


def team_views(result: AuditResult) -> tuple[list[str], list[TeamView]]:
    """The rule titles heading the columns, and the rows; nothing without teams."""
    rule_ids = list(dict.fromkeys(row.rule for row in result.teams))
    views = []
    for group in groups_worst_first(result.teams):
        by_rule = group.by_rule()
        members = [rep for rep in group.reps if rep != UNASSIGNED]
        views.append(
            TeamView(
                label=group.label,
                manager=group.manager or display.MISSING,
                members=", ".join(members) if group.team is not None else "",
                rules_broken=group.rules_with_violations,
                violations=group.violations,
                cells=[team_cell(by_rule.get(rule_id), rule_id) for rule_id in rule_ids],
            )
        )
    return [words.rule_title(rule_id) for rule_id in rule_ids], views


def team_cell(row: TeamRow | None, rule_id: str) -> TeamCell:
    """The team's figure for one rule; "no data" when nothing of it was judged."""
    if row is None:
        return TeamCell("", None, 0, 0)
    if row.measured is None and row.judged == 0:
        return TeamCell(NO_DATA, None, 0, row.pending)
    text = display.measure(row.measured, rule_unit(rule_id))
    return TeamCell(text, row.measured, row.violations, row.pending)
