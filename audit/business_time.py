"""Business-time calendar: how much *open* time lies between two UTC instants.

The SLA's ``sales.first_touch.within`` is measured in business time (docs/SEMANTICS.md §1):
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
  seconds and ``NaT`` deadlines, so callers can pass columns with gaps unchanged
  (:data:`audit.instants_ns.NAT`).

The interval table itself, and the conversion of local wall times to UTC it is built
with, are :mod:`audit.open_intervals`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from audit.instants_ns import NAT, NS_PER_S
from audit.open_intervals import (
    END_OF_DAY,
    IntervalTable,
    OpeningHours,
    build_table,
    datetime_to_ns,
    local_date,
)
from snapshot.instants import EPOCH

# END_OF_DAY and OpeningHours are defined with the interval table they shape; callers name
# them here, with the calendar they configure.
__all__ = ["END_OF_DAY", "BusinessCalendar", "OpeningHours"]

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


def _ns_to_datetime_ceil(ns: int) -> datetime:
    """Aware UTC datetime of ``ns``, rounded *up* to the microsecond.

    Rounding up keeps a deadline from landing before the instant the last needed
    second elapses; datetime cannot hold the sub-microsecond remainder.
    """
    micros = -((-ns) // 1_000)
    return EPOCH + timedelta(microseconds=micros)


def _seconds_to_ns(seconds: float) -> int:
    """Validate a business duration and turn it into whole nanoseconds."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"business duration must be finite and >= 0 seconds, got {seconds!r}")
    ns = round(seconds * NS_PER_S)
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


def _merged_spans(spans: Iterable[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Closed spans as sorted, disjoint (starts, ends) arrays; empty spans dropped."""
    pairs = sorted((int(start), int(end)) for start, end in spans if int(end) > int(start))
    starts: list[int] = []
    ends: list[int] = []
    for start, end in pairs:
        if starts and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)


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
        self,
        tz: ZoneInfo,
        hours: OpeningHours | None,
        holidays: Iterable[date] = (),
        closed: Iterable[tuple[int, int]] = (),
    ) -> None:
        """``closed`` are spans of UTC epoch ns [start, end) closed besides the holidays: a
        rep's time off (:mod:`audit.time_off`); they may overlap and come in any order."""
        self.tz = tz
        self.closed = _merged_spans(closed)
        self.holidays: frozenset[date] = _normalise_holidays(holidays)
        self.is_24x7 = hours is None
        self.hours: dict[int, list[tuple[time, time]]] = (
            {weekday: list(_ALL_DAY) for weekday in range(7)}
            if hours is None
            else _validate_hours(hours)
        )
        self._week_open_s = _week_open_seconds(self.hours)
        self._table: IntervalTable | None = None

    def __repr__(self) -> str:
        hours = "24x7" if self.is_24x7 else self.hours
        return f"BusinessCalendar({self.tz.key!r}, {hours!r}, holidays={len(self.holidays)})"

    @property
    def _plain_elapsed(self) -> bool:
        """24x7 with no holidays: business time is elapsed time, no table needed."""
        return self.is_24x7 and not self.holidays and not self.closed[0].size

    # ---- scalar forms -----------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Open seconds in ``[start, end)``; 0 when ``end <= start``. Aware datetimes, any tz."""
        starts = np.array([datetime_to_ns(start)], dtype=np.int64)
        ends = np.array([datetime_to_ns(end)], dtype=np.int64)
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
        start_ns = datetime_to_ns(start)
        deadline = self.add_business_ns(np.array([start_ns], dtype=np.int64), seconds)
        return _ns_to_datetime_ceil(int(deadline[0]))

    # ---- vectorised forms -------------------------------------------------------------

    def business_seconds_ns(self, starts_ns: np.ndarray, ends_ns: np.ndarray) -> np.ndarray:
        """Elementwise open seconds in ``[start, end)`` for int64 epoch-ns arrays.

        float64 result; 0 where ``end <= start``; NaN where either side is NaT.
        """
        starts, ends = np.broadcast_arrays(_as_ns_array(starts_ns), _as_ns_array(ends_ns))
        missing = (starts == NAT) | (ends == NAT)
        positive = (ends > starts) & ~missing
        result = np.zeros(starts.shape, dtype=np.float64)
        if positive.any():
            begin, end = starts[positive], ends[positive]
            if self._plain_elapsed:
                open_ns = end - begin
            else:
                table = self._table_covering(int(begin.min()), int(end.max()))
                open_ns = table.open_ns_until(end) - table.open_ns_until(begin)
            result[positive] = open_ns / NS_PER_S
        result[missing] = np.nan
        return result

    def add_business_ns(self, starts_ns: np.ndarray, seconds: float) -> np.ndarray:
        """Elementwise deadlines (int64 epoch ns) ``seconds`` of business time after each start.

        Same rule as :meth:`add_business`, at nanosecond resolution; NaT stays NaT.
        """
        starts = _as_ns_array(starts_ns)
        need_ns = _seconds_to_ns(seconds)
        missing = starts == NAT
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

    def _table_covering(self, lo_ns: int, hi_ns: int) -> IntervalTable:
        """Cached table whose F is exact on ``[lo_ns, hi_ns]``, widened if needed."""
        table = self._table
        if table is not None and table.covers(lo_ns, hi_ns):
            return table
        first = local_date(lo_ns, self.tz) - timedelta(days=_PAD_DAYS)
        last = local_date(hi_ns, self.tz) + timedelta(days=_PAD_DAYS)
        if table is not None:
            first, last = min(first, table.first_day), max(last, table.last_day)
        return self._rebuild(first, last)

    def _extend_forward(self, table: IntervalTable, missing_ns: int) -> IntervalTable:
        """Add enough days after ``table`` to hold ``missing_ns`` more open time (or more).

        Sized from the nominal weekly open time plus a week of slack; holidays or DST gaps
        may still fall short, in which case the caller asks again.
        """
        weeks = math.ceil(missing_ns / NS_PER_S / self._week_open_s) + 1
        last = table.last_day + timedelta(weeks=weeks)
        if last > _LAST_TABLE_DAY:
            raise OverflowError("business deadline lies beyond the int64 nanosecond range")
        return self._rebuild(table.first_day, last)

    def _rebuild(self, first_day: date, last_day: date) -> IntervalTable:
        self._table = build_table(
            self.tz, self.hours, self.holidays, first_day, last_day, self.closed
        )
        return self._table
