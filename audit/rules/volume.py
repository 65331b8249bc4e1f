"""mql_volume and mql_per_rep: the marketing side's counts (SLA_SEMANTICS.md §5–§6).

While the period is still running as of as-of, the volume target and the per-rep minimum
are pro-rated to the share of the month elapsed, so a nightly audit of the month to date
says whether marketing is on track rather than failing every night until the 30th. The
full-month figures stay in the details.

With ``goals`` in the SLA, ``mql_volume`` also carries the §6 arithmetic in
``details["arithmetic"]``: what the goals need (revenue, customers, MQLs) and what the MQLs
delivered so far should yield at the SLA's own ``mql_to_customer`` rate, so a report can
say what a shortfall means in customers and revenue without recomputing anything.
"""

from __future__ import annotations

from typing import Any

from audit.context import AuditContext
from audit.handoffs import UNASSIGNED
from audit.result import RepRow, RuleResult
from audit.rules.common import rep_names
from audit.status import judge, share
from config.sla import Goals


def evaluate_volume(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    full = ctx.sla.mqls_target()
    target = None if full is None else full * ctx.elapsed_share
    measured = float(len(facts))
    counts = facts["rep"].value_counts()
    by_source = facts["source"].value_counts().sort_index()
    details: dict[str, Any] = {
        "needed_per_month": full,
        "period_complete": ctx.period_complete,
        "elapsed_share": ctx.elapsed_share,
        "by_source": {str(k): int(v) for k, v in by_source.items()},
    }
    if ctx.sla.goals is not None:
        details["arithmetic"] = _arithmetic(ctx.sla.goals, measured, ctx.elapsed_share)
    return RuleResult(
        id="mql_volume",
        status=judge(measured, target, ctx.sla.warn_margin("mql_volume")),
        measured=measured,
        target=target,
        judged=len(facts),
        pending=0,
        details=details,
        reps=[
            RepRow(
                rep=rep,
                rule="mql_volume",
                measured=float(counts.get(rep, 0)),
                judged=int(counts.get(rep, 0)),
            )
            for rep in rep_names(ctx)
        ],
    )


def _arithmetic(goals: Goals, delivered: float, elapsed_share: float) -> dict[str, Any]:
    """SLA_SEMANTICS.md §6 with the period's MQLs: needed vs what delivered ones should yield.

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


def evaluate_per_rep(ctx: AuditContext) -> RuleResult:
    cfg = ctx.sla.marketing.per_rep
    counts = ctx.facts["rep"].value_counts()
    rows = [
        RepRow(
            rep=rep,
            rule="mql_per_rep",
            measured=float(counts.get(rep, 0)),
            judged=int(counts.get(rep, 0)),
        )
        for rep in rep_names(ctx)
    ]
    if cfg is None:
        return RuleResult("mql_per_rep", "n/a", None, None, 0, 0, {"configured": False}, rows)
    low = None if cfg.min is None else cfg.min * ctx.elapsed_share
    high = cfg.max
    in_range = {}
    for rep in ctx.reps:
        n = int(counts.get(rep, 0))
        in_range[rep] = (low is None or n >= low - 1e-9) and (high is None or n <= high)
    measured = share(sum(in_range.values()), len(ctx.reps))
    for row in rows:
        if row.rep != UNASSIGNED:
            row.violations = 0 if in_range[row.rep] else 1
    return RuleResult(
        id="mql_per_rep",
        status=judge(measured, cfg.target, ctx.sla.warn_margin("mql_per_rep")),
        measured=measured,
        target=cfg.target,
        judged=len(ctx.reps),
        pending=0,
        details={
            "min": low,
            "max": high,
            "min_per_month": cfg.min,
            "out_of_range": {
                rep: int(counts.get(rep, 0)) for rep, ok in in_range.items() if not ok
            },
            "unassigned": int(counts.get(UNASSIGNED, 0)),
        },
        reps=rows,
    )
