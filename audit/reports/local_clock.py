"""Instants for spreadsheets: local wall time in the SLA's zone, and the UTC offset apart.

A spreadsheet reads ``2026-10-02 15:00:00`` as a date and time, but not with an offset
after it, so the reports write the two in neighbouring columns. Both come from
:func:`audit.wording.local_instant`, so every report shows the same clock.
"""

from __future__ import annotations

import re

from audit.wording import local_instant


def local_parts(instant: str | None, timezone: str) -> tuple[str, str] | None:
    """A UTC instant as local ``YYYY-MM-DD HH:MM:SS`` and ``UTC+02:00``; None if missing.

    Read from :func:`audit.wording.local_instant`, so every report shows the same clock.
    The offset is written ``UTC+02:00`` rather than ``+02:00``: a cell starting with ``+``
    is a formula or a time to a spreadsheet. Text that is not an instant comes back whole
    with an empty offset.
    """
    if not instant:
        return None
    text = local_instant(instant, timezone, seconds=True)
    stamp, _, offset = text.rpartition(" ")
    if len(stamp) != 19 or offset[:1] not in "+-" or len(offset) != 6:
        return text, ""
    return stamp, f"UTC{offset}"


SNAPSHOT_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:[0-5]\d(\.\d+)?Z")
"""The snapshot's fixed instant format (docs/CONTRACTS.md), ``2026-10-05T14:03:00.000Z``."""


class LocalClock:
    """:func:`local_parts` for a whole column: one zone conversion per distinct minute.

    A large month's evidence holds hundreds of thousands of instants, and converting each
    through the time zone costs seconds. UTC offsets are whole minutes (in every zone
    since 1972), so every instant of one UTC minute has the same local minute; the seconds
    are copied across. Text not in the snapshot's format goes through :func:`local_parts`
    itself.
    """

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._minutes: dict[str, tuple[str, str] | None] = {}

    def __call__(self, instant: str | None) -> tuple[str, str] | None:
        if not instant or not SNAPSHOT_INSTANT.fullmatch(instant):
            return local_parts(instant, self.timezone)
        minute = instant[:16]
        if minute not in self._minutes:
            self._minutes[minute] = local_parts(f"{minute}:00Z", self.timezone)
        parts = self._minutes[minute]
        if parts is None or not parts[1]:
            return local_parts(instant, self.timezone)
        return f"{parts[0][:-2]}{instant[17:19]}", parts[1]
