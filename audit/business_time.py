"""Business-time calendar: how much *open* time lies between two UTC instants.

The SLA's ``sales.first_touch.within`` is measured in business time (SLA_SEMANTICS.md §1):
only the overlap with the opening hours counts, holidays are closed, and a clock that
starts while closed starts counting at the next opening. The audit evaluates this on whole
columns of instants, so the calendar is built once as a table of open intervals in UTC and
every query is a ``np.searchsorted`` over it; there is no per-element Python loop.

Conventions (the choices a reader of the audit needs to know)
-------------------------------------------------------------
* **Time zone.** Opening hours and holidays are read in the calendar's IANA zone, with its
  daylight-saving changes: ``09:00-18:00`` is 9 real hours on every day, and
  ``00:00-24:00`` is 23 real hours on a spring-forward day and 25 on a fall-back day.
* **Local wall time -> UTC.** A local boundary maps to the *earliest instant at which the
  local clock reads that wall time or later*. Concretely:

  - an ordinary wall time maps to its unique instant;
  - a nonexistent wall time (inside a spring-forward gap, e.g. 02:30 on 2026-03-08 in
    America/New_York) maps to the instant the clock jumps, i.e. the end of the gap
    (07:00 UTC in that example); an interval lying wholly inside a gap is empty;
  - an ambiguous wall time (repeated by a fall-back) maps to its first occurrence
    (``fold=0``).

  This mapping is monotone, so sorted, non-overlapping local intervals stay sorted and
  non-overlapping in UTC.
* **24:00.** A close of :data:`END_OF_DAY` (``datetime.time.max``) means 24:00, the next
  local midnight, so ``00:00-24:00`` is expressible. ``time(0, 0)`` is never a close.
* **Holidays** are local dates closed for the whole local day, *in every case, including a
  24x7 calendar* (``hours=None``): listing a holiday is an explicit statement that nobody
  works that day, and an SLA clock that keeps running through it would contradict that.
  With ``hours=None`` and no holidays, business time is plain elapsed time.
* **Weekdays** are ``0`` = Monday .. ``6`` = Sunday; a weekday with no entry is closed.
* **Units.** Durations are float seconds; minutes are seconds / 60. Vectorised forms take
  and return int64 UTC epoch nanoseconds. ``NaT`` (the int64 minimum, which is what a
  pandas ``datetime64[ns]`` column holds for a missing value) propagates: it yields ``NaN``
  seconds and ``NaT`` deadlines, so callers can pass columns with gaps unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

__all__ = ["END_OF_DAY", "BusinessCalendar", "OpeningHours"]

OpeningHours = dict[int, list[tuple[time, time]]]
"""Weekday (0=Monday..6=Sunday) -> sorted, non-overlapping local intervals [open, close)."""

END_OF_DAY: time = time.max
"""Close sentinel meaning 24:00 (the next local midnight); ``time.max`` is never a real close."""

NAT_NS: int = int(np.iinfo(np.int64).min)
"""int64 value of ``NaT``; treated as a missing instant in the vectorised forms."""

_NS_PER_S = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALL_DAY: list[tuple[time, time]] = [(time(0, 0), END_OF_DAY)]
# Latest local date a table may reach: int64 epoch ns end in April 2262.
_LAST_TABLE_DAY = date(2262, 1, 1)
# Largest allowance accepted (~146 years), so start + allowance cannot overflow int64 ns.
_MAX_DURATION_NS = 2**62
# Days added around a requested range so that nearby later queries reuse the table.
_PAD_DAYS = 7


# --------------------------------------------------------------------------------------
# Conversions
# --------------------------------------------------------------------------------------


def _datetime_to_ns(value: datetime) -> int:
    """Exact int64 epoch ns of an aware datetime (float timestamps would lose precision)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"business time needs an aware datetime, got naive {value!r}")
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _NS_PER_S + delta.microseconds * 1_000


def _ns_to_datetime_ceil(ns: int) -> datetime:
    """Aware UTC datetime of ``ns``, rounded *up* to the microsecond.

    Rounding up keeps a deadline from landing before the instant the last needed
    second elapses; datetime cannot hold the sub-microsecond remainder.
    """
    micros = -((-ns) // 1_000)
    return _EPOCH + timedelta(microseconds=micros)


def _seconds_to_ns(seconds: float) -> int:
    """Validate a business duration and turn it into whole nanoseconds."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"business duration must be finite and >= 0 seconds, got {seconds!r}")
    ns = round(seconds * _NS_PER_S)
    if ns > _MAX_DURATION_NS:
        raise OverflowError(f"business duration of {seconds!r} s exceeds the int64 ns range")
    return ns


def _as_ns_array(values: np.ndarray) -> np.ndarray:
    """Accept int64 epoch ns (or datetime64) arrays and return a 1-D-or-more int64 view."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        arr = arr.astype("datetime64[ns]").view(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"expected int64 epoch nanoseconds, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _wall_to_utc_ns(wall: datetime, tz: ZoneInfo) -> int:
    """Earliest instant (epoch ns) at which the local clock in ``tz`` reads ``wall`` or later.

    For an existing wall time this is the instant itself (first occurrence when ambiguous,
    as ``fold=0``); inside a spring-forward gap it is the instant the clock jumps.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return _datetime_to_ns(first)
    return _gap_end_ns(wall, tz)


def _gap_end_ns(wall: datetime, tz: ZoneInfo) -> int:
    """Instant the clock jumps over the nonexistent ``wall`` (bisection on whole seconds).

    ``fold=1`` interprets the wall time with the post-jump offset (an instant before the
    jump) and ``fold=0`` with the pre-jump offset (an instant after it), so the jump lies
    between them; transitions in tzdata fall on whole seconds.
    """
    lo = _datetime_to_ns(wall.replace(tzinfo=tz, fold=1)) // _NS_PER_S
    hi = -(-_datetime_to_ns(wall.replace(tzinfo=tz, fold=0)) // _NS_PER_S)

    def reached(epoch_s: int) -> bool:
        return datetime.fromtimestamp(epoch_s, tz).replace(tzinfo=None) >= wall

    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi * _NS_PER_S


def _local_date(ns: int, tz: ZoneInfo) -> date:
    """Local calendar date containing the instant ``ns``."""
    return datetime.fromtimestamp(ns // _NS_PER_S, tz).date()


# --------------------------------------------------------------------------------------
# Opening-hours validation
# --------------------------------------------------------------------------------------


def _validate_hours(hours: OpeningHours) -> dict[int, list[tuple[time, time]]]:
    """Check weekday keys and interval order now, so a bad SLA file fails at load time."""
    checked: dict[int, list[tuple[time, time]]] = {}
    for weekday, intervals in hours.items():
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday)..6 (Sunday), got {weekday!r}")
        checked[weekday] = _validate_day(weekday, list(intervals))
    if not any(checked.values()):
        raise ValueError("business hours have no open interval: deadlines would never come")
    return checked


def _validate_day(weekday: int, intervals: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """One weekday's intervals must be naive, non-empty, sorted and non-overlapping."""
    previous_close: time | None = None
    for opening, closing in intervals:
        if opening.tzinfo is not None or closing.tzinfo is not None:
            raise ValueError("opening hours are local wall times; pass naive datetime.time")
        if opening == END_OF_DAY:
            raise ValueError(f"weekday {weekday}: END_OF_DAY (24:00) cannot open an interval")
        if not opening < closing:
            raise ValueError(
                f"weekday {weekday}: interval {opening}-{closing} is empty or reversed "
                "(write a close at midnight as END_OF_DAY, not 00:00)"
            )
        if previous_close is not None and opening < previous_close:
            raise ValueError(f"weekday {weekday}: intervals must be sorted and non-overlapping")
        previous_close = closing
    return intervals


def _normalise_holidays(holidays: Iterable[date]) -> frozenset[date]:
    """Holidays are whole local dates; a datetime would silently drop its time part."""
    days: set[date] = set()
    for day in holidays:
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(f"holidays must be datetime.date values, got {day!r}")
        days.add(day)
    return frozenset(days)


def _week_open_seconds(hours: OpeningHours) -> float:
    """Nominal open seconds in one week (DST ignored); used to size forward extensions."""

    def seconds_of(moment: time) -> float:
        if moment == END_OF_DAY:
            return 86_400.0
        return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6

    return sum(
        seconds_of(closing) - seconds_of(opening)
        for intervals in hours.values()
        for opening, closing in intervals
    )


# --------------------------------------------------------------------------------------
# The interval table: F(t) = open nanoseconds from the table's start up to t
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
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

    def open_ns_until(self, t: np.ndarray) -> np.ndarray:
        """F(t): open ns from ``lo_ns`` up to each instant of ``t`` (int64, monotone)."""
        if self.opens.size == 0:
            return np.zeros_like(t)
        idx = np.searchsorted(self.opens, t, side="right") - 1
        idx = np.clip(idx, 0, None)
        length = self.cum_end[idx] - self.cum_start[idx]
        return self.cum_start[idx] + np.clip(t - self.opens[idx], 0, length)

    def instant_of(self, open_ns: np.ndarray) -> np.ndarray:
        """F^-1: earliest instant where F reaches each value of ``open_ns`` (all > 0).

        ``side='left'`` picks the first interval whose cumulative close reaches the value,
        so a deadline that falls exactly on a close stays at that close instead of
        jumping to the next opening.
        """
        idx = np.searchsorted(self.cum_end, open_ns, side="left")
        return self.opens[idx] + (open_ns - self.cum_start[idx])


def _build_table(
    tz: ZoneInfo, hours: OpeningHours, holidays: frozenset[date], first_day: date, last_day: date
) -> _Table:
    """Convert every open interval of the local days ``first_day..last_day`` to UTC ns."""
    opens: list[int] = []
    closes: list[int] = []
    day = first_day
    while day <= last_day:
        if day not in holidays:
            for opening, closing in hours.get(day.weekday(), ()):
                opens.append(_wall_to_utc_ns(datetime.combine(day, opening), tz))
                closes.append(_boundary_ns(day, closing, tz))
        day += timedelta(days=1)
    open_arr, close_arr = _merge_touching(
        np.asarray(opens, dtype=np.int64), np.asarray(closes, dtype=np.int64)
    )
    lengths = close_arr - open_arr
    cum_end = np.cumsum(lengths, dtype=np.int64)
    return _Table(
        first_day=first_day,
        last_day=last_day,
        lo_ns=_wall_to_utc_ns(datetime.combine(first_day, time(0, 0)), tz),
        hi_ns=_boundary_ns(last_day, END_OF_DAY, tz),
        opens=open_arr,
        closes=close_arr,
        cum_start=cum_end - lengths,
        cum_end=cum_end,
    )


def _boundary_ns(day: date, moment: time, tz: ZoneInfo) -> int:
    """UTC ns of a local close, reading END_OF_DAY as the next local midnight."""
    if moment == END_OF_DAY:
        return _wall_to_utc_ns(datetime.combine(day + timedelta(days=1), time(0, 0)), tz)
    return _wall_to_utc_ns(datetime.combine(day, moment), tz)


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


# --------------------------------------------------------------------------------------
# Public calendar
# --------------------------------------------------------------------------------------


class BusinessCalendar:
    """Opening hours and holidays of one SLA, in one IANA time zone.

    ``hours=None`` means 24x7; holidays still close their whole local day (see the module
    docstring for why). The UTC interval table is built lazily for the local dates the
    queries touch and cached on the instance; it is rebuilt, wider, when a query falls
    outside it.
    """

    def __init__(
        self, tz: ZoneInfo, hours: OpeningHours | None, holidays: Iterable[date] = ()
    ) -> None:
        self.tz = tz
        self.holidays: frozenset[date] = _normalise_holidays(holidays)
        self.is_24x7 = hours is None
        self.hours: dict[int, list[tuple[time, time]]] = (
            {weekday: list(_ALL_DAY) for weekday in range(7)}
            if hours is None
            else _validate_hours(hours)
        )
        self._week_open_s = _week_open_seconds(self.hours)
        self._table: _Table | None = None

    def __repr__(self) -> str:
        hours = "24x7" if self.is_24x7 else self.hours
        return f"BusinessCalendar({self.tz.key!r}, {hours!r}, holidays={len(self.holidays)})"

    @property
    def _plain_elapsed(self) -> bool:
        """24x7 with no holidays: business time is elapsed time, no table needed."""
        return self.is_24x7 and not self.holidays

    # ---- scalar forms -----------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open seconds in ``[start, end)``; 0 when ``end <= start``. Aware datetimes, any tz."""
        starts = np.array([_datetime_to_ns(start)], dtype=np.int64)
        ends = np.array([_datetime_to_ns(end)], dtype=np.int64)
        return float(self.business_seconds_ns(starts, ends)[0])

    def business_minutes(self, start: datetime, end: datetime) -> float:
        """Open minutes in ``[start, end)`` (business seconds / 60)."""
        return self.business_seconds(start, end) / 60.0

    def add_business(self, start: datetime, seconds: float) -> datetime:
        """Earliest UTC instant ``t >= start`` with ``business_seconds(start, t) == seconds``.

        ``seconds == 0`` returns ``start`` itself (in UTC) even while closed: a zero
        allowance is due immediately. Otherwise the result is the instant the last needed
        open second elapses, never a later opening, rounded up to the microsecond.
        """
        start_ns = _datetime_to_ns(start)
        deadline = self.add_business_ns(np.array([start_ns], dtype=np.int64), seconds)
        return _ns_to_datetime_ceil(int(deadline[0]))

    # ---- vectorised forms -------------------------------------------------------------

    def business_seconds_ns(self, starts_ns: np.ndarray, ends_ns: np.ndarray) -> np.ndarray:
        """Elementwise open seconds in ``[start, end)`` for int64 epoch-ns arrays.

        float64 result; 0 where ``end <= start``; NaN where either side is NaT.
        """
        starts, ends = np.broadcast_arrays(_as_ns_array(starts_ns), _as_ns_array(ends_ns))
        missing = (starts == NAT_NS) | (ends == NAT_NS)
        positive = (ends > starts) & ~missing
        result = np.zeros(starts.shape, dtype=np.float64)
        if positive.any():
            s, e = starts[positive], ends[positive]
            if self._plain_elapsed:
                open_ns = e - s
            else:
                table = self._table_covering(int(s.min()), int(e.max()))
                open_ns = table.open_ns_until(e) - table.open_ns_until(s)
            result[positive] = open_ns / _NS_PER_S
        result[missing] = np.nan
        return result

    def add_business_ns(self, starts_ns: np.ndarray, seconds: float) -> np.ndarray:
        """Elementwise deadlines (int64 epoch ns) ``seconds`` of business time after each start.

        Same rule as :meth:`add_business`, at nanosecond resolution; NaT stays NaT.
        """
        starts = _as_ns_array(starts_ns)
        need_ns = _seconds_to_ns(seconds)
        missing = starts == NAT_NS
        result = starts.copy()
        if need_ns == 0 or missing.all():
            return result
        valid = starts[~missing]
        if self._plain_elapsed:
            result[~missing] = valid + need_ns
            return result
        table = self._table_covering(int(valid.min()), int(valid.max()))
        while True:
            targets = table.open_ns_until(valid) + need_ns
            if targets.size == 0 or int(targets.max()) <= table.total_ns:
                break
            table = self._extend_forward(table, int(targets.max()) - table.total_ns)
        result[~missing] = table.instant_of(targets)
        return result

    # ---- table management -------------------------------------------------------------

    def _table_covering(self, lo_ns: int, hi_ns: int) -> _Table:
        """Cached table whose F is exact on ``[lo_ns, hi_ns]``, widened if needed."""
        table = self._table
        if table is not None and table.covers(lo_ns, hi_ns):
            return table
        first = _local_date(lo_ns, self.tz) - timedelta(days=_PAD_DAYS)
        last = _local_date(hi_ns, self.tz) + timedelta(days=_PAD_DAYS)
        if table is not None:
            first, last = min(first, table.first_day), max(last, table.last_day)
        return self._rebuild(first, last)

    def _extend_forward(self, table: _Table, missing_ns: int) -> _Table:
        """Add enough days after ``table`` to hold ``missing_ns`` more open time (or more).

        Sized from the nominal weekly open time plus a week of slack; holidays or DST gaps
        may still fall short, in which case the caller asks again.
        """
        weeks = math.ceil(missing_ns / _NS_PER_S / self._week_open_s) + 1
        last = table.last_day + timedelta(weeks=weeks)
        if last > _LAST_TABLE_DAY:
            raise OverflowError("business deadline lies beyond the int64 nanosecond range")
        return self._rebuild(table.first_day, last)

    def _rebuild(self, first_day: date, last_day: date) -> _Table:
        self._table = _build_table(self.tz, self.hours, self.holidays, first_day, last_day)
        return self._table
