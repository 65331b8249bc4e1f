"""Reps' time off: date ranges in the SLA file, or an iCalendar file or URL per rep.

```yaml
time_off:
  ana@acme.example: ["2026-10-05..2026-10-09", 2026-10-23]   # whole local days, inclusive
  bruno@acme.example: {ics: calendars/bruno.ics}              # a file (relative to the
  carla@acme.example: {ics: "https://cal.example/carla.ics"}  # current directory) or a URL
```

A range is two local dates joined by ``..`` (or ``/``, as ISO 8601 writes intervals), both
included, read on the rep's own clock (docs/SEMANTICS.md, Routing and time off). Ranges of
one rep that overlap, or that end before they start, are refused: either is a typo, and
guessing would move the rep's business time. The calendar file itself is read when the
audit runs (:mod:`audit.time_off`), since a URL may change between runs.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.sla.teams import email_address
from config.sla.wording import Problems, as_written

RANGE_MARKS = ("..", "/")
_RANGE_FIX = "write a day such as 2026-10-05 or a range such as 2026-10-05..2026-10-09"


def _day(text: str, whole: object) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{as_written(whole)} is not a date range; {_RANGE_FIX}") from None


def parse_range(value: object) -> tuple[date, date]:
    """``2026-10-05..2026-10-09`` (or ``/``), or one day → (first, last), both included."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, value
    if not isinstance(value, str):
        raise ValueError(f"{as_written(value)} is not a date range; {_RANGE_FIX}")
    for mark in RANGE_MARKS:
        if mark in value:
            first_text, _, last_text = value.partition(mark)
            first, last = _day(first_text, value), _day(last_text, value)
            if last < first:
                raise ValueError(
                    f"{as_written(value)} ends before it starts; write the earlier day first"
                )
            return first, last
    day = _day(value, value)
    return day, day


class RepTimeOff(BaseModel):
    """One rep's absences: listed ranges of whole days, and/or an iCalendar file or URL."""

    model_config = ConfigDict(extra="forbid")

    dates: list[tuple[date, date]] = Field(default_factory=list)
    ics: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _list_or_block(cls, value: object) -> object:
        """A bare list is the ranges alone; a bare text is a calendar file or URL."""
        if isinstance(value, list):
            return {"dates": value}
        if isinstance(value, str):
            return {"ics": value}
        return value

    @field_validator("dates", mode="before")
    @classmethod
    def _ranges(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        problems: list[tuple[tuple[str | int, ...], str]] = []
        ranges: list[tuple[date, date]] = []
        for index, item in enumerate(value):
            try:
                ranges.append(parse_range(item))
            except ValueError as problem:
                problems.append(((index,), str(problem)))
        problems += _overlaps(ranges)
        if problems:
            raise Problems(problems)
        return ranges

    @field_validator("ics")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("is empty; give a calendar file's path or an https:// URL")
        return None if value is None else value.strip()


def _overlaps(ranges: list[tuple[date, date]]) -> list[tuple[tuple[str | int, ...], str]]:
    """Each range that shares a day with an earlier one of the same rep."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for index, (first, last) in enumerate(ranges):
        for earlier, (other_first, other_last) in enumerate(ranges[:index]):
            if first <= other_last and other_first <= last:
                problems.append(
                    (
                        (index,),
                        f"{first}..{last} overlaps {other_first}..{other_last} (item "
                        f"{earlier}); merge them into one range",
                    )
                )
                break
    return problems


def checked_time_off(value: object) -> object:
    """Keys are reps' emails, lower-cased like every rep name; a bad one is named."""
    if not isinstance(value, dict):
        return value
    problems: list[tuple[tuple[str | int, ...], str]] = []
    keyed: dict[str, object] = {}
    for key, item in value.items():
        try:
            keyed[email_address(key)] = item
        except ValueError as problem:
            problems.append(((str(key),), str(problem)))
    if problems:
        raise Problems(problems)
    return keyed
