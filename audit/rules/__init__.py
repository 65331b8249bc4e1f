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
    speed_to_lead,
)
from audit.rules.rule import Rule

__all__ = ["RULES", "RULES_BY_ID", "RULE_TITLES", "Rule"]

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
