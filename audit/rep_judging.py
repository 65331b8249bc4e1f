"""Honest per-rep figures: each share with its 95 % interval, and who has too few to rank.

A rep with 1 of 1 handoffs in time is not the best rep, nor one with 0 of 2 the worst.
Every per-rep share therefore carries its counts (judged, and the compliant share of them)
and its Wilson interval (:func:`audit.stats.wilson_interval`), and a rep is ranked only
when some rule judged at least ``sales.compare_reps.min_judged`` of their handoffs
(docs/SEMANTICS.md Part II, "Comparing reps"):

- a share row is ``judgeable`` when its rule judged at least ``min_judged`` of the rep's
  handoffs; a count row (MQL volume, MQLs per rep: exact counts, no interval) carries the
  rep's own verdict, so "any row judgeable" is the rep's verdict for every report;
- a rep with no judgeable row is "too few to judge": the reports list them apart, by name,
  never in the worst-first ranking.

Nothing here changes a figure: the rules made the rows, this only annotates them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from audit.result import RepRow, RuleResult
from audit.rules import RULES_BY_ID
from audit.stats import wilson_interval


def judge_reps(rules: Sequence[RuleResult], min_judged: int) -> None:
    """Set ``interval`` and ``judgeable`` on every rep row of ``rules`` (in place)."""
    judgeable_rep: dict[str, bool] = defaultdict(bool)
    count_rows: list[RepRow] = []
    for rule in rules:
        known = RULES_BY_ID.get(rule.id)
        if known is not None and known.rep_unit == "count":
            count_rows += rule.reps
            continue
        for row in rule.reps:
            row.interval = share_interval(row)
            row.judgeable = row.judged >= min_judged
            judgeable_rep[row.rep] |= row.judgeable
    for row in count_rows:
        row.judgeable = judgeable_rep[row.rep] or min_judged == 0


def share_interval(row: RepRow) -> tuple[float, float] | None:
    """The 95 % Wilson interval of a rep's share, None with nothing judged."""
    if row.measured is None or row.judged < 1:
        return None
    return wilson_interval(round(row.measured * row.judged), row.judged)
