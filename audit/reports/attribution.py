"""Whose fault a late first touch was, in words, for every report that shows evidence.

Speed to lead attributes each late first touch to ``routing``, the ``rep`` or ``both``
(docs/SEMANTICS.md Part II, Routing and time off): the violation's ``attributed_to``, and
counts in the rule's ``details`` per rep and per team. The reports show the violation's
word in an "Attributed to" column — only when some violation carries one, as the Tier
column appears only with tiers — and the counts as one short phrase ("late touches: 5
routing, 3 rep, 1 both"). Other rules' violations leave the cell empty: attribution is a
speed-to-lead verdict, not a guess about the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from audit.result import AuditResult, Violation

HEADER = "Attributed to"
"""The column's header in the CSV and workbook; lower case in the terminal and the page."""
FAULTS = ("routing", "rep", "both")
"""The words ``attributed_to`` holds, in the order the counts are written."""
RULE_ID = "speed_to_lead"


def any_attributed(violations: Iterable[Violation]) -> bool:
    """Whether the evidence needs an "Attributed to" column at all."""
    return any(v.attributed_to for v in violations)


def counts_words(counts: object) -> str:
    """``5 routing, 3 rep, 1 both`` (zero counts left out); "" for none."""
    if not isinstance(counts, Mapping):
        return ""
    return ", ".join(f"{int(counts[f])} {f}" for f in FAULTS if counts.get(f))


def late_words(counts: object) -> str:
    """``late touches: 5 routing, 3 rep, 1 both``; "" when there were none."""
    text = counts_words(counts)
    return f"late touches: {text}" if text else ""


def _details(result: AuditResult) -> Mapping[str, Any]:
    rule = next((r for r in result.rules if r.id == RULE_ID), None)
    return rule.details if rule is not None else {}


def late_by(result: AuditResult, key: str, *, lead: bool = True) -> dict[str, str]:
    """Rep (``key="attribution_by_rep"``) or team (``"attribution_by_team"``) → words;
    ``lead=False`` leaves out "late touches:" (for a list that says it once)."""
    by = _details(result).get(key) or {}
    if not isinstance(by, Mapping):
        return {}
    say = late_words if lead else counts_words
    return {name: text for name, counts in by.items() if (text := say(counts))}


def late_overall(result: AuditResult) -> str:
    """The period's counts in words, for speed to lead's rule card; "" without any."""
    return late_words(_details(result).get("attribution"))
