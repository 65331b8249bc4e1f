"""mql_volume and mql_per_rep: the marketing side's counts (SLA_SEMANTICS.md §5–§6).

While the period is still running as of as-of, the volume target and the per-rep minimum
are pro-rated to the share of the month elapsed, so a nightly audit of the month to date
says whether marketing is on track rather than failing every night until the 30th. The
full-month figures stay in the details.
"""

from __future__ import annotations

from audit.context import AuditContext
from audit.handoffs import UNASSIGNED
from audit.result import RepRow, RuleResult
from audit.rules.common import rep_names
from audit.status import judge, share


def evaluate_volume(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    full = ctx.sla.mqls_target()
    target = None if full is None else full * ctx.elapsed_share
    measured = float(len(facts))
    counts = facts["rep"].value_counts()
    by_source = facts["source"].value_counts().sort_index()
    return RuleResult(
        id="mql_volume",
        status=judge(measured, target, ctx.sla.warn_margin("mql_volume")),
        measured=measured,
        target=target,
        judged=len(facts),
        pending=0,
        details={
            "needed_per_month": full,
            "period_complete": ctx.period_complete,
            "elapsed_share": ctx.elapsed_share,
            "by_source": {str(k): int(v) for k, v in by_source.items()},
        },
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
