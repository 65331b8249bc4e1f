"""How a rep's share is shown beside its evidence: counts, 95 % interval, "too few".

The table and the HTML page both write a rep's share as "75.0%" followed by
"3/4, 30–95%": the compliant and judged handoffs behind it and its 95 % Wilson interval
(:mod:`audit.rep_judging`), so a reader sees at once how much a figure can be trusted.
Reps with too few judged handoffs to rank are listed apart under :func:`too_few_title`.
"""

from __future__ import annotations

from audit.result import RepRow


def counts_and_interval(row: RepRow) -> str:
    """``"3/4, 30–95%"`` for a share with an interval; "" otherwise (counts, nothing judged)."""
    if row.interval is None or row.measured is None:
        return ""
    low, high = row.interval
    compliant = round(row.measured * row.judged)
    return f"{compliant}/{row.judged}, {low * 100:.0f}–{high * 100:.0f}%"


def too_few_title(min_judged: int) -> str:
    """The heading of the reps left out of the ranking."""
    noun = "handoff" if min_judged == 1 else "handoffs"
    return f"Too few to judge (under {min_judged} judged {noun} in every rule): not ranked"


def too_few_words(row: RepRow | None) -> str:
    """ "too few to judge" for a share row below the threshold, else ""."""
    return "too few to judge" if row is not None and not row.judgeable else ""
