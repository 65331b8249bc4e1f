"""What the speed → outcome counts allow us to say, in words, and nothing more.

The review argues about "5 minutes = 100× the contact rate"; this module says what the
team's own handoffs show: leads touched within 5 business minutes against leads touched
after an hour (the 1–4 h and over-4 h bands together), once for connecting and once for
becoming SQL. The rule for a claim (docs/SEMANTICS.md Part II, "Speed → outcome"):

- both groups have at least :data:`MIN_GROUP` judged handoffs, **and**
- their 95 % Wilson intervals do not overlap.

Otherwise the sentence says the counts are too small, or that they show no clear
difference. Non-overlapping 95 % intervals is a stricter test than a two-proportion test
at 5 % (it misses some real differences, never invents one), which is the side to err on
for a figure that will be quoted in a meeting; and it is the test a reader can do by eye
on the chart's whiskers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from audit.outcome_rates import CONFIDENCE, OutcomeTable, Rate

MIN_GROUP = 30
"""Judged handoffs each group needs before a difference between them is claimed."""
FAST: tuple[tuple[str, ...], str] = (("0-5",), "within 5 minutes")
SLOW: tuple[tuple[str, ...], str] = (("60-240", "240+"), "after an hour")
VERBS: dict[str, str] = {"connect": "connected", "sql": "became SQL"}

Verdict = Literal["claim", "too_few", "no_clear_difference"]


@dataclass(frozen=True)
class Comparison:
    """Fast against slow first touches for one outcome, and what may be said of it."""

    outcome: str
    fast: Rate
    slow: Rate
    verdict: Verdict
    ratio: float | None
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "fast": {"bands": list(FAST[0]), "judged": self.fast.judged, "hits": self.fast.hits},
            "slow": {"bands": list(SLOW[0]), "judged": self.slow.judged, "hits": self.slow.hits},
            "verdict": self.verdict,
            "ratio": self.ratio,
            "sentence": self.sentence,
        }


def verdict(fast: Rate, slow: Rate, min_group: int = MIN_GROUP) -> Verdict:
    """``claim`` only with enough handoffs on both sides and intervals apart (module doc)."""
    if fast.judged < min_group or slow.judged < min_group:
        return "too_few"
    fast_low, fast_high = fast.interval or (0.0, 1.0)
    slow_low, slow_high = slow.interval or (0.0, 1.0)
    apart = fast_low > slow_high or fast_high < slow_low
    return "claim" if apart else "no_clear_difference"


def compare(table: OutcomeTable, outcome: str) -> Comparison:
    """Leads touched within 5 minutes against those touched after an hour, for ``outcome``."""
    fast = _pooled_rate(table, FAST[0], outcome)
    slow = _pooled_rate(table, SLOW[0], outcome)
    found = verdict(fast, slow)
    ratio = None
    if found == "claim" and fast.rate and slow.rate:
        ratio = fast.rate / slow.rate
    words = sentence(outcome, fast, slow, found, ratio)
    return Comparison(outcome, fast, slow, found, ratio, words)


def _pooled_rate(table: OutcomeTable, keys: Sequence[str], outcome: str) -> Rate:
    total = Rate()
    for key in keys:
        total = total + table.row(key).outcome(outcome)
    return total


def _share(rate: Rate) -> str:
    return "none" if not rate.hits else f"{rate.hits / rate.judged:.1%}"


def sentence(
    outcome: str, fast: Rate, slow: Rate, found: Verdict, ratio: float | None = None
) -> str:
    """The comparison in words, with its counts; a claim only for ``claim`` (``ratio`` is
    fast over slow, None when either rate is 0: then both shares are said instead)."""
    verb, fast_words, slow_words = VERBS[outcome], FAST[1], SLOW[1]
    counts = f"{_share(fast)} of {fast.judged} vs {_share(slow)} of {slow.judged} handoffs"
    if found == "too_few":
        return (
            f"Too few handoffs to say whether leads touched {fast_words} {verb} more often "
            f"than leads touched {slow_words} ({fast.judged} and {slow.judged} judged; "
            f"at least {MIN_GROUP} of each needed)."
        )
    if found == "no_clear_difference":
        return (
            f"No clear difference in how often leads touched {fast_words} and {slow_words} "
            f"{verb} ({counts}; the {CONFIDENCE:.0%} intervals overlap)."
        )
    if ratio is not None:
        return (
            f"Leads touched {fast_words} {verb} {ratio:.1f}× as often as leads touched "
            f"{slow_words} ({counts})."
        )
    return (
        f"Leads touched {fast_words} {verb} in {_share(fast)} of {fast.judged} handoffs, "
        f"leads touched {slow_words} in {_share(slow)} of {slow.judged}."
    )


@dataclass(frozen=True)
class OutcomeFindings:
    """A table (one month, or a pooled window) with its comparisons and their words."""

    table: OutcomeTable
    comparisons: tuple[Comparison, ...]
    pooled: bool = False

    @property
    def scope(self) -> str:
        """ "2026-10", or "2026-08 to 2026-10 pooled (3 months)" for a trend window."""
        months = self.table.months
        if not self.pooled:
            return months[0] if months else ""
        return f"{months[0]} to {months[-1]} pooled ({len(months)} months)"

    @property
    def sentence(self) -> str:
        text = " ".join(c.sentence for c in self.comparisons)
        return f"Over {self.scope}: {text}" if self.pooled else text

    def to_dict(self) -> dict[str, Any]:
        return {
            "months": list(self.table.months),
            "by_first_touch": [row.to_dict() for row in self.table.by_first_touch],
            "by_attempts": [row.to_dict() for row in self.table.by_attempts],
            "comparisons": [c.to_dict() for c in self.comparisons],
            "sentence": self.sentence,
        }


def findings(table: OutcomeTable, *, pooled: bool = False) -> OutcomeFindings:
    return OutcomeFindings(table, tuple(compare(table, name) for name in VERBS), pooled)


@dataclass(frozen=True)
class SpeedOutcomeReport:
    """The audited month's findings and, with ``--trend``, the pooled window's."""

    period: OutcomeFindings
    trend_window: OutcomeFindings | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``speed_outcome`` block (docs/CONTRACTS.md)."""
        window = {"trend_window": self.trend_window.to_dict()} if self.trend_window else {}
        return (
            {"confidence": CONFIDENCE, "min_group": MIN_GROUP, "minutes": "business"}
            | self.period.to_dict()
            | window
        )


def speed_outcome_report(
    period: OutcomeTable | None, trend: Sequence[OutcomeTable | None] = ()
) -> SpeedOutcomeReport | None:
    """The period's findings, and the trend months pooled with it when there are any.

    Each trend month counts as it stood at its own end (its trend point), so the window is
    the sum of the months' own tables; a month without a table (older result) is left out.
    """
    if period is None:
        return None
    earlier = [table for table in trend if table is not None]
    window = None
    if earlier:
        window = findings(OutcomeTable.pooled([*earlier, period]), pooled=True)
    return SpeedOutcomeReport(findings(period), window)
