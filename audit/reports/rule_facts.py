"""What the reports know about a rule — title, units, sentence — read from the registry.

Every fact comes from the rule's own :class:`~audit.rules.rule.Rule` in
:mod:`audit.rules`. The registry is imported on first use rather than with this package:
it imports the rules themselves, and with them numpy and pandas, while the command line
imports the report package early (for :class:`ReportError`, on every user error) and would
otherwise load pandas just to print one line.

A result may name a rule this version does not know (written by a later version): then
there is no :class:`Rule`, the units default to a share, and each report words the title
its own way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from audit.rules.rule import Rule, Unit


def known_rule(rule_id: str) -> Rule | None:
    """The registry's rule with that id, or None for a rule this version does not know."""
    from audit.rules import ALL_RULES_BY_ID

    return ALL_RULES_BY_ID.get(rule_id)


def rule_title(rule_id: str) -> str | None:
    """The rule's title ("Speed to lead"), or None for an unknown rule."""
    rule = known_rule(rule_id)
    return rule.title if rule is not None else None


def rule_unit(rule_id: str) -> Unit:
    """The unit of a rule's ``measured`` and ``target`` (a share for an unknown rule)."""
    rule = known_rule(rule_id)
    return rule.unit if rule is not None else "share"


def rep_unit(rule_id: str) -> Unit:
    """The unit of a rep's ``measured`` for that rule (a share for an unknown rule)."""
    rule = known_rule(rule_id)
    return rule.rep_unit if rule is not None else "share"


def counts_violations(rule_id: str) -> bool:
    """Whether the rule counts violations per rep (True for an unknown rule)."""
    rule = known_rule(rule_id)
    return rule.counts_violations if rule is not None else True
