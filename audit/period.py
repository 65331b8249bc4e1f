"""Audit periods and the as-of instant, read in the SLA's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from snapshot.instants import InstantError, format_instant, parse_instant

PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


class AuditInputError(ValueError):
    """A user-supplied audit input (period, as-of) is wrong; the message says how to fix it."""


@dataclass(frozen=True)
class Period:
    """A calendar month in the SLA's time zone: [1st 00:00 local, next 1st 00:00 local)."""

    label: str
    start: datetime
    end: datetime
    tz: ZoneInfo

    @property
    def start_text(self) -> str:
        return format_instant(self.start)

    @property
    def end_text(self) -> str:
        return format_instant(self.end)

    def previous(self, months: int = 1) -> Period:
        year, month = int(self.label[:4]), int(self.label[5:])
        index = year * 12 + (month - 1) - months
        return parse_period(f"{index // 12:04d}-{index % 12 + 1:02d}", self.tz)


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """``2026-10`` → that month's bounds as UTC instants, read in ``tz``."""
    match = PERIOD_PATTERN.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise AuditInputError(
            f"--period {text!r} is not a month: write it as YYYY-MM (e.g. 2026-10), "
            "last-month or this-month"
        )
    year, month = int(match.group(1)), int(match.group(2))
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(next_year, next_month, 1, tzinfo=tz).astimezone(UTC)
    return Period(label=f"{year:04d}-{month:02d}", start=start, end=end, tz=tz)


RELATIVE_PERIODS = ("this-month", "last-month")
"""``--period`` words read against the audit's as-of (given, or the last good sync)."""


def resolve_period(text: str, tz: ZoneInfo, reference: datetime) -> Period:
    """``--period``: ``YYYY-MM``, or ``this-month`` / ``last-month`` of ``reference``.

    ``reference`` is the audit's as-of: this month is the one that contains it in the SLA's
    time zone (so a nightly audit at 02:00 on the 1st is still about that new month), and
    last month is the one before.
    """
    word = text.strip().lower()
    if word not in RELATIVE_PERIODS:
        return parse_period(text, tz)
    local = reference.astimezone(tz)
    month = parse_period(f"{local.year:04d}-{local.month:02d}", tz)
    return month.previous() if word == "last-month" else month


def parse_as_of(text: str, tz: ZoneInfo) -> datetime:
    """``--as-of``: an ISO instant; one without an offset is read in the SLA's time zone."""
    raw = text.strip()
    try:
        return parse_instant(raw)
    except InstantError:
        pass
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise AuditInputError(
            f"--as-of {text!r} is not an ISO-8601 instant: write e.g. 2026-11-01T03:00:00Z"
        ) from exc
    return naive.replace(tzinfo=tz).astimezone(UTC)
