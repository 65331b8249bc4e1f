"""Instants as int64 UTC epoch nanoseconds: how the audit holds a moment in a column.

Every instant the rules compare (a handoff, an attempt, a deadline) is one int64 in a
numpy column, so a million of them compare in C. A missing instant is :data:`NAT`, the
int64 minimum, which is also what a pandas ``datetime64[ns]`` column holds for ``NaT``:
reading text with :func:`to_ns` gives it for a missing value, every "first event after"
gives it where there is none, and :func:`ns_text` turns it back into ``None``. This module
is the one place that value is defined.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

import numpy as np
import pandas as pd

from snapshot.instants import EPOCH, format_instant

NAT: int = int(np.iinfo(np.int64).min)
"""The int64 value of ``NaT``: the event did not happen (by as-of), or the text was missing."""

NS_PER_S = 1_000_000_000

ArrayOrSeries = TypeVar("ArrayOrSeries", np.ndarray, pd.Series)


def to_ns(series: pd.Series) -> np.ndarray:
    """Snapshot instant text → int64 UTC epoch nanoseconds (missing → :data:`NAT`)."""
    parsed = pd.to_datetime(series, utc=True, format="ISO8601", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)


def ns_text(values: np.ndarray | int) -> list[str | None] | str | None:
    """int64 ns → snapshot instant text (None for NaT).

    Arrays are formatted by numpy in one pass (a million instants in well under a
    second; ``format_instant`` one by one takes seconds). Both truncate to the
    millisecond toward the past, and every int64 nanosecond instant lies in the years
    1677–2262, which both write with four digits: the text is the same character for
    character.
    """
    if isinstance(values, int | np.integer):
        if values == NAT:
            return None
        return format_instant(EPOCH + timedelta(microseconds=int(values) // 1000))
    ns = np.asarray(values, dtype=np.int64)
    present = ns != NAT
    ms = (np.where(present, ns, 0) // 1_000_000).astype("datetime64[ms]")
    text = np.datetime_as_string(ms, unit="ms").tolist()
    return [f"{stamp}Z" if ok else None for stamp, ok in zip(text, present.tolist(), strict=True)]


def duration_ns(value: timedelta) -> int:
    """A timedelta as int64 nanoseconds."""
    return int(value.total_seconds() * NS_PER_S)


def not_nat(values: ArrayOrSeries) -> ArrayOrSeries:
    """Whether each instant happened (is not :data:`NAT`), as an array or a Series like
    ``values``."""
    return values != NAT


def earliest(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Elementwise earliest of two NaT-able int64 ns arrays (NaT only where both are)."""
    big = np.iinfo(np.int64).max
    first_or_big = np.where(first == NAT, big, first)
    second_or_big = np.where(second == NAT, big, second)
    out = np.minimum(first_or_big, second_or_big)
    return np.where(out == big, NAT, out)


def local_texts(values: np.ndarray, timezone: str) -> list[str | None]:
    """int64 ns → wall time in ``timezone`` with its offset, ``2026-10-02 15:00 +02:00``.

    The same words as :func:`audit.wording.local_instant`, for a whole column at once: the
    zone's offsets come from one pandas conversion and the text from numpy, so the reasons
    of a hundred thousand violations are worded in a fraction of a second (None for NaT).
    """
    ns = np.asarray(values, dtype=np.int64)
    present = ns != NAT
    utc = pd.DatetimeIndex(np.where(present, ns, 0).astype("datetime64[ns]"), tz="UTC")
    wall = utc.tz_convert(timezone).tz_localize(None).asi8
    offset_min = (wall - utc.asi8) // (60 * NS_PER_S)
    stamps = np.datetime_as_string(
        wall.view("datetime64[ns]").astype("datetime64[m]"), unit="m"
    ).tolist()
    offsets = {int(m): _offset_text(int(m)) for m in np.unique(offset_min)}
    return [
        f"{stamp.replace('T', ' ')} {offsets[minutes]}" if ok else None
        for stamp, minutes, ok in zip(stamps, offset_min.tolist(), present.tolist(), strict=True)
    ]


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"
