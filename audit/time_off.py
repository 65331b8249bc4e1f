"""Reps' time off as UTC spans, read from the SLA file and from iCalendar files or URLs.

A rep's business time leaves out their absences (docs/SEMANTICS.md, Routing and time off):
each rep's spans become the ``closed`` spans of that rep's own
:class:`~audit.business_time.BusinessCalendar`. A listed range is whole local days on the
rep's clock (their ``rep_hours`` or team time zone, else the SLA's). A calendar event keeps
its own times: a half-day at the doctor is half a day; an all-day event is whole local
days; a floating time (no zone) is read on the rep's clock. Every event of the calendar
counts as an absence, whether it shows the rep as busy or free (calendars mark all-day
events "free" by default): the file is meant to be the rep's time off. A recurring event
counts its first occurrence only.

A calendar that cannot be read or fetched, and a rep who is no owner in the snapshot, stop
the audit with one line naming the key: a typo must not quietly give a rep no time off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from audit.open_intervals import datetime_to_ns, wall_to_utc_ns
from audit.period import AuditInputError
from config.sla import SLA
from config.sla.time_off import RepTimeOff

Span = tuple[int, int]
"""[start, end) in UTC epoch nanoseconds."""

FETCH_TIMEOUT_S = 10
"""How long a calendar URL may take to answer before the audit gives up on it."""

Fetch = Callable[[str], bytes]


def fetch_url(url: str) -> bytes:
    """The body at ``url``, or an OSError saying why not (requests' errors, one line)."""
    try:
        response = requests.get(url, timeout=FETCH_TIMEOUT_S)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise OSError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return response.content


def rep_absences(sla: SLA, fetch: Fetch = fetch_url) -> dict[str, list[Span]]:
    """Every rep's absences as UTC spans (possibly overlapping), by rep email."""
    spans: dict[str, list[Span]] = {}
    for rep, block in sla.time_off.items():
        tz = ZoneInfo(sla.working_time(rep)[0])
        spans[rep] = [_day_span(first, last, tz) for first, last in block.dates]
        if block.ics is not None:
            spans[rep] += _calendar_spans(rep, block, tz, fetch)
    return spans


def check_owners(sla: SLA, owner_emails: Iterable[str]) -> None:
    """Refuse a rep in ``time_off`` or ``rep_hours`` who is no owner of the snapshot."""
    known = {email.strip().lower() for email in owner_emails if isinstance(email, str)}
    for key in ("time_off", "rep_hours"):
        for rep in getattr(sla, key):
            if rep not in known:
                raise AuditInputError(
                    f"{key}.{rep}: {rep} is no owner in the snapshot; name the rep by the "
                    "email of their CRM user"
                )


def _day_span(first: date, last: date, tz: ZoneInfo) -> Span:
    """Local days first..last (both included) as [first 00:00, day after last 00:00)."""
    start = wall_to_utc_ns(datetime.combine(first, time(0)), tz)
    end = wall_to_utc_ns(datetime.combine(last + timedelta(days=1), time(0)), tz)
    return start, end


def _calendar_spans(rep: str, block: RepTimeOff, tz: ZoneInfo, fetch: Fetch) -> list[Span]:
    """The events of the rep's calendar as spans; one clear error if it cannot be had."""
    import icalendar

    where = str(block.ics)
    key = f"time_off.{rep}.ics"
    try:
        if where.lower().startswith(("http://", "https://")):
            raw = fetch(where)
        else:
            raw = Path(where).read_bytes()
    except OSError as exc:
        verb = "fetch" if "://" in where else "read"
        raise AuditInputError(
            f"{key}: cannot {verb} {where} ({exc}); check the path or URL"
        ) from None
    try:
        calendar = icalendar.Calendar.from_ical(raw)
        return [span for event in calendar.walk("VEVENT") if (span := _event_span(event, tz))]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditInputError(
            f"{key}: {where} is not an iCalendar file ({exc}); export the rep's time-off "
            "calendar as .ics"
        ) from None


def _event_span(event: object, tz: ZoneInfo) -> Span | None:
    """One VEVENT's [start, end) in UTC ns; None for an event without a start or length."""
    start_prop = event.get("DTSTART")  # type: ignore[attr-defined]
    if start_prop is None:
        return None
    start = start_prop.dt
    end_prop = event.get("DTEND")  # type: ignore[attr-defined]
    duration = event.get("DURATION")  # type: ignore[attr-defined]
    if end_prop is not None:
        end = end_prop.dt
    elif duration is not None:
        end = start + duration.dt
    elif isinstance(start, datetime):
        return None  # an instant, not a stretch of time off
    else:
        end = start + timedelta(days=1)  # RFC 5545: an all-day event lasts its day
    return _instant_ns(start, tz), _instant_ns(end, tz)


def _instant_ns(value: date | datetime, tz: ZoneInfo) -> int:
    """A calendar value in UTC ns: a date is local midnight, a floating time local time."""
    if not isinstance(value, datetime):
        return wall_to_utc_ns(datetime.combine(value, time(0)), tz)
    if value.tzinfo is None:
        return wall_to_utc_ns(value, tz)
    return datetime_to_ns(value.astimezone(UTC))
