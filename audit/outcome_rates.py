"""Counts of outcomes per group, with their 95 % Wilson intervals: the data of speed → outcome.

:mod:`audit.speed_outcome` fills an :class:`OutcomeTable` from one month's handoffs: per
first-touch band and per number of counted attempts, how many handoffs were judged for each
outcome (connected; became SQL or went further) and how many had it. Only counts are kept,
never shares: a trend window is then the plain sum of its months' tables
(:meth:`OutcomeTable.pooled`), and every rate and interval is worked out from the pooled
counts, never averaged from the months' rates.

Why Wilson's interval and not the textbook ``p ± 1.96·√(p(1−p)/n)``: with a handful of
handoffs, or a rate near 0 or 1, the textbook interval runs below 0 % or above 100 %, or
shrinks to nothing at 0 of 8 ("0 % ± 0"); Wilson's stays inside [0, 1] and keeps an honest
width there (0 of 10 → 0–27.8 %). It is a few lines of arithmetic, so no statistics package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""
CONFIDENCE = 0.95


def wilson_interval(hits: int, judged: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of ``hits`` out of ``judged`` (None when nothing was judged).

    centre = (p + z²/2n) / (1 + z²/n); half-width = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²).
    5 of 10 gives 23.7–76.3 %; 0 of 10 gives 0–27.8 %.
    """
    if judged <= 0:
        return None
    p = hits / judged
    z2 = z * z
    scale = 1 + z2 / judged
    centre = (p + z2 / (2 * judged)) / scale
    half = z / scale * math.sqrt(p * (1 - p) / judged + z2 / (4 * judged * judged))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Rate:
    """``hits`` of ``judged`` handoffs had the outcome."""

    judged: int = 0
    hits: int = 0

    @property
    def rate(self) -> float | None:
        return self.hits / self.judged if self.judged else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.hits, self.judged)

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.judged + other.judged, self.hits + other.hits)

    def to_dict(self, hits_key: str) -> dict[str, Any]:
        """``{"judged": 40, hits_key: 12, "rate": 0.3, "low": …, "high": …}`` (None when 0)."""
        low, high = self.interval or (None, None)
        return {"judged": self.judged, hits_key: self.hits, "rate": self.rate} | {
            "low": low,
            "high": high,
        }


OUTCOMES: tuple[tuple[str, str], ...] = (("connect", "connected"), ("sql", "progressed"))
"""Each outcome's key in a row and the name of its hit count in the JSON report."""


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One group (a first-touch band, or a number of attempts) and its two outcomes."""

    key: str
    label: str
    connect: Rate
    sql: Rate

    def __add__(self, other: OutcomeRow) -> OutcomeRow:
        return OutcomeRow(self.key, self.label, self.connect + other.connect, self.sql + other.sql)

    def outcome(self, name: str) -> Rate:
        return self.connect if name == "connect" else self.sql

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label} | {
            name: self.outcome(name).to_dict(hits_key) for name, hits_key in OUTCOMES
        }


@dataclass(frozen=True)
class OutcomeTable:
    """One month's (or a pooled window's) groups, in their fixed order, empty ones included."""

    months: tuple[str, ...]
    by_first_touch: tuple[OutcomeRow, ...]
    by_attempts: tuple[OutcomeRow, ...]

    @classmethod
    def pooled(cls, tables: Sequence[OutcomeTable]) -> OutcomeTable:
        """The sum of ``tables`` (same groups in the same order), months oldest first."""
        first, *rest = tables
        touch, tries = list(first.by_first_touch), list(first.by_attempts)
        for table in rest:
            touch = [a + b for a, b in zip(touch, table.by_first_touch, strict=True)]
            tries = [a + b for a, b in zip(tries, table.by_attempts, strict=True)]
        months = tuple(month for table in tables for month in table.months)
        return cls(months, tuple(touch), tuple(tries))

    def row(self, key: str) -> OutcomeRow:
        for row in (*self.by_first_touch, *self.by_attempts):
            if row.key == key:
                return row
        raise KeyError(key)
