"""recycling: unreachable leads go back to marketing in time, after enough tries, with a reason.

For a handoff not connected, with deadline = window end + ``recycle.grace``
(SLA_SEMANTICS.md §5), taking whichever comes first of its first recycle entry and its
first progress after the handoff:

* recycled before the deadline with fewer than ``attempts.min`` counted attempts before
  that instant: *premature* (reported even when the reason is also missing);
* recycled before the deadline without a reason (``recycle.reason_field`` empty at that
  instant, or not in ``recycle.reasons`` when given): *no reason*;
* neither progressed nor recycled by the deadline: *stuck*;
* otherwise compliant. Judged once recycled, progressed or past the deadline.

A recycle and a progress at the same instant count as progress.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.context import AuditContext, ns_text
from audit.result import RuleResult
from audit.rules.common import handoff_rule, not_nat
from config.durations import duration_code

RULE_ID = "recycling"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.sales.recycle
    minimum = ctx.sla.sales.attempts.min
    deadline = facts["recycle_deadline"].to_numpy()
    recycled = facts["recycled_at"].to_numpy()
    progressed = facts["progressed_at"].to_numpy()
    eligible = ~not_nat(facts["connected_at"].to_numpy())
    recycled_in_time = not_nat(recycled) & (recycled < deadline)
    progressed_in_time = not_nat(progressed) & (progressed < deadline)
    recycled_first = recycled_in_time & (~progressed_in_time | (recycled < progressed))
    progressed_first = progressed_in_time & ~recycled_first
    before = facts["attempts_before_recycle"].to_numpy()
    reason = facts["recycle_reason"]
    has_reason = _has_reason(reason, cfg.reasons)
    premature = recycled_first & (before < minimum)
    no_reason = recycled_first & ~premature & ~has_reason
    stuck = ~recycled_in_time & ~progressed_in_time & (deadline <= ctx.as_of_ns)
    judged = recycled_first | progressed_first | (deadline <= ctx.as_of_ns)
    compliant = ~(premature | no_reason | stuck)
    kinds = pd.Series(
        np.select([premature, no_reason, stuck], ["premature", "no_reason", "stuck"], ""),
        dtype=object,
    )
    reasons = _reasons(kinds, before, reason, has_reason, cfg.reason_field, minimum, deadline)
    judged_eligible = judged & eligible
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=reasons,
        target=cfg.target,
        decided_by="recycle deadline",
        instants={"recycled_at": recycled, "deadline": deadline},
        kinds=kinds,
        eligible=eligible,
        details={
            "premature": int((premature & judged_eligible).sum()),
            "no_reason": int((no_reason & judged_eligible).sum()),
            "stuck": int((stuck & judged_eligible).sum()),
            "connected_left_out": int((~eligible).sum()),
            "grace": duration_code(cfg.grace),
        },
    )


def _has_reason(values: pd.Series, allowed: list[str] | None) -> np.ndarray:
    text = values.map(lambda v: v.strip() if isinstance(v, str) else "")
    present = (text != "").to_numpy()
    if allowed:
        return present & text.isin(allowed).to_numpy()
    return present


def _reasons(
    kinds: pd.Series,
    before: np.ndarray,
    reason: pd.Series,
    has_reason: np.ndarray,
    field: str,
    minimum: int,
    deadline: np.ndarray,
) -> pd.Series:
    deadline_text = ns_text(deadline)
    out = []
    for i, kind in enumerate(kinds):
        if kind == "premature":
            extra = "" if has_reason[i] else f", and no valid reason in {field}"
            noun = "attempt" if before[i] == 1 else "attempts"
            out.append(f"recycled after {before[i]} counted {noun} (SLA {minimum}){extra}")
        elif kind == "no_reason":
            value = reason.iloc[i]
            shown = (
                f"{field} was {value!r}" if isinstance(value, str) and value else f"{field} empty"
            )
            out.append(f"recycled without a valid reason ({shown})")
        elif kind == "stuck":
            out.append(f"neither progressed nor recycled by {deadline_text[i]}")  # type: ignore[index]
        else:
            out.append("")
    return pd.Series(out, dtype=object)
