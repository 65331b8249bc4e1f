"""The seven SLA rules, in report order: each module exports one :class:`Rule` as ``RULE``.

The engine evaluates ``RULES`` in this order; the reports find a rule's title, units and
sentence here by id (through :mod:`audit.reports.rule_facts`). The order is the SLA file's
rule order, ``config.sla.RULE_IDS``.
"""

from __future__ import annotations

from collections.abc import Mapping

from audit.rules import (
    attempts,
    conversion,
    coverage,
    mql_per_rep,
    mql_volume,
    recycling,
    routing,
    speed_to_lead,
)
from audit.rules.rule import Rule
from config.sla import SLA

__all__ = ["ALL_RULES_BY_ID", "RULES", "RULES_BY_ID", "RULE_TITLES", "Rule", "rules_for"]

RULES: tuple[Rule, ...] = (
    mql_volume.RULE,
    mql_per_rep.RULE,
    speed_to_lead.RULE,
    coverage.RULE,
    attempts.RULE,
    recycling.RULE,
    conversion.RULE,
)

RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}

RULE_TITLES: Mapping[str, str] = {rule.id: rule.title for rule in RULES}
"""Each rule's title by id (read from :data:`RULES`; kept for callers that want only names)."""

OPTIONAL_RULES: tuple[Rule, ...] = (routing.RULE,)
"""Rules an SLA opts into (``routing:``): with the key absent they are not run at all, so
an audit's rules, reports and figures stay exactly those of the seven above."""

ALL_RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in (*RULES, *OPTIONAL_RULES)}
"""Every rule this version knows, optional ones included (for the reports' titles)."""


def rules_for(sla: SLA) -> tuple[Rule, ...]:
    """The rules an audit of ``sla`` runs, in report order: routing right after speed to
    lead when the SLA has a ``routing`` block."""
    if sla.routing is None:
        return RULES
    at = RULES.index(speed_to_lead.RULE) + 1
    return (*RULES[:at], routing.RULE, *RULES[at:])
