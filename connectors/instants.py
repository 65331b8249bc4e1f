"""One fixed text format for every instant in the snapshot.

SQLite has no timestamp type, so instants are stored as text. A single fixed-width UTC
format (``2026-10-05T14:03:00.000Z``) makes string order equal time order, which lets
the audit compare and index instants as plain text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InstantError(ValueError):
    """A CRM value that should be an instant is not one."""


def format_instant(value: datetime) -> str:
    """Render an aware datetime as the snapshot's fixed UTC text (millisecond precision).

    A naive datetime is refused: guessing its zone is how audits go silently wrong.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InstantError(f"instant {value.isoformat()} has no time zone")
    utc = value.astimezone(UTC)
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
    """CRM instant text → the snapshot's fixed format; None stays None."""
    if text is None or text == "":
        return None
    return format_instant(parse_instant(text))


def epoch_ms_to_instant(value: int | str) -> str:
    """HubSpot epoch milliseconds → the snapshot's fixed format."""
    return format_instant(EPOCH + timedelta(milliseconds=int(value)))


def instant_to_epoch_ms(text: str) -> int:
    """Snapshot instant text → epoch milliseconds (HubSpot search filters take these)."""
    return (parse_instant(text) - EPOCH) // timedelta(milliseconds=1)
