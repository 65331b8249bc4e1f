"""Reps away for a few days, so a generated CRM has time off for the audit to be fair about.

The absences fall in the *latest closed month* before the CRM's ``end`` (the month the demo
audits), on fixed weekdays of it, so that they do not depend on the seed: the demo's CRMs
with ``--source both`` (two seeds) share them, and an SLA file can name them
(``time_off:``; :func:`time_off_yaml`). With the demo's ``end`` (2026-11-16) that is
October 2026: Carla away Monday 5 to Friday 9 and Friday 23, Elisa Wednesday 14 and
Thursday 15.

What a reader could get wrong: the lead router knows about an absence only from its second
day (the rep forgot to set "out of office" on the first), so leads routed to a rep on the
first day of an absence land on someone who is away — routing's fault, in the audit's eyes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

DayRange = tuple[date, date]
"""First and last local day away, both included."""

# (rep key, days after the month's first Monday on or after the 3rd: first, last)
_PLAN: Final = (
    (3, 0, 4),  # Carla: a working week
    (3, 18, 18),  # Carla: the Friday two weeks later
    (5, 9, 10),  # Elisa: Wednesday and Thursday of the week after Carla's
)


def planned_absences(end: datetime, tz: ZoneInfo) -> dict[int, list[DayRange]]:
    """Rep key → the local day ranges away, in the latest closed month before ``end``."""
    local = end.astimezone(tz)
    first_of_month = date(local.year, local.month, 1)
    last_month_end = first_of_month - timedelta(days=1)
    third = date(last_month_end.year, last_month_end.month, 3)
    monday = third + timedelta(days=(7 - third.weekday()) % 7)
    plan: dict[int, list[DayRange]] = {}
    for rep_key, first, last in _PLAN:
        span = (monday + timedelta(days=first), monday + timedelta(days=last))
        plan.setdefault(rep_key, []).append(span)
    return plan


def _midnight_ms(day: date, tz: ZoneInfo) -> int:
    moment = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class AbsenceCalendar:
    """The absences as instants (epoch ms, local midnight to local midnight) per rep."""

    spans: dict[int, tuple[tuple[int, int, int], ...]]
    """Rep key → sorted (start, end of the first day, end) of each absence."""

    @classmethod
    def of(cls, plan: dict[int, list[DayRange]], tz: ZoneInfo) -> AbsenceCalendar:
        spans = {
            key: tuple(
                sorted(
                    (
                        _midnight_ms(first, tz),
                        _midnight_ms(first + timedelta(days=1), tz),
                        _midnight_ms(last + timedelta(days=1), tz),
                    )
                    for first, last in ranges
                )
            )
            for key, ranges in plan.items()
        }
        return cls(spans)

    def _span(self, rep_key: int, at_ms: int) -> tuple[int, int, int] | None:
        spans = self.spans.get(rep_key)
        if not spans:
            return None
        i = bisect.bisect_right(spans, (at_ms, 1 << 62, 1 << 62)) - 1
        if i >= 0 and spans[i][0] <= at_ms < spans[i][2]:
            return spans[i]
        return None

    def back_at(self, rep_key: int, at_ms: int) -> int | None:
        """When the rep is back (local midnight after the last day), if away at ``at_ms``."""
        span = self._span(rep_key, at_ms)
        return span[2] if span else None

    def router_skips(self, rep_key: int, at_ms: int) -> bool:
        """Whether the router leaves the rep out at ``at_ms``: away, and not the first day."""
        span = self._span(rep_key, at_ms)
        return span is not None and at_ms >= span[1]


def time_off_yaml(plan: dict[int, list[DayRange]], emails: dict[int, str]) -> list[str]:
    """The ``time_off:`` block naming ``plan``, one rep a line, as the SLA file takes it."""
    lines = ["time_off:"]
    for key in sorted(plan):
        lines.append(f"  {emails[key]}: [{', '.join(_range_text(r) for r in plan[key])}]")
    return lines


def _range_text(day_range: DayRange) -> str:
    first, last = day_range
    return first.isoformat() if first == last else f'"{first.isoformat()}..{last.isoformat()}"'
