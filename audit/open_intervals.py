"""The business calendar's interval table: its open intervals in UTC, and F(t).

:class:`~audit.business_time.BusinessCalendar` answers every query on whole columns of
instants with ``np.searchsorted`` over this table: the open intervals of a range of local
days, converted to UTC epoch nanoseconds, with the open time accumulated before each, so
F(t) (open nanoseconds from the table's start up to t) and its inverse are two array
lookups. Converting a local opening or close to UTC follows the rules set out in
:mod:`audit.business_time` (the earliest instant the local clock reads that wall time or
later; 24:00 is :data:`END_OF_DAY`, the next local midnight).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from audit.instants_ns import NS_PER_S
from snapshot.instants import EPOCH

OpeningHours = dict[int, list[tuple[time, time]]]
"""Weekday (0=Monday..6=Sunday) -> sorted, non-overlapping local intervals [open, close)."""

END_OF_DAY: time = time.max
"""Close sentinel meaning 24:00 (the next local midnight); ``time.max`` is never a real close."""


# --------------------------------------------------------------------------------------
# Local wall time -> UTC
# --------------------------------------------------------------------------------------


def datetime_to_ns(value: datetime) -> int:
    """Exact int64 epoch ns of an aware datetime (float timestamps would lose precision)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"business time needs an aware datetime, got naive {value!r}")
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def wall_to_utc_ns(wall: datetime, tz: ZoneInfo) -> int:
    """Earliest instant (epoch ns) at which the local clock in ``tz`` reads ``wall`` or later.

    For an existing wall time this is the instant itself (first occurrence when ambiguous,
    as ``fold=0``); inside a spring-forward gap it is the instant the clock jumps.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return datetime_to_ns(first)
    return _gap_end_ns(wall, tz)


def _gap_end_ns(wall: datetime, tz: ZoneInfo) -> int:
    """Instant the clock jumps over the nonexistent ``wall`` (bisection on whole seconds).

    ``fold=1`` interprets the wall time with the post-jump offset (an instant before the
    jump) and ``fold=0`` with the pre-jump offset (an instant after it), so the jump lies
    between them; transitions in tzdata fall on whole seconds.
    """
    lo = datetime_to_ns(wall.replace(tzinfo=tz, fold=1)) // NS_PER_S
    hi = -(-datetime_to_ns(wall.replace(tzinfo=tz, fold=0)) // NS_PER_S)

    def reached(epoch_s: int) -> bool:
        return datetime.fromtimestamp(epoch_s, tz).replace(tzinfo=None) >= wall

    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi * NS_PER_S


def local_date(ns: int, tz: ZoneInfo) -> date:
    """Local calendar date containing the instant ``ns``."""
    return datetime.fromtimestamp(ns // NS_PER_S, tz).date()


# --------------------------------------------------------------------------------------
# The interval table: F(t) = open nanoseconds from the table's start up to t
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalTable:
    """Open intervals of local days ``first_day..last_day`` in UTC epoch ns.

    ``cum_start[i]`` is the open time before interval ``i``; ``cum_end[i]`` the open time
    up to its close. F is exact for instants in ``[lo_ns, hi_ns]``.
    """

    first_day: date
    last_day: date
    lo_ns: int
    hi_ns: int
    opens: np.ndarray
    closes: np.ndarray
    cum_start: np.ndarray
    cum_end: np.ndarray

    @property
    def total_ns(self) -> int:
        """Open time in the whole table, i.e. F(hi_ns)."""
        return int(self.cum_end[-1]) if self.cum_end.size else 0

    def covers(self, lo_ns: int, hi_ns: int) -> bool:
        return self.lo_ns <= lo_ns and hi_ns <= self.hi_ns

    def open_ns_until(self, instants: np.ndarray) -> np.ndarray:
        """F(t): open ns from ``lo_ns`` up to each of ``instants`` (int64, monotone)."""
        if self.opens.size == 0:
            return np.zeros_like(instants)
        interval = np.searchsorted(self.opens, instants, side="right") - 1
        interval = np.clip(interval, 0, None)
        length = self.cum_end[interval] - self.cum_start[interval]
        return self.cum_start[interval] + np.clip(instants - self.opens[interval], 0, length)

    def instant_of(self, open_ns: np.ndarray) -> np.ndarray:
        """F^-1: earliest instant where F reaches each value of ``open_ns`` (all > 0).

        ``side='left'`` picks the first interval whose cumulative close reaches the value,
        so a deadline that falls exactly on a close stays at that close instead of
        jumping to the next opening.
        """
        interval = np.searchsorted(self.cum_end, open_ns, side="left")
        return self.opens[interval] + (open_ns - self.cum_start[interval])


def build_table(
    tz: ZoneInfo,
    hours: OpeningHours,
    holidays: frozenset[date],
    first_day: date,
    last_day: date,
    closed: tuple[np.ndarray, np.ndarray] | None = None,
) -> IntervalTable:
    """Convert every open interval of the local days ``first_day..last_day`` to UTC ns,
    less the ``closed`` spans (sorted, disjoint UTC ns starts and ends: a rep's time off)."""
    opens: list[int] = []
    closes: list[int] = []
    day = first_day
    while day <= last_day:
        if day not in holidays:
            for opening, closing in hours.get(day.weekday(), ()):
                opens.append(wall_to_utc_ns(datetime.combine(day, opening), tz))
                closes.append(_boundary_ns(day, closing, tz))
        day += timedelta(days=1)
    open_arr, close_arr = _merge_touching(
        np.asarray(opens, dtype=np.int64), np.asarray(closes, dtype=np.int64)
    )
    if closed is not None and closed[0].size:
        open_arr, close_arr = _without(open_arr, close_arr, *closed)
    lengths = close_arr - open_arr
    cum_end = np.cumsum(lengths, dtype=np.int64)
    return IntervalTable(
        first_day=first_day,
        last_day=last_day,
        lo_ns=wall_to_utc_ns(datetime.combine(first_day, time(0, 0)), tz),
        hi_ns=_boundary_ns(last_day, END_OF_DAY, tz),
        opens=open_arr,
        closes=close_arr,
        cum_start=cum_end - lengths,
        cum_end=cum_end,
    )


def _boundary_ns(day: date, moment: time, tz: ZoneInfo) -> int:
    """UTC ns of a local close, reading END_OF_DAY as the next local midnight."""
    if moment == END_OF_DAY:
        return wall_to_utc_ns(datetime.combine(day + timedelta(days=1), time(0, 0)), tz)
    return wall_to_utc_ns(datetime.combine(day, moment), tz)


def _without(
    opens: np.ndarray, closes: np.ndarray, cut_starts: np.ndarray, cut_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The open intervals less the cut spans, on whole arrays.

    Every boundary of either set splits time into elementary pieces; a piece stays open
    when it lies inside an open interval and inside no cut (both sets are sorted and
    disjoint, so one ``searchsorted`` each decides it).
    """
    if opens.size == 0:
        return opens, closes
    edges = np.unique(np.concatenate([opens, closes, cut_starts, cut_ends]))
    left, right = edges[:-1], edges[1:]

    def inside(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        slot = np.searchsorted(starts, left, side="right") - 1
        return (slot >= 0) & (left < ends[np.clip(slot, 0, None)])

    keep = inside(opens, closes) & ~inside(cut_starts, cut_ends)
    return _merge_touching(left[keep], right[keep])


def _merge_touching(opens: np.ndarray, closes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty intervals (wholly in a DST gap) and fuse ones that touch (e.g. 24x7 days).

    Afterwards cumulative closes are strictly increasing, which ``instant_of`` relies on.
    """
    keep = closes > opens
    opens, closes = opens[keep], closes[keep]
    if opens.size == 0:
        return opens, closes
    starts_group = np.ones(opens.size, dtype=bool)
    starts_group[1:] = opens[1:] != closes[:-1]
    ends_group = np.ones(opens.size, dtype=bool)
    ends_group[:-1] = starts_group[1:]
    return opens[starts_group], closes[ends_group]
