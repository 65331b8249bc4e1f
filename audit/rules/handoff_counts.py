"""What mql_volume and mql_per_rep share: the period's handoffs counted per rep.

Both are the marketing side's counts (docs/SEMANTICS.md §5–§6), and both pro-rate their
minimums while the period is still running as of as-of (see :mod:`audit.rules.mql_volume`).
Each rep's figure for either rule is that rep's number of handoffs.
"""

from __future__ import annotations

import pandas as pd

from audit.context import AuditContext
from audit.result import RepRow
from audit.rules.common import rep_names


def handoffs_per_rep(ctx: AuditContext) -> pd.Series:
    """The period's handoffs counted by responsible rep (``unassigned`` included)."""
    return ctx.facts["rep"].value_counts()


def count_rows(ctx: AuditContext, rule_id: str, counts: pd.Series) -> list[RepRow]:
    """One row per rep (and ``unassigned`` when it has handoffs): that rep's handoff count."""
    return [
        RepRow(
            rep=rep,
            rule=rule_id,
            measured=float(counts.get(rep, 0)),
            judged=int(counts.get(rep, 0)),
        )
        for rep in rep_names(ctx)
    ]
