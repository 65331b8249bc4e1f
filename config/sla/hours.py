"""``business_hours``: weekday keys (``mon-fri``, ``sun-thu``) and opening intervals per day.

Read twice: once by the model's validator, to report every bad key at its own path, and
again by :meth:`SLA.opening_hours`, for the audit's business calendar.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from datetime import time
from typing import Any

from config.sla.wording import as_written, join_words

END_OF_DAY: time = time.max
"""What ``24:00`` in ``business_hours`` becomes: the close of a day open until midnight.

``datetime.time`` cannot hold 24:00, and ``00:00`` as an end would read as "before the
start". ``audit.business_time.END_OF_DAY`` is agreed to be this same value; it is defined
here too so that loading an SLA file does not import the audit engine.
"""

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_HOURS_EXAMPLE = '"09:00-18:00" or "09:00-12:00,13:00-18:00"'

Hours = dict[int, list[tuple[time, time]]]


def _day(name: str) -> int:
    key = name.strip().lower()
    if key in DAYS:
        return DAYS.index(key)
    if key in _DAY_NAMES:
        return _DAY_NAMES.index(key)
    names = DAYS + _DAY_NAMES
    close = difflib.get_close_matches(key, names, n=1)
    fix = f"use {join_words(list(DAYS), 'or')}"
    if close:
        fix = f"did you mean {DAYS[names.index(close[0]) % 7]}? {fix.capitalize()}"
    raise ValueError(f'"{name.strip()}" is not a day; {fix}')


def _days(key: str) -> list[int]:
    """Weekdays (0 = Monday) named by ``mon-fri``, ``sat``, ``mon,wed,fri`` or ``sun-thu``.

    A range runs forward through the week and wraps past Sunday, so ``sun-thu`` is the
    Sunday-to-Thursday week of many Middle-East teams, not an error.
    """
    days: list[int] = []
    for part in key.split(","):
        first, dash, last = part.partition("-")
        if not dash:
            named = [_day(part)]
        else:
            start, end = _day(first), _day(last)
            named = [(start + step) % 7 for step in range((end - start) % 7 + 1)]
        for day in named:
            if day in days:
                raise ValueError(f"{DAYS[day]} is named twice in {key}; name each day once")
            days.append(day)
    return days


def _clock(hours: str, minutes: str, text: str, *, end: bool) -> time:
    hour, minute = int(hours), int(minutes)
    if hour == 24 and minute == 0:
        if not end:
            raise ValueError(f'"{text}" starts at 24:00; 24:00 can only end an interval')
        return END_OF_DAY
    if hour > 23 or minute > 59:
        raise ValueError(f'"{text}" has a time that is not between 00:00 and 24:00')
    return time(hour, minute)


def _intervals(spec: str) -> list[tuple[time, time]]:
    """Open intervals of one day, in order and apart; raises ValueError with the fix."""
    if not spec.strip():
        raise ValueError(
            f"has no hours; give hours such as {_HOURS_EXAMPLE}, or leave the day out to close it"
        )
    intervals: list[tuple[time, time]] = []
    texts: list[str] = []
    for piece in (part.strip() for part in spec.split(",")):
        match = _INTERVAL.fullmatch(piece)
        if match is None:
            raise ValueError(f'"{piece}" is not opening hours such as {_HOURS_EXAMPLE}')
        start = _clock(match.group(1), match.group(2), piece, end=False)
        end = _clock(match.group(3), match.group(4), piece, end=True)
        if end <= start:
            when = "when" if end == start else "before"
            raise ValueError(
                f'"{piece}" ends {when} it starts; hours run within one day, '
                "so split a night shift at 24:00"
            )
        if intervals:
            previous_start, previous_end = intervals[-1]
            if start < previous_start:
                raise ValueError(
                    f'"{piece}" comes before "{texts[-1]}"; list intervals in order of the '
                    'day, such as "09:00-12:00,13:00-18:00"'
                )
            if start < previous_end:
                raise ValueError(
                    f'"{texts[-1]}" and "{piece}" overlap; list each stretch of time once'
                )
        intervals.append((start, end))
        texts.append(piece)
    return intervals


def read_hours(spec: Mapping[Any, Any]) -> tuple[Hours, list[tuple[tuple[str], str]]]:
    """Opening hours per weekday from ``business_hours``, and the problems, per key."""
    hours: Hours = {day: [] for day in range(7)}
    owner: dict[int, str] = {}
    problems: list[tuple[tuple[str], str]] = []
    for raw_key, value in spec.items():
        key = str(raw_key)
        try:
            days = _days(key)
            if not isinstance(value, str):
                raise ValueError(
                    f"{as_written(value)} is not opening hours; write them in one quoted string, "
                    f"such as {_HOURS_EXAMPLE}"
                )
            intervals = _intervals(value)
            taken = [day for day in days if day in owner]
            if taken:
                names = ", ".join(DAYS[day] for day in taken)
                first = owner[taken[0]]
                verb = "is" if len(taken) == 1 else "are"
                raise ValueError(f"{names} {verb} already given by {first}; give each day once")
        except ValueError as problem:
            problems.append(((key,), str(problem)))
            continue
        for day in days:
            owner[day] = key
            hours[day] = list(intervals)
    return hours, problems
