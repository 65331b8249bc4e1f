"""What ``watch`` finds at an as-of: breaches and leads about to breach, by the audit's rules.

Nothing here judges a handoff on its own: the audit's context
(:func:`audit.context.build_context`) and rules (:mod:`audit.rules`) run for the month of
as-of and the month before (a handoff of the 31st can breach on the 1st), with the very
calendar :func:`audit.engine.run_audit` uses, so a breach here is the audit's violation for
the same as-of — same lead, rule and reason — and the same rules (:func:`rules_for`: the
routing rule too when the SLA has one).

A breach's *deciding instant* is when the rule's outcome became known: the first-touch
deadline (speed to lead), the routing deadline (routing), the attempt window's end
(attempts), and for recycling the recycle itself (premature, no reason) or the recycle
deadline (stuck). ``watch`` alerts
the breaches whose deciding instant lies in (previous run's as-of, this as-of].
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from audit.business_time import BusinessCalendar
from audit.context import AuditContext, build_context
from audit.engine import calendar_for
from audit.instants_ns import not_nat, ns_text
from audit.names import lead_cards, rep_names
from audit.period import Period, parse_period
from audit.result import RuleResult, Violation
from audit.rules import rules_for
from config.sla import SLA
from snapshot.instants import format_instant

WATCHED_RULES = ("speed_to_lead", "routing", "attempts", "recycling")
"""The rules whose breaches are one lead's, alertable while it can still be saved.
``routing`` runs only when the SLA has a ``routing`` block (:func:`audit.rules.rules_for`):
a lead with no owner by the routing deadline, or routed to a rep on time off, is alerted at
that deadline."""


@dataclass(frozen=True)
class Finding:
    """One lead to alert about: a breach (``kind`` "breach") or a deadline close ("at_risk")."""

    kind: str
    rule: str
    lead: str
    crm_id: str
    rep: str
    handoff_at: str
    url: str | None
    email: str
    company: str
    deadline: str
    """When the outcome was decided (breach) or will be (at risk): UTC text."""
    missing: str
    """What is missing, in words: the violation's reason, or the attempt not made yet."""
    name: str = ""
    """The lead's name in the CRM, and the rep's (issue 15, item 7): "" when it has none."""
    rep_name: str = ""

    @property
    def subject(self) -> str:
        """The handoff this is about: a lead can be handed off more than once."""
        return f"{self.lead}@{self.handoff_at}"


@dataclass
class Findings:
    """Everything one evaluation found (breaches of both months; at-risk ones now)."""

    as_of: datetime
    calendar: BusinessCalendar
    breaches: list[Finding] = field(default_factory=list)
    at_risk: list[Finding] = field(default_factory=list)
    due_today: list[Finding] = field(default_factory=list)
    """Pending first touches due later today (local day): the digest's at-risk list."""
    month_rules: list[RuleResult] = field(default_factory=list)
    """Every rule of the month of as-of, month to date (the digest's status per rule)."""

    def breaches_between(self, since: datetime, until: datetime) -> list[Finding]:
        """Breaches decided in (since, until]."""
        low, high = format_instant(since), format_instant(until)
        return [f for f in self.breaches if low < f.deadline <= high]


def deciding_instant(violation: Violation) -> str | None:
    """When a violation's outcome became known (see the module docstring)."""
    instants = violation.instants
    if violation.rule == "attempts":
        return instants.get("window_end")
    if violation.rule == "recycling" and violation.kind in ("premature", "no_reason"):
        return instants.get("recycled_at")
    return instants.get("deadline")


def months_of(sla: SLA, as_of: datetime) -> tuple[Period, Period]:
    """The month that holds as-of in the SLA's time zone, and the one before."""
    local = as_of.astimezone(sla.tz)
    month = parse_period(f"{local.year:04d}-{local.month:02d}", sla.tz)
    return month, month.previous()


def evaluate(conn: sqlite3.Connection, sla: SLA, as_of: datetime) -> Findings:
    """Run the audit's rules for this month and last at ``as_of``; collect what to alert."""
    month, previous = months_of(sla, as_of)
    calendar = calendar_for(sla, month.start, as_of)
    findings = Findings(as_of=as_of, calendar=calendar)
    rules = rules_for(sla)
    for period in (previous, month):
        ctx = build_context(conn, sla, period, as_of, calendar_for(sla, period.start, as_of))
        people = _people(ctx)
        if period is month:
            findings.month_rules = [rule.evaluate(ctx) for rule in rules]
            results = [r for r in findings.month_rules if r.id in WATCHED_RULES]
            _add_upcoming(findings, ctx, sla)
        else:
            results = [rule.evaluate(ctx) for rule in rules if rule.id in WATCHED_RULES]
        for result in results:
            findings.breaches += [_breach(v, people) for v in result.violations]
    _name_findings(conn, findings)
    return findings


def _name_findings(conn: sqlite3.Connection, findings: Findings) -> None:
    """Give every finding its lead's and rep's CRM names (:mod:`audit.names`)."""
    lists = (findings.breaches, findings.at_risk, findings.due_today)
    cards = lead_cards(conn, (f.lead for found in lists for f in found))
    reps = rep_names(conn)
    for found in lists:
        found[:] = [
            replace(
                f,
                name=(cards[f.lead].name or "") if f.lead in cards else "",
                rep_name=reps.get(f.rep, ""),
            )
            for f in found
        ]


def _people(ctx: AuditContext) -> dict[tuple[str, str], tuple[str, str]]:
    """(lead, handoff_at) → (email, company), from the facts the rules read."""
    facts = ctx.facts
    return {
        (lead, at): (email if isinstance(email, str) else "", co if isinstance(co, str) else "")
        for lead, at, email, co in zip(
            facts["lead_id"].tolist(),
            facts["handoff_at"].tolist(),
            facts["email"].tolist(),
            facts["company"].tolist(),
            strict=True,
        )
    }


def _breach(violation: Violation, people: dict[tuple[str, str], tuple[str, str]]) -> Finding:
    email, company = people.get((violation.lead, violation.handoff_at), ("", ""))
    return Finding(
        kind="breach",
        rule=violation.rule,
        lead=violation.lead,
        crm_id=violation.crm_id,
        rep=violation.rep,
        handoff_at=violation.handoff_at,
        url=violation.url,
        email=email,
        company=company,
        deadline=deciding_instant(violation) or "",
        missing=violation.reason,
    )


def _add_upcoming(findings: Findings, ctx: AuditContext, sla: SLA) -> None:
    """Untouched handoffs whose first-touch deadline is still ahead: soon, and today."""
    facts = ctx.facts
    if facts.empty:
        return
    deadline = facts["first_touch_deadline"].to_numpy()
    open_ = ~not_nat(facts["first_attempt"].to_numpy()) & (deadline > ctx.as_of_ns)
    within_s = sla.alerts.at_risk_within.total_seconds()
    soon_ns = int(findings.calendar.add_business_ns(np.array([ctx.as_of_ns]), within_s)[0])
    local = ctx.as_of.astimezone(sla.tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    day_end_ns = int(pd.Timestamp(midnight.replace(tzinfo=None), tz=sla.tz).value)
    for mask, target in (
        (open_ & (deadline <= soon_ns), findings.at_risk),
        (open_ & (deadline < day_end_ns), findings.due_today),
    ):
        index = np.flatnonzero(mask)
        texts = ns_text(deadline[index])
        for position, due in zip(index.tolist(), texts, strict=True):
            row = facts.iloc[position]
            target.append(_upcoming(row, str(due)))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _upcoming(row: object, due: str) -> Finding:
    get = row.__getitem__  # type: ignore[attr-defined]
    return Finding(
        kind="at_risk",
        rule="speed_to_lead",
        lead=str(get("lead_id")),
        crm_id=str(get("crm_id")),
        rep=_text(get("rep")),
        handoff_at=str(get("handoff_at")),
        url=_text(get("url")) or None,
        email=_text(get("email")),
        company=_text(get("company")),
        deadline=due,
        missing="no attempt yet",
    )
