"""mql_volume: the MQLs marketing handed to sales in the period (docs/SEMANTICS.md §5–§6).

While the period is still running as of as-of, the volume target (and mql_per_rep's
minimum) is pro-rated to the share of the month elapsed, so a nightly audit of the month
to date says whether marketing is on track rather than failing every night until the
30th. The full-month figures stay in the details.

With ``goals`` in the SLA, ``mql_volume`` also carries the §6 arithmetic in
``details["arithmetic"]``: what the goals need (revenue, customers, MQLs) and what the MQLs
delivered so far should yield at the SLA's own ``mql_to_customer`` rate, so a report can
say what a shortfall means in customers and revenue without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.context import AuditContext
from audit.result import RuleResult
from audit.rules.handoff_counts import count_rows, handoffs_per_rep
from audit.rules.rule import Rule
from audit.rules.splits import count_splits
from audit.status import judge
from audit.wording import number, share
from config.sla import Goals

RULE_ID = "mql_volume"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    full = ctx.sla.mqls_target()
    target = None if full is None else full * ctx.elapsed_share
    measured = float(len(facts))
    counts = handoffs_per_rep(ctx)
    by_source = facts["source"].value_counts().sort_index()
    details: dict[str, Any] = {
        "needed_per_month": full,
        "period_complete": ctx.period_complete,
        "elapsed_share": ctx.elapsed_share,
        "by_source": {str(source): int(count) for source, count in by_source.items()},
    }
    if ctx.sla.goals is not None:
        details["arithmetic"] = _arithmetic(ctx.sla.goals, measured, ctx.elapsed_share)
    # A month the snapshot holds no data for delivered nothing we could count: no data,
    # not zero MQLs (a month with data and no handoff is a real zero, judged).
    counted = None if ctx.coverage == "none" else measured
    return RuleResult(
        id=RULE_ID,
        status=judge(counted, target, ctx.sla.warn_margin(RULE_ID)),
        measured=counted,
        target=target,
        judged=len(facts),
        pending=0,
        details=details,
        reps=count_rows(ctx, RULE_ID, counts),
        splits=count_splits(ctx),
    )


def _arithmetic(goals: Goals, delivered: float, elapsed_share: float) -> dict[str, Any]:
    """docs/SEMANTICS.md §6 with the period's MQLs: needed vs what delivered ones should yield.

    ``marketing_revenue_due`` is the month's need pro-rated like the volume target, so an
    open month's figures compare like with like.
    """
    revenue_needed = goals.revenue_per_month * goals.marketing_share
    customers_expected = delivered * goals.mql_to_customer
    return {
        "revenue_per_month": goals.revenue_per_month,
        "marketing_share": goals.marketing_share,
        "average_deal_size": goals.average_deal_size,
        "mql_to_customer": goals.mql_to_customer,
        "marketing_revenue_needed": revenue_needed,
        "marketing_revenue_due": revenue_needed * elapsed_share,
        "customers_needed": goals.customers_needed(),
        "mqls_needed": goals.mqls_needed(),
        "customers_expected": customers_expected,
        "revenue_expected": customers_expected * goals.average_deal_size,
    }


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    delivered = number(rule.measured)
    if rule.target is None:
        return f"Marketing handed sales {delivered} MQLs; the SLA sets no monthly volume."
    if details.get("period_complete", True):
        return f"Marketing handed sales {delivered} MQLs; the SLA asks for {number(rule.target)}."
    elapsed = details.get("elapsed_share")
    month = details.get("needed_per_month")
    so_far = f" ({share(elapsed)} of the month)" if elapsed is not None else ""
    full = f", {number(month)} for the whole month" if month is not None else ""
    return (
        f"Marketing handed sales {delivered} MQLs so far; {number(rule.target)} were due by "
        f"now{so_far}{full}."
    )


RULE = Rule(
    id=RULE_ID,
    title="MQL volume",
    evaluate=evaluate,
    sentence=sentence,
    unit="count",
    rep_unit="count",
)
