"""Turning result values into text for people (the table report).

Only presentation happens here: rounding for display, units, "—" for a missing value.
The CSV and JSON reports never use these helpers, because they must keep numbers exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size

from audit.wording import MISSING, clean, human_duration, share

if TYPE_CHECKING:
    from audit.rules.rule import Unit

# ``MISSING``, ``clean`` and ``share`` live in audit.wording (the rules' sentences use them
# too); the reports reach them here, beside the helpers that are the table's alone.
__all__ = [
    "MISSING",
    "STATUS_STYLES",
    "clean",
    "count",
    "detail",
    "details",
    "measure",
    "scalar",
    "share",
    "status_word",
]

STATUS_STYLES: dict[str, str] = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "n/a": "dim",
    "no_data": "dim",
}

STATUS_WORDS: dict[str, str] = {"no_data": "no data"}


def status_word(status: str) -> str:
    """A status as a reader says it: ``no_data`` → "no data" (never styled as a failure)."""
    return STATUS_WORDS.get(status, clean(status))


def count(value: float | None) -> str:
    """A count as an integer; a fractional one (a derived target) keeps one decimal.

    Showing a derived target of 583.3 as "583" would make a measured 583 look met.
    """
    if value is None:
        return MISSING
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def measure(value: float | None, unit: Unit) -> str:
    """A measured or target value in its unit."""
    return count(value) if unit == "count" else share(value)


def scalar(value: Any) -> str:
    """A detail value of unknown unit: short, but never misleading."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        # Two decimals at most for people (a mean of 3.93301 attempts reads 3.93); the
        # JSON report keeps every digit.
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(scalar(v) for v in value)
    return clean(value)


def detail(key: str, value: Any) -> str:
    """One detail as words: ``median_minutes=4.0`` → "median 4 min (business)".

    Suffixes name the unit: ``_minutes`` (business minutes, as a human duration) and
    ``share`` / ``_share`` (fraction 0–1); nested maps (a split by segment) become
    "key: a …, b …".
    """
    if isinstance(value, Mapping):
        inner = ", ".join(detail(str(k), v) for k, v in value.items()) or MISSING
        return f"{_words(key)}: {inner}"
    if key.endswith("_minutes") and (value is None or isinstance(value, int | float)):
        label = _words(key.removesuffix("_minutes"))
        return f"{label} {human_duration(value, business=True)}"
    if key == "share" or key.endswith("_share"):
        return f"{_words(key.removesuffix('_share'))} {share(value)}"
    return f"{_words(key)} {scalar(value)}"


def details(values: Mapping[str, Any], *, limit: int | None = None) -> str:
    """A rule's details on one line: "median 4 min (business), p90 31 min (business)".

    ``limit`` (terminal cells) cuts the line with "…": a split by segment and lead source
    can run to hundreds of characters, and the CSV and JSON reports carry it whole.
    """
    text = ", ".join(detail(str(k), v) for k, v in values.items())
    if limit is None or cell_len(text) <= limit:
        return text
    return set_cell_size(text, limit - 1) + "…"


def _words(key: str) -> str:
    return clean(key.replace("_", " ").strip())
