"""How an SLA problem is worded: the error, its ``<yaml.path>: <problem>`` lines, "did you mean".

Every module of the SLA model words its problems with these helpers, so a value is always
quoted the way the user wrote it and a path always reads like the YAML it points at.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from zoneinfo import available_timezones


class SLAError(Exception):
    """An SLA file that cannot be used, with every problem found, one line each.

    Each line of :attr:`problems` reads ``<yaml.path>: <what is wrong and the fix>``
    (file-level problems name the file instead). ``str()`` prefixes the file, so the
    command line can print it as it is.
    """

    def __init__(self, problems: list[str], source: str | Path | None = None) -> None:
        self.problems = list(problems)
        self.source = None if source is None else str(source)
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.source is None:
            return "\n".join(self.problems)
        return "\n".join(f"{self.source}: {line}" for line in self.problems)


class Problems(ValueError):
    """Problems found by one validator, each at a path below the value it validated.

    Pydantic places a validator's error at the validated value; a cross-field check
    (``derived`` without ``goals``) or a per-key check (``business_hours.sat``) needs the
    finer path, which :func:`problem_lines` appends.
    """

    def __init__(self, items: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.items = items
        super().__init__("; ".join(problem_line(loc, message) for loc, message in items))


def as_written(value: object) -> str:
    """A value as the user wrote it in YAML, for error messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a block of keys"
    return repr(value)


def close_zone(name: str) -> str | None:
    """The IANA zone a user probably meant (``Sao Paulo`` -> ``America/Sao_Paulo``)."""
    wanted = name.strip().replace(" ", "_").lower()
    zones = sorted(available_timezones())
    by_lower = {zone.lower(): zone for zone in zones}
    by_city = {zone.rsplit("/", 1)[-1].lower(): zone for zone in zones if "/" in zone}
    if wanted in by_lower:
        return by_lower[wanted]
    if wanted in by_city:
        return by_city[wanted]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.8)
    return by_lower[close[0]] if close else None


def unknown_name(noun: str, given: object, options: list[str]) -> str:
    text = str(given)
    close = difflib.get_close_matches(text.lower(), options, n=1)
    known = f"{noun}s are {join_words(options, 'and')}"
    return (
        f"unknown {noun}; did you mean {close[0]}? {known.capitalize()}"
        if close
        else (f"unknown {noun}; {known}")
    )


def join_words(items: list[str], word: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def dotted_path(loc: tuple[str | int, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def problem_line(loc: tuple[str | int, ...], message: str) -> str:
    path = dotted_path(loc)
    return f"{path}: {message}" if path else message
