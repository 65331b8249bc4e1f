"""Each rule card's compact split tables: by segment, by lead source, by tier.

Already in words (the template only lays them out): a group's figure in the rule's unit,
how many were judged, and its status — "no data" for a group with nothing judged, never
0 %. Groups come largest first; a card shows the first :data:`SHOWN` of each split and
says how many more there are (all of them are in ``splits.csv`` and the JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.reports import charts, display, words
from audit.reports.split_sheet import SPLIT_WORDS
from audit.result import SPLIT_KEYS, RuleResult

SHOWN = 8
"""Groups a card lists per split; a portal may have hundreds of segments."""


@dataclass
class SplitGroupView:
    name: str
    measured: str
    judged: int
    status: str
    css: str


@dataclass
class SplitTable:
    title: str
    rows: list[SplitGroupView] = field(default_factory=list)
    more: int = 0


def split_tables(rule: RuleResult) -> list[SplitTable]:
    """The rule's splits that have groups, in the contract's order."""
    tables = []
    for key in SPLIT_KEYS:
        groups = rule.splits.get(key) or {}
        if not groups:
            continue
        rows = [
            SplitGroupView(
                name=name,
                measured=words.figure(group["measured"], rule.id)
                if group["judged"]
                else display.status_word("no_data"),
                judged=group["judged"],
                status=display.status_word(group["status"] if group["judged"] else "no_data"),
                css=charts.status_class(group["status"] if group["judged"] else "no_data"),
            )
            for name, group in list(groups.items())[:SHOWN]
        ]
        tables.append(SplitTable(SPLIT_WORDS[key], rows, max(0, len(groups) - SHOWN)))
    return tables
