"""Each rule's per-rep rows rolled up by the SLA's teams (docs/SEMANTICS.md Part II, Teams).

A team's figure is computed from its reps' rows, which the rules computed from the
handoffs: nothing is judged twice, so the team rows add up to the rep rows by
construction. For a rule whose figure is a share of handoffs, a team's share is pooled —
its reps' compliant handoffs over their judged handoffs, never an average of the reps'
shares (a rep with 2 handoffs must not weigh as much as one with 200). A count is summed.
``mql_per_rep`` judges reps rather than handoffs: a team's figure is the share of its
reps within the range.

Who is rolled up where: a team holds the reps the SLA file lists for it that the audit
has rows for (active owners and anyone responsible for a handoff in the period). A rep in
no team is a row of its own, and so is ``unassigned``: no handoff disappears from the
team view. A listed rep the audit has no row for (no handoff and no active owner) cannot
count, and :func:`team_notes` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.handoffs import UNASSIGNED
from audit.result import RepRow, RuleResult, TeamRow
from audit.rules import ALL_RULES_BY_ID
from audit.status import share
from config.sla import SLA


@dataclass(frozen=True)
class Group:
    """Who one team row stands for: a declared team, or one rep (or ``unassigned``) alone."""

    team: str | None
    manager: str | None
    reps: tuple[str, ...]


def team_rows(rules: Sequence[RuleResult], sla: SLA) -> list[TeamRow]:
    """Per group and rule, the reps' figures rolled up; nothing when the SLA has no teams.

    Declared teams come first (in the file's order), then each rep in no team, then
    ``unassigned``; within a group, the rules in the audit's order.
    """
    if not sla.teams:
        return []
    rows = []
    for group in groups(rules, sla):
        for rule in rules:
            members = [r for r in rule.reps if r.rep in group.reps]
            rows.append(roll_up(group, rule, members))
    return rows


def groups(rules: Sequence[RuleResult], sla: SLA) -> list[Group]:
    """The teams, then each rep of the audit in no team, then ``unassigned`` if it has rows."""
    seen = _reps_seen(rules)
    found: list[Group] = [
        Group(name, team.manager, tuple(rep for rep in team.reps if rep in seen))
        for name, team in sla.teams.items()
    ]
    in_a_team = {rep for group in found for rep in group.reps}
    loose = [rep for rep in seen if rep not in in_a_team and rep != UNASSIGNED]
    found += [Group(None, None, (rep,)) for rep in loose]
    if UNASSIGNED in seen:
        found.append(Group(None, None, (UNASSIGNED,)))
    return found


def _reps_seen(rules: Sequence[RuleResult]) -> list[str]:
    """Every rep with a row for some rule, in first-seen order (the rules' own order)."""
    seen: dict[str, None] = {}
    for rule in rules:
        seen.update(dict.fromkeys(row.rep for row in rule.reps))
    return list(seen)


def roll_up(group: Group, rule: RuleResult, members: Sequence[RepRow]) -> TeamRow:
    """One group's row for one rule from its members' rows for that rule."""
    judged, measured = _figure(rule, members)
    return TeamRow(
        team=group.team,
        rule=rule.id,
        measured=measured,
        judged=judged,
        pending=sum(r.pending for r in members),
        violations=sum(r.violations for r in members),
        manager=group.manager,
        reps=list(group.reps),
    )


def _figure(rule: RuleResult, members: Sequence[RepRow]) -> tuple[int, float | None]:
    """The group's judged count and figure for the rule, in the rule's own terms."""
    known = ALL_RULES_BY_ID.get(rule.id)
    unit, rep_unit = (known.unit, known.rep_unit) if known else ("share", "share")
    if unit == "count":  # mql_volume: the group's handoffs
        counted = [r.measured for r in members if r.measured is not None]
        return sum(r.judged for r in members), float(sum(counted)) if counted else None
    if rep_unit == "count":  # mql_per_rep: reps judged, each in range or not (a violation)
        reps = [r for r in members if r.rep != UNASSIGNED]
        if rule.measured is None:  # no range set, or no data for the month
            return len(reps), None
        return len(reps), share(sum(1 for r in reps if not r.violations), len(reps))
    judged = sum(r.judged for r in members)
    return judged, share(sum(compliant(r) for r in members), judged)


def compliant(row: RepRow) -> int:
    """A rep's compliant handoffs: their share times their judged (exact, as it was made)."""
    return 0 if row.measured is None else round(row.measured * row.judged)


def team_notes(rules: Sequence[RuleResult], sla: SLA) -> list[str]:
    """Name each listed rep the audit has no row for: they count in no team figure."""
    seen = set(_reps_seen(rules))
    notes = []
    for name, team in sla.teams.items():
        absent = [rep for rep in team.reps if rep not in seen]
        if absent:
            who = ", ".join(absent)
            verb = "is" if len(absent) == 1 else "are"
            notes.append(
                f"team {name}: {who} {verb} no active owner in the snapshot and had no "
                "handoff in the period, so the team's figures leave them out; check the "
                "email against the CRM user"
            )
    return notes
