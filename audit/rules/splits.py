"""Every rule's figures split by segment, by lead source and by tier (docs/SEMANTICS.md §8).

A group row has the same shape for every rule: ``handoffs`` (the group's handoffs in the
period), ``judged``, ``met`` (judged and compliant), ``pending``, ``measured`` (met /
judged, None when nothing is judged: "no data", never 0), ``target`` and ``status``.
A group's target is the average of its judged handoffs' targets: the rule's own target
unless a tier sets another, and exactly the tier's target in ``by_tier``. Groups come
largest first (then by name), the order the reports show them in.

The volume rules (``mql_volume``, ``mql_per_rep``) count handoffs rather than judge them:
their group rows hold the handoff count as ``judged`` and ``measured``, with no target
(the volume targets are for the whole team's month, not for a segment).

Counting is one ``factorize`` and a few ``bincount`` per split: no loop over handoffs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.status import judge
from audit.tiers import SPLITS

Group = dict[str, Any]
Splits = dict[str, dict[str, Group]]

TARGET_DIGITS = 12
"""An average of equal targets (0.9, 0.9, …) is rounded back to the target itself."""


def rule_targets(
    target: float | None, targets: np.ndarray | None, judged: np.ndarray, *, tiered: bool
) -> tuple[float | None, np.ndarray | None]:
    """The rule's headline target and each handoff's (None: the rule has no target).

    Under tiers the headline is the judged handoffs' average target; without, the SLA's.
    """
    if target is None:
        return None, None
    if targets is None:
        targets = np.full(len(judged), target, dtype=np.float64)
    if tiered and judged.any():
        target = round(float(targets[judged].mean()), TARGET_DIGITS)
    return target, targets


def handoff_splits(
    ctx: AuditContext,
    judged: np.ndarray,
    compliant: np.ndarray,
    pending: np.ndarray,
    eligible: np.ndarray,
    targets: np.ndarray | None,
    warn_margin: float,
) -> Splits:
    """Each split's group rows for a rule judged handoff by handoff (see the module)."""
    out: Splits = {}
    for key, column in _columns(ctx).items():
        codes, names = pd.factorize(ctx.facts[column].to_numpy(dtype=object))
        size = len(names)

        def count(mask: np.ndarray, codes: np.ndarray = codes, size: int = size) -> np.ndarray:
            return np.bincount(codes[mask], minlength=size)

        n_judged = count(judged)
        met = count(compliant & judged)
        group_targets = _group_targets(codes, size, judged, n_judged, targets)
        groups = {}
        for name, handoffs, judged_n, met_n, pending_n, target in zip(
            names.tolist(),
            count(eligible).tolist(),
            n_judged.tolist(),
            met.tolist(),
            count(pending).tolist(),
            group_targets,
            strict=True,
        ):
            measured = met_n / judged_n if judged_n else None
            groups[str(name)] = {
                "handoffs": handoffs,
                "judged": judged_n,
                "met": met_n,
                "pending": pending_n,
                "measured": measured,
                "target": target,
                "status": judge(measured, target, warn_margin),
            }
        out[key] = _largest_first(groups)
    return out


def _group_targets(
    codes: np.ndarray,
    size: int,
    judged: np.ndarray,
    n_judged: np.ndarray,
    targets: np.ndarray | None,
) -> list[float | None]:
    """Each group's average target over its judged handoffs (over all of them when none
    is judged yet, for the record)."""
    if targets is None:
        return [None] * size
    judged_sum = np.bincount(codes[judged], weights=targets[judged], minlength=size)
    all_sum = np.bincount(codes, weights=targets, minlength=size)
    everyone = np.bincount(codes, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_judged > 0, judged_sum / n_judged, all_sum / everyone)
    return [round(float(value), TARGET_DIGITS) for value in mean.tolist()]


def count_splits(ctx: AuditContext) -> Splits:
    """Each split's group rows for a volume rule: the group's handoff count."""
    out: Splits = {}
    for key, column in _columns(ctx).items():
        counts = ctx.facts[column].value_counts()
        groups = {
            str(name): {
                "handoffs": int(n),
                "judged": int(n),
                "met": None,
                "pending": 0,
                "measured": float(n),
                "target": None,
                "status": "n/a",
            }
            for name, n in counts.items()
        }
        out[key] = _largest_first(groups)
    return out


def _columns(ctx: AuditContext) -> dict[str, str]:
    """The splits this audit makes: by tier only when the SLA has tiers."""
    return {key: column for key, column in SPLITS.items() if key != "by_tier" or ctx.sla.tiers}


def _largest_first(groups: dict[str, Group]) -> dict[str, Group]:
    return dict(sorted(groups.items(), key=lambda item: (-item[1]["handoffs"], item[0])))
