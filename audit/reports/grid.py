"""The table report's building blocks: a cell, a titled grid, and the words every grid uses.

Plain data, drawn by :mod:`audit.reports.table` as rich tables on a terminal or as plain
text elsewhere; the sections of the report (rules, reps, teams, violations, speed →
outcome) each build their :class:`Grid` from these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.style import Style

from audit.reports import display
from audit.reports.rule_facts import rule_title


@dataclass(frozen=True)
class Cell:
    """Text and the rich style it gets on a terminal (ignored in plain text)."""

    text: str
    style: str | Style = ""


@dataclass
class Grid:
    """One titled table.

    ``numeric`` columns are right-aligned. On a terminal, ``nowrap`` columns (emails,
    instants, figures) never wrap: a wrapped email or instant is hard to read back, while
    titles and reasons wrap between words.
    """

    title: str
    headers: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    numeric: frozenset[int] = frozenset()
    nowrap: frozenset[int] = frozenset()
    empty: str = "none"
    footer: str | None = None


def status_cell(status: str) -> Cell:
    """A status word with its colour ("no data" dim, never red)."""
    return Cell(display.status_word(status), display.STATUS_STYLES.get(status, ""))


def title(rule_id: str) -> str:
    """A rule's human title, or its id for a rule this version does not know."""
    known = rule_title(rule_id)
    return known if known is not None else display.clean(rule_id)
