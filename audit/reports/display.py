"""Turning result values into text for people (the table report).

Only presentation happens here: rounding for display, units, "—" for a missing value.
The CSV and JSON reports never use these helpers, because they must keep numbers exact.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len, set_cell_size

from audit.reports.units import Unit

MISSING = "—"

STATUS_STYLES: dict[str, str] = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "n/a": "dim",
}

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean(value: object) -> str:
    """CRM text made safe for a terminal or a mail.

    Lead and company names come from the CRM, typed by anyone: an escape character would
    let a name recolour or erase the report, a newline would break its columns, and bidi
    overrides would reorder what a reader sees. Control characters become spaces and bidi
    controls are dropped; everything else (accents, emoji) is kept.
    """
    text = "" if value is None else str(value)
    return "".join(
        " " if unicodedata.category(ch) == "Cc" else ch for ch in text if ch not in _BIDI_CONTROLS
    )


def share(value: float | None) -> str:
    """A fraction 0–1 as a percentage with one decimal: 0.82 → "82.0%"."""
    return MISSING if value is None else f"{value * 100:.1f}%"


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
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(scalar(v) for v in value)
    return clean(value)


def detail(key: str, value: Any) -> str:
    """One detail as words: ``median_minutes=4.0`` → "median 4.0 min".

    Suffixes name the unit: ``_minutes`` (business minutes) and ``share`` / ``_share``
    (fraction 0–1); nested maps (a split by segment) become "key: a …, b …".
    """
    if isinstance(value, Mapping):
        inner = ", ".join(detail(str(k), v) for k, v in value.items()) or MISSING
        return f"{_words(key)}: {inner}"
    if key.endswith("_minutes"):
        label = _words(key.removesuffix("_minutes"))
        return f"{label} {MISSING if value is None else f'{value:.1f} min'}"
    if key == "share" or key.endswith("_share"):
        return f"{_words(key.removesuffix('_share'))} {share(value)}"
    return f"{_words(key)} {scalar(value)}"


def details(values: Mapping[str, Any], *, limit: int | None = None) -> str:
    """A rule's details on one line: "median 4.0 min, p90 31.0 min".

    ``limit`` (terminal cells) cuts the line with "…": a split by segment and lead source
    can run to hundreds of characters, and the CSV and JSON reports carry it whole.
    """
    text = ", ".join(detail(str(k), v) for k, v in values.items())
    if limit is None or cell_len(text) <= limit:
        return text
    return set_cell_size(text, limit - 1) + "…"


def _words(key: str) -> str:
    return clean(key.replace("_", " ").strip())
