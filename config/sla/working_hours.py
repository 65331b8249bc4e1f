"""Working hours of a team or a rep: their own time zone, opening hours and holidays.

A team in São Paulo and one in Lisbon keep different clocks: ``teams.<name>`` and
``rep_hours.<email>`` may each give ``timezone``, ``business_hours`` and ``holidays``, and
every key given overrides the SLA's own (a rep's over their team's), key by key, so a
Lisbon team that writes only ``timezone: Europe/Lisbon`` keeps the SLA's opening hours,
read on Lisbon's clock. Nothing given: the SLA's hours, exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

from config.sla.holidays import Holidays
from config.sla.hours import read_hours
from config.sla.wording import Problems, as_written, close_zone


def checked_zone(name: str) -> str:
    """An IANA zone name, or a ValueError with a "did you mean"."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    else:
        return name
    close = close_zone(name)
    fix = f"did you mean {close}?" if close else "use an IANA name such as America/Sao_Paulo"
    raise ValueError(f'"{name}" is not an IANA time zone; {fix}')


def checked_hours(value: object) -> object:
    """``business_hours`` lines, or a ValueError naming the bad day (None passes: 24×7)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(
            f'{as_written(value)} is not days and hours; write lines such as mon-fri: "09:00-18:00"'
        )
    if not value:
        raise ValueError(
            "has no days, so the team would never be open; give lines such as mon-fri: "
            '"09:00-18:00", or remove the key for 24×7'
        )
    _, problems = read_hours(value)
    if problems:
        raise Problems(list(problems))
    return value


class WorkingTime(BaseModel):
    """The clock of a team or rep; each key left out keeps the SLA's (or the team's)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = None
    business_hours: dict[str, str] | None = None
    holidays: Holidays | None = None

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, name: str | None) -> str | None:
        return None if name is None else checked_zone(name)

    @field_validator("business_hours", mode="before")
    @classmethod
    def _opening_hours(cls, value: object) -> object:
        return checked_hours(value)

    def overrides_any(self) -> bool:
        """Whether this block changes anything about the SLA's clock."""
        return any(v is not None for v in (self.timezone, self.business_hours, self.holidays))
