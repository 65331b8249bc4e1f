"""One fixed text format for every instant in the snapshot.

SQLite has no timestamp type, so instants are stored as text. A single fixed-width UTC
format (``2026-10-05T14:03:00.000Z``) makes string order equal time order, which lets
the audit compare and index instants as plain text.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_UTC_TEXT = re.compile(
    r"([1-9][0-9]{3}-[0-9]{2}-[0-9]{2})T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{3})?(?:Z|\+00:?00)"
)
"""UTC instant text the fast path may rewrite without parsing: the snapshot's own format
(HubSpot's), the same without milliseconds, or with a ``+00:00`` / ``+0000`` offset
(Salesforce's). Years 1000-9999 only: ``strftime`` writes earlier years unpadded, and
the fast path must give exactly what the slow one gives. ASCII digits only (``\\d``
would accept other scripts' digits, which ``fromisoformat`` refuses)."""


class InstantError(ValueError):
    """A CRM value that should be an instant is not one."""


def format_instant(value: datetime) -> str:
    """Render an aware datetime as the snapshot's fixed UTC text (millisecond precision).

    A naive datetime is refused: guessing its zone is how audits go silently wrong.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InstantError(f"instant {value.isoformat()} has no time zone")
    utc = value.astimezone(UTC)
    if utc.year >= 1000:
        # isoformat truncates to milliseconds as strftime's %f[:-3] does, at a fraction
        # of the cost (datetime's own, even for a subclass such as pandas' Timestamp);
        # years before 1000 keep strftime's (unpadded) rendering.
        return datetime.isoformat(utc, timespec="milliseconds")[:23] + "Z"
    return utc.strftime(INSTANT_FORMAT)[:-3] + "Z"


def parse_instant(text: str) -> datetime:
    """Read an ISO-8601 instant (``Z``, ``+00:00`` or ``+0000`` offsets) as aware UTC.

    Accepts HubSpot's ``2026-10-05T14:03:00.123Z``, Salesforce's
    ``2026-10-05T14:03:00.000+0000`` and plain dates (read as midnight UTC). Text
    without an offset is refused rather than guessed.
    """
    raw = text.strip()
    if len(raw) == 10:
        try:
            return datetime.combine(date.fromisoformat(raw), time(0), tzinfo=UTC)
        except ValueError as exc:
            raise InstantError(f"{text!r} is not a date") from exc
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    elif len(raw) > 5 and raw[-5] in "+-" and raw[-4:].isdigit():
        raw = raw[:-5] + raw[-5:-2] + ":" + raw[-2:]
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InstantError(f"{text!r} is not an ISO-8601 instant") from exc
    if parsed.tzinfo is None:
        raise InstantError(f"{text!r} has no time zone offset")
    return parsed.astimezone(UTC)


def normalize_instant(text: str | None) -> str | None:
    """CRM instant text → the snapshot's fixed format; None stays None.

    A sync normalises ~10 instants per record, nearly all already UTC text in (or next
    to) the snapshot's format: those are checked by one regular expression and a cached
    calendar check of their date, then rewritten by slicing — the same text the full
    parse gives (``tests/test_instants_fast.py`` holds the two paths equal), several
    times faster. Anything else takes the full parse.
    """
    if text is None or text == "":
        return None
    match = _UTC_TEXT.fullmatch(text)
    if match is not None and _is_calendar_date(match[1]):
        return text[:19] + (match[2] or ".000") + "Z"
    return _normalize_parsed(text)


def _normalize_parsed(text: str) -> str:
    """The slow path: parse (any accepted form, any offset), then format."""
    return format_instant(parse_instant(text))


@lru_cache(maxsize=8192)
def _is_calendar_date(text: str) -> bool:
    """``YYYY-MM-DD`` names a real day (no 30 February); a sync meets few distinct days."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def epoch_ms_to_instant(value: int | str) -> str:
    """HubSpot epoch milliseconds → the snapshot's fixed format."""
    return format_instant(EPOCH + timedelta(milliseconds=int(value)))


def instant_to_epoch_ms(text: str) -> int:
    """Snapshot instant text → epoch milliseconds (HubSpot search filters take these)."""
    return (parse_instant(text) - EPOCH) // timedelta(milliseconds=1)
