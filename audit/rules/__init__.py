"""The seven SLA rules, in report order: each module exports one :class:`Rule` as ``RULE``.

The engine evaluates ``RULES`` in this order; the reports find a rule's title, unit and
sentence here by id (a result from a later version may name a rule this one does not
know: the lookups say so with ``None`` or the default unit, and each report words that
its own way). The order is the SLA file's rule order, ``config.sla.RULE_IDS``.
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
from audit.rules.rule import Rule, Unit

__all__ = ["RULES", "RULES_BY_ID", "RULE_TITLES", "Rule", "Unit", "rep_unit", "rule_unit"]

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


def rule_unit(rule_id: str) -> Unit:
    """The unit of a rule's ``measured`` and ``target`` (a share for an unknown rule)."""
    rule = RULES_BY_ID.get(rule_id)
    return rule.unit if rule is not None else "share"


def rep_unit(rule_id: str) -> Unit:
    """The unit of a rep's ``measured`` for that rule (a share for an unknown rule)."""
    rule = RULES_BY_ID.get(rule_id)
    return rule.rep_unit if rule is not None else "share"
