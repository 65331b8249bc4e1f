"""Each handoff's groups and its tier, and the thresholds its tier judges it by.

Computed once per audit, as whole columns of the facts (docs/SEMANTICS.md §8):

- ``split_segment`` and ``split_lead_source``: the lead's value in the fields the SLA's
  ``segments`` names, ``(none)`` where it has none — every rule's split reads these;
- ``split_tier``: the tier that judges the handoff (``base`` when no tier matches);
- per handoff, the threshold each rule compares with: ``first_touch_within_s``,
  ``attempts_min``, ``window_ns``, ``min_gap_ns``, ``grace_ns``, and ``target_<rule>``.

A tier is matched with one ``isin`` per key and tier, never a loop over handoffs: at a
million leads a month holds ~100,000 handoffs and a handful of tiers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from audit.instants_ns import duration_ns
from config.sla import BASE_TIER, NO_VALUE, SLA

SPLITS: dict[str, str] = {
    "by_segment": "split_segment",
    "by_lead_source": "split_lead_source",
    "by_tier": "split_tier",
}
"""Each split of a rule's figures (its JSON key) and the facts column it groups by."""

TARGET_RULES: dict[str, str] = {
    "speed_to_lead": "first_touch",
    "attempts": "attempts",
    "coverage": "coverage",
    "recycling": "recycle",
}
"""The rules whose target a tier can override, with the sales block that holds it."""


def group_values(values: pd.Series) -> np.ndarray:
    """A lead field as group names: text, with ``(none)`` for a missing or blank value."""
    series = values.astype(object)
    text = series.where(series.notna(), "").astype(str)
    blank = (text.str.strip() == "").to_numpy()
    return np.where(blank, NO_VALUE, text.to_numpy(dtype=object))


def tier_of_handoffs(facts: pd.DataFrame, sla: SLA) -> np.ndarray:
    """The tier name of each handoff: the first tier, in file order, whose ``when`` holds."""
    names = np.full(len(facts), BASE_TIER, dtype=object)
    free = np.ones(len(facts), dtype=bool)
    for tier in sla.tiers:
        match = free.copy()
        for key, values in tier.when.keys().items():
            field = sla.segments.field_for(key)
            match &= facts[field].isin(sorted(values)).to_numpy() if field else False
        names[match] = tier.name
        free &= ~match
    return names


def add_tier_columns(facts: pd.DataFrame, sla: SLA) -> None:
    """Add the split columns, the tier and every per-handoff threshold (see the module)."""
    facts["split_segment"] = group_values(facts[sla.segments.segment_field])
    facts["split_lead_source"] = group_values(facts[sla.segments.source_field])
    tiers = tier_of_handoffs(facts, sla)
    facts["split_tier"] = tiers
    order = [BASE_TIER, *(tier.name for tier in sla.tiers)]
    codes = pd.Categorical(tiers, categories=order).codes
    sales = [sla.sales, *(tier.sales(sla.sales) for tier in sla.tiers)]

    def per_handoff(values: list[float | int], dtype: type) -> np.ndarray:
        return np.asarray(values, dtype=dtype)[codes]

    facts["first_touch_within_s"] = per_handoff(
        [s.first_touch.within.total_seconds() for s in sales], np.float64
    )
    facts["attempts_min"] = per_handoff([s.attempts.min for s in sales], np.int64)
    facts["window_ns"] = per_handoff([duration_ns(s.attempts.window) for s in sales], np.int64)
    facts["min_gap_ns"] = per_handoff([duration_ns(s.attempts.min_gap) for s in sales], np.int64)
    facts["grace_ns"] = per_handoff([duration_ns(s.recycle.grace) for s in sales], np.int64)
    for rule_id, block in TARGET_RULES.items():
        facts[f"target_{rule_id}"] = per_handoff(
            [getattr(s, block).target for s in sales], np.float64
        )
