"""The splits table of the CSV folder (``splits.csv``) and the workbook (sheet ``Splits``).

One row per rule, split and group — every rule by segment and by lead source, and by tier
when the SLA has tiers (docs/SEMANTICS.md §8) — in rule order, then split order, then the
group's size, largest first: the order the page shows them in. A group with nothing judged
reads "no data" with an empty figure, never a 0.
"""

from __future__ import annotations

from audit.reports import words
from audit.reports.rule_facts import rule_unit
from audit.reports.sheets import UNIT_WORDS, Column, Sheet, figure, status_words
from audit.result import SPLIT_KEYS, AuditResult

SPLIT_WORDS: dict[str, str] = {
    "by_segment": "Segment",
    "by_lead_source": "Lead source",
    "by_tier": "Tier",
}
"""How each split is named in a table (the JSON key is the contract's)."""

SPLIT_COLUMNS = [
    Column("Rule"),
    Column("Split by"),
    Column("Group"),
    Column("Status"),
    Column("Measured", "figure"),
    Column("Target", "figure"),
    Column("Unit"),
    Column("Handoffs", "integer"),
    Column("Judged", "integer"),
    Column("Met", "integer"),
    Column("Pending", "integer"),
    Column("Rule id"),
]


def splits_sheet(result: AuditResult) -> Sheet:
    """Every rule's groups, in the order described in the module docstring."""
    sheet = Sheet("splits", SPLIT_COLUMNS)
    for rule in result.rules:
        unit = rule_unit(rule.id)
        for key in SPLIT_KEYS:
            for name, group in rule.splits.get(key, {}).items():
                no_data = not group["judged"]
                sheet.rows.append(
                    (
                        words.rule_title(rule.id),
                        SPLIT_WORDS[key],
                        name,
                        status_words(group["status"], group["measured"], group["target"]),
                        figure(group["measured"], unit, no_data=no_data),
                        figure(group["target"], unit),
                        UNIT_WORDS[unit],
                        group["handoffs"],
                        group["judged"],
                        group["met"],
                        group["pending"],
                        rule.id,
                    )
                )
    return sheet
