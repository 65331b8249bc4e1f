"""What every report shows of the teams: who a row stands for, the order, each rep's team.

The result's team rows (:class:`~audit.result.TeamRow`) come one per group and rule; the
table, the page and the spreadsheets show one line per group with a column per rule, in
one order, so the team at the top of the terminal is the team at the top of the page:
the SLA's teams worst first (most rules with violations, then most violations, then
name), then each rep in no team the same way, then ``unassigned``. Ranking by violations,
not by a team status, is the reps' rule too (:func:`ordering.rules_with_violations`): a
team has no target of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from audit.result import TeamRow

NO_TEAM = "(no team)"
UNASSIGNED = "unassigned"
"""The rep name of handoffs with no owner (the JSON contract's word, as
:data:`audit.handoffs.UNASSIGNED`; not imported from there, which would load pandas into
every report)."""


@dataclass(frozen=True)
class Group:
    """One line of a teams table: a team (or a rep alone) and its rows, one per rule."""

    team: str | None
    manager: str | None
    reps: tuple[str, ...]
    rows: tuple[TeamRow, ...]

    @property
    def label(self) -> str:
        """ "inbound"; "felipe@acme.example (no team)" for a rep alone; "unassigned"."""
        if self.team is not None:
            return self.team
        if self.reps == (UNASSIGNED,):
            return UNASSIGNED
        return f"{', '.join(self.reps)} {NO_TEAM}"

    @property
    def rules_with_violations(self) -> int:
        return sum(1 for row in self.rows if row.violations)

    @property
    def violations(self) -> int:
        return sum(row.violations for row in self.rows)

    def by_rule(self) -> dict[str, TeamRow]:
        return {row.rule: row for row in self.rows}


def groups_worst_first(rows: Iterable[TeamRow]) -> list[Group]:
    """The rows as one group per team (or rep alone), teams first, each part worst first."""
    found: dict[tuple[str | None, tuple[str, ...]], list[TeamRow]] = {}
    for row in rows:
        found.setdefault((row.team, tuple(row.reps)), []).append(row)
    groups = [
        Group(team, rows[0].manager, reps, tuple(rows)) for (team, reps), rows in found.items()
    ]

    def rank(group: Group) -> tuple[int, int, int, str]:
        part = 0 if group.team is not None else 2 if group.reps == (UNASSIGNED,) else 1
        return (part, -group.rules_with_violations, -group.violations, group.label)

    return sorted(groups, key=rank)


def team_of_rep(rows: Sequence[TeamRow]) -> dict[str, str]:
    """Each rep's team name, for the rep tables' Team column ("(no team)" for a rep alone).

    ``unassigned`` has no entry: it is no rep, so it belongs to no team and to no "no team".
    """
    teams: dict[str, str] = {}
    for row in rows:
        for rep in row.reps:
            if rep != UNASSIGNED:
                teams[rep] = row.team if row.team is not None else NO_TEAM
    return teams
