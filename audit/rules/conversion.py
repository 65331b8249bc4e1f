"""conversion: the share of the cohort's handoffs that progressed (to sql, opportunity or
customer) by as-of, also split by segment and by lead source. The rule asks what has
happened by as-of, not by a deadline; with ``marketing.mql_to_sql.after`` (a maturity, say
14d) a handoff is judged only once that long has passed since it, and is pending before:
a month-to-date audit must not count last week's leads as failures to convert.

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
from audit.instants_ns import duration_ns, not_nat
from audit.result import RuleResult
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import compliant_of_judged, target_words
from config.durations import duration_code

RULE_ID = "conversion"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    progressed = not_nat(facts["progressed_at"].to_numpy())
    cfg = ctx.sla.marketing.mql_to_sql
    after = cfg.after if cfg is not None else None
    if after is None:
        matured = np.ones(len(facts), dtype=bool)
    else:
        matured = facts["handoff_ns"].to_numpy() + duration_ns(after) <= ctx.as_of_ns
    # Not progressing is an outcome, not a broken promise of one rep: no evidence rows,
    # and no per-rep violation counts either (reports rank reps by those).
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=matured,
        compliant=progressed,
        reasons=lambda index: [],
        target=ctx.sla.marketing.conversion_target,
        decided_by=f"conversion judged {duration_code(after)} after handoff" if after else "",
        violations=False,
        details={
            "progressed": int((progressed & matured).sum()),
            "after": duration_code(after) if after else None,
            "by_segment": _split(facts["split_segment"], progressed, matured),
            "by_lead_source": _split(facts["split_lead_source"], progressed, matured),
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


def _split(
    groups: pd.Series, progressed: np.ndarray, judged: np.ndarray
) -> dict[str, dict[str, float | int | None]]:
    """Per group: its handoffs, those judged (matured), those progressed, and the share.

    A group whose handoffs are all still maturing has share None ("no data"), not 0.
    """
    frame = pd.DataFrame(
        {
            "group": groups.fillna("(none)").astype(str),
            "judged": judged,
            "progressed": progressed & judged,
        }
    )
    out: dict[str, dict[str, float | int | None]] = {}
    for name, part in frame.groupby("group", sort=True):
        judged_count, progressed_count = int(part["judged"].sum()), int(part["progressed"].sum())
        out[str(name)] = {
            "handoffs": len(part),
            "judged": judged_count,
            "progressed": progressed_count,
            "share": progressed_count / judged_count if judged_count else None,
        }
    return out


def sentence(rule: RuleResult, details: Mapping[str, Any], as_of_local: str) -> str:
    by = f" by {as_of_local}" if as_of_local else " by the audit's as-of"
    after = details.get("after")
    if rule.measured is None:
        text = "No handoff could be judged yet"
        if after:
            text += f" (each is judged {after} after its handoff)"
        return text + (f"; {rule.pending} pending." if rule.pending else ".")
    judged = f"judged handoffs (those at least {after} old)" if after else "handoffs"
    text = (
        f"{compliant_of_judged(rule)} {judged} became SQL or went further{by} "
        f"({target_words(rule, RULE.unit)})."
    )
    if rule.pending:
        text += f" {rule.pending} younger handoffs are pending."
    return text


RULE = Rule(
    id=RULE_ID,
    title="MQL→SQL conversion",
    evaluate=evaluate,
    sentence=sentence,
    counts_violations=False,
)
