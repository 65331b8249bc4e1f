"""routing: business time from the handoff to the first owner assignment (issue 18, item 1).

Judged only when the SLA has a ``routing`` block (``{within: 10m, target: 0.95}``):
compliant when the lead had an owner within ``routing.within`` of business time — on the
working hours of the rep it went to — and that rep was not on time off at the assignment
(a lead routed to someone on holiday waits all the same). With no owner yet, the handoff
is pending until the routing deadline passes, then a violation. A lead owned at the
handoff took no routing time at all. Per rep: the handoffs routed to that rep;
``unassigned`` holds those never routed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from audit.context import AuditContext
from audit.instants_ns import local_texts, not_nat
from audit.result import RuleResult
from audit.routing import SLACK_S
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import clean, compliant_of_judged, human_duration, target_words
from config.durations import duration_code

RULE_ID = "routing"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.routing
    if cfg is None:  # the engine runs this rule only with a routing block
        return RuleResult(RULE_ID, "n/a", None, None, 0, 0, {"configured": False})
    within_s = cfg.within.total_seconds()
    handoff = facts["handoff_ns"].to_numpy()
    assigned = facts["assigned_ns"].to_numpy()
    routed = not_nat(assigned)
    delay = facts["routing_s"].to_numpy()
    absent = facts["absent_at_assignment"].to_numpy()
    deadline = ctx.calendar.add_business_ns(handoff, within_s)
    judged = routed | (deadline <= ctx.as_of_ns)
    on_time = routed & (np.nan_to_num(delay) <= within_s + SLACK_S)
    compliant = on_time & ~absent
    code = duration_code(cfg.within)
    reps = facts["rep"].to_numpy(dtype=object)

    def reasons(index: np.ndarray) -> list[str]:
        """How long routing took, or that it never happened, or whom it went to."""
        deadline_text = local_texts(deadline[index], ctx.sla.timezone)
        waited = np.round(np.nan_to_num(delay[index]) / 60.0)
        words = {m: human_duration(m, business=True) for m in np.unique(waited).tolist()}
        out = []
        for position, at, minutes in zip(
            index.tolist(), deadline_text, waited.tolist(), strict=True
        ):
            if not routed[position]:
                out.append(f"no owner by the routing deadline {at}, routing SLA {code}")
            elif absent[position]:
                out.append(f"routed to {clean(reps[position])} while on time off")
            else:
                out.append(f"owner assigned after {words[minutes]}, routing SLA {code}")
        return out

    got = delay[routed & judged] / 60.0
    details = {
        "within": code,
        "median_minutes": float(np.median(got)) if got.size else None,
        "p90_minutes": float(np.percentile(got, 90)) if got.size else None,
        "unrouted": int((judged & ~routed).sum()),
        "to_absent_rep": int((judged & routed & absent).sum()),
    }
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=reasons,
        target=cfg.target,
        decided_by="routing deadline",
        instants={"assigned_at": assigned, "deadline": deadline},
        kinds=np.select([~routed, absent], ["unassigned", "absent_rep"], default="late"),
        details=details,
    )


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    if details.get("configured") is False:
        return "The SLA sets no routing time, so routing is not judged on its own."
    text = (
        f"{compliant_of_judged(rule)} judged handoffs had an owner within "
        f"{details.get('within')} of business time ({target_words(rule, RULE.unit)})."
    )
    median = details.get("median_minutes")
    if median is not None:
        text += f" Median {human_duration(median, business=True)}."
    if details.get("unrouted"):
        text += f" {details['unrouted']} had no owner by the deadline."
    if details.get("to_absent_rep"):
        text += f" {details['to_absent_rep']} went to a rep on time off."
    return text


RULE = Rule(id=RULE_ID, title="Routing", evaluate=evaluate, sentence=sentence)
