"""What a rule is: one self-describing object per SLA rule (STYLE.md: soda-core checks).

Each rule module exports one :class:`Rule`; :mod:`audit.rules` lists them in report order.
The engine calls ``evaluate``; the reports read ``title``, ``unit``, ``rep_unit`` and
``sentence`` from the same object instead of keeping a dict per fact, so adding a rule is
one module and one line in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from audit.context import AuditContext
from audit.result import RuleResult

Unit = Literal["count", "share"]
"""Whether a rule's numbers are counts or shares — the one fact a formatter cannot infer.

The result model carries bare floats; docs/SEMANTICS.md §5 says which are counts. A share is
a fraction 0–1 (shown as "82.0%" in tables); a count is a number of handoffs (shown "540").
``mql_volume`` counts handoffs for the rule and for each rep; ``mql_per_rep`` measures the
share of reps within the per-rep range, but each rep's own figure is that rep's handoff
count; every other rule is a share, for the rule and for each rep.
"""

Evaluate = Callable[[AuditContext], RuleResult]
"""The rule itself: a pure function of the audit context to its result."""

Sentence = Callable[[RuleResult, Mapping[str, Any], str], str]
"""The rule's figure in words, from its result, its details and the as-of in local time.

Only called when there is a figure to word (see :func:`audit.reports.words.rule_sentence`,
which adds the pending handoffs); every detail key is optional, and a sentence simply
leaves out what it does not have.
"""


@dataclass(frozen=True)
class Rule:
    """One SLA rule: how it is judged and how the reports name and word it."""

    id: str
    """The rule id of the SLA file and the JSON contract (``speed_to_lead``)."""
    title: str
    """How people call it in a table or on the page ("Speed to lead")."""
    evaluate: Evaluate
    sentence: Sentence
    unit: Unit = "share"
    """The unit of the rule's ``measured`` and ``target`` (most rules judge a share)."""
    rep_unit: Unit = "share"
    """The unit of each rep's ``measured`` for this rule."""
    counts_violations: bool = True
    """Whether falling short is a rep's broken promise, with evidence rows and per-rep
    violation counts (conversion's is an outcome: it has none, and reports show none)."""
