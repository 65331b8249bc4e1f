"""conversion: the share of the cohort's handoffs that progressed (to sql, opportunity or
customer) by as-of, also split by segment and by lead source. Every handoff is judged:
the rule asks what has happened by as-of, not by a deadline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.result import RuleResult
from audit.rules.common import handoff_rule, not_nat

RULE_ID = "conversion"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    progressed = not_nat(facts["progressed_at"].to_numpy())
    everyone = np.ones(len(facts), dtype=bool)
    result = handoff_rule(
        ctx,
        RULE_ID,
        judged=everyone,
        compliant=progressed,
        reasons=pd.Series([""] * len(facts), dtype=object),
        target=ctx.sla.marketing.mql_to_sql,
        decided_by="",
        details={
            "progressed": int(progressed.sum()),
            "by_segment": _split(facts["segment"], progressed),
            "by_lead_source": _split(facts["lead_source"], progressed),
        },
    )
    # Not progressing is an outcome, not a broken promise of one rep: no evidence rows.
    result.violations = []
    return result


def _split(groups: pd.Series, progressed: np.ndarray) -> dict[str, dict[str, float | int]]:
    frame = pd.DataFrame({"group": groups.fillna("(none)").astype(str), "p": progressed})
    out: dict[str, dict[str, float | int]] = {}
    for name, part in frame.groupby("group", sort=True):
        n, k = len(part), int(part["p"].sum())
        out[str(name)] = {"handoffs": n, "progressed": k, "share": k / n}
    return out
