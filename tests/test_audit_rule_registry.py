"""The rule registry: one self-describing Rule per module, in the SLA file's rule order."""

from __future__ import annotations

import dataclasses

import pytest

from audit.reports.rule_facts import rep_unit, rule_unit
from audit.result import RuleResult
from audit.rules import RULE_TITLES, RULES, RULES_BY_ID
from audit.rules.rule import Rule
from config.sla import RULE_IDS


def test_registry_lists_every_sla_rule_once_in_the_sla_files_order() -> None:
    assert tuple(rule.id for rule in RULES) == RULE_IDS
    assert list(RULES_BY_ID) == list(RULE_IDS)
    assert RULE_TITLES["conversion"] == "MQL→SQL conversion"


def test_a_rule_is_a_frozen_value() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES[0].title = "changed"  # type: ignore[misc]
    assert all(isinstance(rule, Rule) for rule in RULES)


def test_only_the_marketing_counts_are_counts() -> None:
    # mql_volume counts handoffs; mql_per_rep is a share of reps, each rep's figure a count.
    assert {r.id for r in RULES if r.unit == "count"} == {"mql_volume"}
    assert {r.id for r in RULES if r.rep_unit == "count"} == {"mql_volume", "mql_per_rep"}
    assert rule_unit("a_rule_from_a_later_version") == "share"
    assert rep_unit("a_rule_from_a_later_version") == "share"


def test_each_rule_words_its_own_figure() -> None:
    # 8 of 10 judged handoffs were worked: 0.8 × 10 = 8 compliant.
    result = RuleResult("coverage", "pass", 0.8, 0.75, 10, 0, {"window": "3d"})
    sentence = RULES_BY_ID["coverage"].sentence(result, result.details, "")
    assert sentence == (
        "8 of 10 judged handoffs had at least one attempt within the 3d window (target 75.0%)."
    )
