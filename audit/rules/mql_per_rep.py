"""mql_per_rep: the share of reps whose MQL count lies in the SLA's range (docs/SEMANTICS.md §5).

The minimum is pro-rated like mql_volume's target while the period is still running (see
:mod:`audit.rules.mql_volume`); the maximum is not, since a rep over it is over it for
good. Each rep's own figure is that rep's handoff count; ``unassigned`` is reported but
never judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.context import AuditContext
from audit.handoffs import UNASSIGNED
from audit.result import RuleResult
from audit.rules.handoff_counts import count_rows, handoffs_per_rep
from audit.rules.rule import Rule
from audit.rules.splits import count_splits
from audit.status import judge, share
from audit.wording import clean, compliant_of_judged, number, target_words
from audit.wording import share as percent

RULE_ID = "mql_per_rep"

#: Reps outside the range named in the sentence; the rest are "and N more".
NAMES_SHOWN = 3


def evaluate(ctx: AuditContext) -> RuleResult:
    """The rule's result, with each segment's, source's and tier's handoff count."""
    result = _in_range(ctx)
    result.splits = count_splits(ctx)
    return result


def _in_range(ctx: AuditContext) -> RuleResult:
    cfg = ctx.sla.marketing.per_rep
    counts = handoffs_per_rep(ctx)
    rows = count_rows(ctx, RULE_ID, counts)
    if cfg is None:
        return RuleResult(RULE_ID, "n/a", None, None, 0, 0, {"configured": False}, rows)
    if ctx.coverage == "none":  # no data for the month: no rep's count is known
        return RuleResult(
            RULE_ID, "no_data", None, cfg.target, 0, 0, {"min_per_month": cfg.min}, rows
        )
    low = None if cfg.min is None else cfg.min * ctx.elapsed_share
    high = cfg.max
    # A rep on time off for part of the month is held to their share of it (days present).
    present = {} if ctx.clocks is None else ctx.clocks.presence(ctx.period.start, ctx.period.end)
    in_range = {}
    for rep in ctx.reps:
        handoffs = int(counts.get(rep, 0))
        share_present = present.get(rep, 1.0)
        in_range[rep] = (low is None or handoffs >= low * share_present - 1e-9) and (
            high is None or handoffs <= high * share_present + 1e-9
        )
    measured = share(sum(in_range.values()), len(ctx.reps))
    for row in rows:
        if row.rep != UNASSIGNED:
            row.violations = 0 if in_range[row.rep] else 1
    return RuleResult(
        id=RULE_ID,
        status=judge(measured, cfg.target, ctx.sla.warn_margin(RULE_ID)),
        measured=measured,
        target=cfg.target,
        judged=len(ctx.reps),
        pending=0,
        details={
            "min": low,
            "max": high,
            "min_per_month": cfg.min,
            "elapsed_share": ctx.elapsed_share,
            "out_of_range": {
                rep: int(counts.get(rep, 0)) for rep, ok in in_range.items() if not ok
            },
            "unassigned": int(counts.get(UNASSIGNED, 0)),
            **({"present_share": present} if present else {}),
        },
        reps=rows,
    )


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    if details.get("configured") is False:
        return "The SLA sets no MQLs-per-rep range, so the spread across reps is not judged."
    if rule.measured is None:
        return "There were no reps to judge."
    text = (
        f"{compliant_of_judged(rule)} reps received {_range(details)} MQLs{_pro_rated(details)} "
        f"({target_words(rule, RULE.unit)} of reps)."
    )
    present = details.get("present_share") or {}
    if isinstance(present, Mapping) and present:
        text += f" Pro-rated for time off: {_shares(present)}."
    outside = details.get("out_of_range") or {}
    if isinstance(outside, Mapping) and outside:
        text += f" Outside the range: {_names(outside)}."
    return text


def _range(details: Mapping[str, Any]) -> str:
    low, high = details.get("min"), details.get("max")
    if low is not None and high is not None:
        return f"between {number(low)} and {number(high)}"
    if low is not None:
        return f"at least {number(low)}"
    if high is not None:
        return f"at most {number(high)}"
    return "the agreed number of"


def _pro_rated(details: Mapping[str, Any]) -> str:
    """Why a minimum is a fraction while the month is open: the month's one, pro-rated."""
    low, month, elapsed = (details.get(k) for k in ("min", "min_per_month", "elapsed_share"))
    if low is None or month is None or elapsed is None or elapsed >= 1:
        return ""
    return f" so far ({number(month)} a month pro-rated to the {percent(elapsed)} of it elapsed)"


def _shares(present: Mapping[str, Any]) -> str:
    """Reps on time off and the share of the month they were present, "ana@… (70.0%)"."""
    items = [f"{clean(name)} present {percent(value)}" for name, value in present.items()]
    more = len(items) - NAMES_SHOWN
    shown = ", ".join(items[:NAMES_SHOWN])
    return f"{shown} and {more} more" if more > 0 else shown


def _names(counts: Mapping[str, Any]) -> str:
    items = [f"{clean(name)} ({number(handoffs)})" for name, handoffs in counts.items()]
    more = len(items) - NAMES_SHOWN
    shown = ", ".join(items[:NAMES_SHOWN])
    return f"{shown} and {more} more" if more > 0 else shown


RULE = Rule(
    id=RULE_ID, title="MQLs per rep", evaluate=evaluate, sentence=sentence, rep_unit="count"
)
