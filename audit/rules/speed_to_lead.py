"""speed_to_lead: business minutes from handoff to the first attempt (SLA_SEMANTICS.md §5).

Compliant when the first attempt comes within ``sales.first_touch.within`` business time.
With no attempt yet, the handoff is pending until that deadline passes, then a violation.
Median and p90 (numpy's linear interpolation) are over handoffs that got an attempt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.context import AuditContext, ns_text
from audit.result import RuleResult
from audit.rules.common import handoff_rule, not_nat
from config.durations import duration_code

RULE_ID = "speed_to_lead"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.sales.first_touch
    within_s = cfg.within.total_seconds()
    first = facts["first_attempt"].to_numpy()
    deadline = facts["first_touch_deadline"].to_numpy()
    touched = not_nat(first)
    seconds = np.full(len(facts), np.nan)
    if touched.any():
        seconds[touched] = ctx.calendar.business_seconds_ns(
            facts["h"].to_numpy()[touched], first[touched]
        )
    minutes = seconds / 60.0
    compliant = touched & (seconds <= within_s + 1e-6)
    judged = touched | (deadline <= ctx.as_of_ns)
    code = duration_code(cfg.within)
    deadline_text = ns_text(deadline)
    reasons = pd.Series(
        [
            f"first touch after {_minutes(m)} business minutes (SLA {code})"
            if t
            else f"no attempt by the deadline {d} (SLA {code})"
            for t, m, d in zip(touched, minutes, deadline_text, strict=True)  # type: ignore[arg-type]
        ],
        dtype=object,
    )
    got = minutes[touched & judged]
    details = {
        "median_minutes": float(np.median(got)) if got.size else None,
        "p90_minutes": float(np.percentile(got, 90)) if got.size else None,
        "untouched": int((judged & ~touched).sum()),
        "within": code,
    }
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=reasons,
        target=cfg.target,
        decided_by="first-touch deadline",
        instants={"first_touch_at": first, "deadline": deadline},
        kinds=pd.Series(np.where(touched, "late", "untouched")),
        details=details,
    )


def _minutes(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
