"""Whether a rule's numbers are counts or shares — the one fact a formatter cannot infer.

The result model carries bare floats; SLA_SEMANTICS.md §5 says which are counts. A share is
a fraction 0–1 (shown as "82.0%" in tables); a count is a number of handoffs (shown "540").

- ``mql_volume``: measured and target are counts of handoffs in the period, and so is each
  rep's figure (that rep's handoffs).
- ``mql_per_rep``: measured and target are the share of reps within the per-rep range, but
  each rep's own figure is that rep's handoff count.
- every other rule: shares, for the rule and for each rep.
"""

from __future__ import annotations

from typing import Literal

Unit = Literal["count", "share"]

_RULE_COUNTS: frozenset[str] = frozenset({"mql_volume"})
_REP_COUNTS: frozenset[str] = frozenset({"mql_volume", "mql_per_rep"})


def rule_unit(rule_id: str) -> Unit:
    """The unit of a rule's ``measured`` and ``target``."""
    return "count" if rule_id in _RULE_COUNTS else "share"


def rep_unit(rule_id: str) -> Unit:
    """The unit of a rep's ``measured`` for that rule."""
    return "count" if rule_id in _REP_COUNTS else "share"
