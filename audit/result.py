"""What an audit returns: plain data that the report writers format and never recompute.

The field names follow the JSON contract of docs/CONTRACTS.md; :meth:`AuditResult.to_dict` is
that contract exactly, plus additive keys (``timezone``, ``pending``, ``trend``, ``teams``,
and per row the pending/violation counts, the source, the violation kind and its instants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, Literal

from audit.outcome_claims import SpeedOutcomeReport, speed_outcome_report
from audit.outcome_rates import OutcomeTable
from config.exit_codes import EXIT_FAIL, EXIT_OK
from config.sla import RULE_IDS

Status = Literal["pass", "warn", "fail", "n/a", "no_data"]
"""``n/a``: the SLA sets no target for the rule. ``no_data``: nothing could be judged (no
handoff in the period, or none whose outcome is known yet); never a failure."""

Coverage = Literal["full", "partial", "none"]
"""How much of the period the snapshot's data covers: ``partial`` when the data starts
inside the period, ``none`` when it starts after the period ends."""

__all__ = ["RULE_IDS", "STATUS_ORDER", "AuditResult", "RuleResult", "TeamRow"]

SPLIT_KEYS: tuple[str, ...] = ("by_segment", "by_lead_source", "by_tier")
"""Each rule's splits in the JSON report, in this order (docs/CONTRACTS.md)."""

STATUS_ORDER: dict[str, int] = {"n/a": 0, "no_data": 1, "pass": 2, "warn": 3, "fail": 4}


@dataclass(slots=True)
class RepRow:
    """One rep's figure for one rule (``rep`` is an email, an owner id, or ``unassigned``)."""

    rep: str
    rule: str
    measured: float | None
    judged: int
    pending: int = 0
    violations: int = 0
    rep_name: str | None = None
    """The rep's name in the CRM (issue 15, item 7); None for ``unassigned`` or no name."""
    interval: tuple[float, float] | None = None
    """95 % Wilson interval of a share (None for a count, or with nothing judged)."""
    judgeable: bool = True
    """Enough judged handoffs to rank on (``sales.compare_reps.min_judged``); a count
    rule's row carries the rep's own verdict: whether any of their shares is judgeable."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rep": self.rep,
            "rule": self.rule,
            "measured": self.measured,
            "judged": self.judged,
            "pending": self.pending,
            "violations": self.violations,
            "rep_name": self.rep_name,
            "judgeable": self.judgeable,
            "interval": None if self.interval is None else list(self.interval),
        }


@dataclass(slots=True)
class TeamRow:
    """One team's figure for one rule, rolled up from its reps' rows (:mod:`audit.teams`).

    ``team`` is None for a row that stands for one rep in no team (``reps`` holds that
    rep) or for the handoffs with no owner (``reps == ["unassigned"]``); ``manager`` is
    None there too. ``reps`` are the team's reps the audit has rows for, in the order the
    SLA file lists them.
    """

    team: str | None
    rule: str
    measured: float | None
    judged: int
    pending: int = 0
    violations: int = 0
    manager: str | None = None
    reps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "manager": self.manager,
            "reps": list(self.reps),
            "rule": self.rule,
            "measured": self.measured,
            "judged": self.judged,
            "pending": self.pending,
            "violations": self.violations,
        }


@dataclass(slots=True)
class Violation:
    """Evidence for one handoff that broke a rule."""

    rule: str
    lead: str
    crm_id: str
    rep: str
    handoff_at: str
    reason: str
    url: str | None
    source: str = ""
    kind: str = ""
    instants: dict[str, str | None] = field(default_factory=dict)
    tier: str = ""
    """The tier that judged the handoff ("" when the SLA has no tiers; ``base`` for none)."""
    lead_name: str | None = None
    company: str | None = None
    email: str | None = None
    rep_name: str | None = None
    """The names (issue 15, item 7) are filled after the rules (:mod:`audit.names`)."""
    attributed_to: str = ""
    """Speed to lead: whose delay made the touch late — ``routing``, ``rep`` or ``both``
    (audit/routing.py); "" for every other rule."""


@dataclass(slots=True)
class PendingHandoff:
    """A handoff whose outcome for a rule cannot be known yet as of the audit's as-of."""

    rule: str
    lead: str
    crm_id: str
    rep: str
    handoff_at: str
    decided_by: str
    url: str | None
    tier: str = ""
    lead_name: str | None = None
    company: str | None = None
    email: str | None = None
    rep_name: str | None = None


#: The JSON members of a violation and of a pending handoff, in the contract's order (the
#: classes' field order).
VIOLATION_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Violation))
PENDING_KEYS: tuple[str, ...] = tuple(f.name for f in fields(PendingHandoff))


def evidence_columns(
    rows: Sequence[Violation] | Sequence[PendingHandoff], keys: tuple[str, ...]
) -> list[list[Any]]:
    """The rows' values, one list per key in ``keys`` order.

    Column by column (one C-level getter over the rows per key): a report that encodes
    or writes evidence in bulk never builds a dict or a tuple per row.
    """
    return [list(map(attrgetter(key), rows)) for key in keys]


@dataclass
class RuleResult:
    id: str
    status: Status
    measured: float | None
    target: float | None
    judged: int
    pending: int
    details: dict[str, Any] = field(default_factory=dict)
    reps: list[RepRow] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    pending_handoffs: list[PendingHandoff] = field(default_factory=list)
    splits: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """``by_segment``, ``by_lead_source`` and (with tiers) ``by_tier``: group → figures
    (:mod:`audit.rules.splits`)."""

    def to_dict(self) -> dict[str, Any]:
        """The contract's rule keys, plus the three splits (``{}`` when not made)."""
        return {
            "id": self.id,
            "status": self.status,
            "measured": self.measured,
            "target": self.target,
            "judged": self.judged,
            "pending": self.pending,
            "details": self.details,
        } | {key: self.splits.get(key, {}) for key in SPLIT_KEYS}


@dataclass
class TrendPoint:
    """One earlier month's rule figures, audited as of that month's end (``--trend``)."""

    period: str
    as_of: str
    status: Status
    rules: dict[str, dict[str, Any]]
    provisional: bool = False
    coverage: Coverage = "full"
    speed_outcome: OutcomeTable | None = None
    """The month's speed → outcome counts, pooled into the report's trend window (not
    written per month: the JSON's ``speed_outcome.trend_window`` holds their sum)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "as_of": self.as_of,
            "status": self.status,
            "rules": self.rules,
            "provisional": self.provisional,
            "coverage": self.coverage,
        }


@dataclass
class AuditResult:
    sla: str
    period: str
    as_of: str
    timezone: str
    rules: list[RuleResult]
    data_notes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    trend: list[TrendPoint] = field(default_factory=list)
    provisional: bool = False
    """The period is still open as of as-of (month to date): every figure may change."""
    coverage: Coverage = "full"
    data_start: str | None = None
    """The snapshot's first recorded instant (UTC), when it falls after the period starts."""
    teams: list[TeamRow] = field(default_factory=list)
    """Per team and rule, the reps' rows rolled up; empty when the SLA declares no teams."""
    speed_outcome: OutcomeTable | None = None
    """The period's speed → outcome counts (:mod:`audit.speed_outcome`)."""

    def speed_outcome_report(self) -> SpeedOutcomeReport | None:
        """The period's speed → outcome findings, and the trend window's when there is one.

        Worked out from the stored counts when asked, so a trend attached after the audit
        (``result.trend = run_trend(…)``) is pooled in.
        """
        return speed_outcome_report(self.speed_outcome, [t.speed_outcome for t in self.trend])

    rep_min_judged: int = 0
    """Judged handoffs a rep needs to be ranked (``sales.compare_reps.min_judged``; 0: every
    rep is ranked, as for a result built by hand)."""

    @property
    def status(self) -> Status:
        """The worst rule status (``no_data`` or ``n/a`` only when no rule has a verdict)."""
        if not self.rules:
            return "n/a"
        return max((r.status for r in self.rules), key=lambda s: STATUS_ORDER[s])

    @property
    def reps(self) -> list[RepRow]:
        return [row for rule in self.rules for row in rule.reps]

    @property
    def violations(self) -> list[Violation]:
        return [v for rule in self.rules for v in rule.violations]

    @property
    def pending(self) -> list[PendingHandoff]:
        return [p for rule in self.rules for p in rule.pending_handoffs]

    def rule(self, rule_id: str) -> RuleResult:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def exit_code(self) -> int:
        """0 when every rule passes or warns, 1 when any fails (docs/CONTRACTS.md)."""
        return EXIT_FAIL if self.status == "fail" else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of docs/CONTRACTS.md.

        Beside the contract's keys: ``teams``, one row per team and rule (the reps' rows
        rolled up, :class:`TeamRow`; a rep in no team and ``unassigned`` are rows of their
        own with ``team`` null), an empty list when the SLA declares no teams; and
        ``trend`` with ``--trend``.
        """
        return self.document(
            violations=_records(VIOLATION_KEYS, evidence_columns(self.violations, VIOLATION_KEYS)),
            pending=_records(PENDING_KEYS, evidence_columns(self.pending, PENDING_KEYS)),
        )

    def document(self, *, violations: Any, pending: Any) -> dict[str, Any]:
        """:meth:`to_dict` with the two evidence lists as given.

        The JSON writer passes them already encoded (one line per row, built column by
        column), so a large month never builds a dict per violation.
        """
        return (
            {
                "sla": self.sla,
                "period": self.period,
                "as_of": self.as_of,
                "status": self.status,
                "timezone": self.timezone,
                "provisional": self.provisional,
                "coverage": self.coverage,
                "data_start": self.data_start,
                "rules": [r.to_dict() for r in self.rules],
                "reps": [r.to_dict() for r in self.reps],
                "rep_min_judged": self.rep_min_judged,
                "violations": violations,
                "pending": pending,
                "data_notes": list(self.data_notes),
                "teams": [t.to_dict() for t in self.teams],
            }
            | ({"trend": [t.to_dict() for t in self.trend]} if self.trend else {})
            | (
                {"speed_outcome": report.to_dict()}
                if (report := self.speed_outcome_report())
                else {}
            )
        )


def _records(keys: tuple[str, ...], columns: list[list[Any]]) -> list[dict[str, Any]]:
    """Columns back to one dict per row (keys in ``keys`` order)."""
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns, strict=True)]
