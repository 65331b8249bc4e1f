"""The value types of the SLA file: shares, amounts, counts, durations, holidays.

Each is a pydantic ``Annotated`` type whose validator refuses what would be misread: a bare
``90`` where a share belongs, ``true`` for a number, a date-time for a holiday. The message
says what was written and how to write it instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import BeforeValidator

from config.durations import parse_duration
from config.sla.wording import as_written

_SHARE_FIX = "write shares as fractions such as 0.9"


def _number(value: object, fix: str) -> float:
    """A real number from YAML (quoted digits included); bools and text are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{as_written(value)} is not a number; {fix}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{as_written(value)} is not a number; {fix}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{as_written(value)} is not a number; {fix}")
    return number


def _share(value: object) -> float:
    """A fraction in [0, 1]; ``90`` is refused rather than guessed to mean 90%."""
    number = _number(value, _SHARE_FIX)
    if number > 1:
        raise ValueError(f"{as_written(value)} is more than 1; {_SHARE_FIX}")
    if number < 0:
        raise ValueError(f"{as_written(value)} is negative; {_SHARE_FIX}")
    return number


def _positive_share(value: object) -> float:
    """A fraction in (0, 1]: the goals divide by it or would plan for nothing."""
    number = _share(value)
    if number == 0:
        raise ValueError("0 must be more than 0; write a fraction such as 0.05")
    return number


def _amount(value: object) -> float:
    """A positive money amount, written as plain digits."""
    number = _number(value, "write plain digits such as 1000000")
    if number <= 0:
        raise ValueError(f"{as_written(value)} must be more than 0")
    return number


def whole_number(value: object, minimum: int) -> int:
    """A whole number of at least ``minimum``; ``2.5`` and ``true`` are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{as_written(value)} is not a whole number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{as_written(value)} is not a whole number") from None
    if not number.is_integer():
        raise ValueError(f"{as_written(value)} is not a whole number")
    if number < minimum:
        raise ValueError(f"{as_written(value)} must be at least {minimum}")
    return int(number)


def _count(value: object) -> int:
    return whole_number(value, minimum=0)


def _at_least_one(value: object) -> int:
    return whole_number(value, minimum=1)


def _holiday(value: object) -> date:
    """A local calendar date; a date-time is refused because holidays are whole days."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{as_written(value)} is not a date such as 2026-10-12")


Share = Annotated[float, BeforeValidator(_share)]
PositiveShare = Annotated[float, BeforeValidator(_positive_share)]
Amount = Annotated[float, BeforeValidator(_amount)]
Count = Annotated[int, BeforeValidator(_count)]
AtLeastOne = Annotated[int, BeforeValidator(_at_least_one)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Holiday = Annotated[date, BeforeValidator(_holiday)]
