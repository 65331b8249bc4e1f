"""Durations as a RevOps lead writes them in the SLA file: ``30s``, ``5m``, ``4h``, ``14d``.

Why a grammar of our own rather than pydantic's timedelta parsing: pydantic reads a bare
``5`` as five *seconds*, and a first-touch deadline silently read in the wrong unit would
change every speed-to-lead figure while looking valid. So a duration is always a whole
number and an explicit unit, and anything else is refused with the spelling that would
have worked (``"2 weeks"`` -> ``14d``, ``"1.5h"`` -> ``90m``).
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS: dict[str, int] = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
"""Seconds per unit, largest first (the order :func:`duration_code` relies on)."""

_UNIT_NAMES = {"d": "day", "h": "hour", "m": "minute", "s": "second"}

_DURATION = re.compile(r"(\d+)\s*([smhd])")

# Spellings people try that we do not accept but can translate into the fix.
_ALIASES: dict[str, int] = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3_600,
    "hr": 3_600,
    "hrs": 3_600,
    "hour": 3_600,
    "hours": 3_600,
    "d": 86_400,
    "day": 86_400,
    "days": 86_400,
    "w": 604_800,
    "wk": 604_800,
    "week": 604_800,
    "weeks": 604_800,
}
_LOOSE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Read ``"30s"``, ``"5m"``, ``"4h"`` or ``"14d"`` into a positive :class:`timedelta`.

    Raises :class:`ValueError` whose message is a user-facing sentence (without the YAML
    path, which the caller knows). A :class:`timedelta` passes through so models can be
    built in Python as well as from YAML; it must still be positive.
    """
    if isinstance(text, timedelta):
        if text <= timedelta(0):
            raise ValueError(f"{duration_code(text)} must be longer than zero")
        return text
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError(f"{text!r} is not a duration such as 14d")
    if isinstance(text, (int, float)):
        amount = f"{text:g}"
        raise ValueError(
            f"{amount} is not a duration such as 14d; add its unit: "
            f"{amount}s, {amount}m, {amount}h or {amount}d"
        )
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        hint = _suggest(text)
        suffix = f"; write it as {hint}" if hint else ""
        raise ValueError(f'"{text}" is not a duration such as 14d{suffix}')
    amount, unit = int(match.group(1)), match.group(2)
    if amount == 0:
        raise ValueError(f'"{text}" must be longer than zero')
    return timedelta(seconds=amount * UNITS[unit])


def _suggest(text: str) -> str | None:
    """The accepted spelling of a near miss such as ``2 weeks`` or ``1.5h``, if there is one."""
    match = _LOOSE.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in _ALIASES:
        return None
    seconds = float(match.group(1)) * _ALIASES[match.group(2)]
    if seconds <= 0 or not seconds.is_integer():
        return None
    return duration_code(timedelta(seconds=int(seconds)))


def duration_code(value: timedelta) -> str:
    """The SLA-file spelling of ``value`` in its largest exact unit: 14 days -> ``14d``."""
    if value % timedelta(seconds=1):
        return f"{value.total_seconds():g}s"  # sub-second: only reachable from Python, not YAML
    seconds = int(value.total_seconds())
    unit, size = next((u, n) for u, n in UNITS.items() if seconds % n == 0)
    return f"{seconds // size}{unit}"


def duration_words(value: timedelta) -> str:
    """``value`` in words for summaries: ``14 days``, ``4 hours``, ``1 minute``."""
    code = duration_code(value)
    amount, name = code[:-1], _UNIT_NAMES[code[-1]]
    return f"{amount} {name}" if amount == "1" else f"{amount} {name}s"
