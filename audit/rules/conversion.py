"""conversion: the share of the cohort's handoffs that progressed (to sql, opportunity or
customer) by as-of, also split by segment and by lead source. Every handoff is judged:
the rule asks what has happened by as-of, not by a deadline.

``funnel`` counts the cohort's handoffs that reached each stage *or a later one* by as-of
(MQL → SQL → opportunity → customer), so the bars of a funnel chart never grow: a lead
that jumps from mql to customer counts at every step, and "sql" equals ``progressed``. A
stage that no source's funnel maps is ``None`` (not measured), not 0 (nobody got there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.instants_ns import not_nat
from audit.result import RuleResult
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import compliant_of_judged, target_words

RULE_ID = "conversion"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    progressed = not_nat(facts["progressed_at"].to_numpy())
    everyone = np.ones(len(facts), dtype=bool)
    # Not progressing is an outcome, not a broken promise of one rep: no evidence rows,
    # and no per-rep violation counts either (reports rank reps by those).
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=everyone,
        compliant=progressed,
        reasons=lambda index: [],
        target=ctx.sla.marketing.mql_to_sql,
        decided_by="",
        violations=False,
        details={
            "progressed": int(progressed.sum()),
            "by_segment": _split(facts["segment"], progressed),
            "by_lead_source": _split(facts["lead_source"], progressed),
            "funnel": _funnel(ctx, progressed),
        },
    )


def _funnel(ctx: AuditContext, progressed: np.ndarray) -> dict[str, int | None]:
    facts = ctx.facts
    mapped = {stage for mapping in ctx.sla.funnel.values() for stage in mapping}
    customer = not_nat(facts["customer_at"].to_numpy())
    opportunity = not_nat(facts["opportunity_at"].to_numpy()) | customer
    return {
        "handoffs": len(facts),
        "sql": int(progressed.sum()) if "sql" in mapped else None,
        "opportunity": int(opportunity.sum()) if "opportunity" in mapped else None,
        "customer": int(customer.sum()) if "customer" in mapped else None,
    }


def _split(groups: pd.Series, progressed: np.ndarray) -> dict[str, dict[str, float | int]]:
    frame = pd.DataFrame({"group": groups.fillna("(none)").astype(str), "progressed": progressed})
    out: dict[str, dict[str, float | int]] = {}
    for name, part in frame.groupby("group", sort=True):
        handoffs, progressed_count = len(part), int(part["progressed"].sum())
        out[str(name)] = {
            "handoffs": handoffs,
            "progressed": progressed_count,
            "share": progressed_count / handoffs,
        }
    return out


def sentence(rule: RuleResult, details: Mapping[str, Any], as_of_local: str) -> str:
    by = f" by {as_of_local}" if as_of_local else " by the audit's as-of"
    return (
        f"{compliant_of_judged(rule)} handoffs became SQL or went further{by} "
        f"({target_words(rule, RULE.unit)})."
    )


RULE = Rule(id=RULE_ID, title="MQL→SQL conversion", evaluate=evaluate, sentence=sentence)
