"""Speed to lead's routing figures: the two clocks' medians and who made touches late.

Kept beside :mod:`audit.routing` so the rule module stays about its own verdict. Every
figure is additive JSON under the rule's ``details`` (docs/CONTRACTS.md):

* ``clock`` — ``handoff`` or ``assignment`` (whose clock the rule judged);
* ``routing_median_minutes`` / ``rep_response_median_minutes`` — business minutes, over
  the handoffs that were assigned (and, for the rep, touched);
* ``attribution`` — late first touches by whose fault: ``{"routing", "rep", "both"}``;
* ``attribution_by_rep`` and ``attribution_by_team`` — the same per rep and per SLA team
  (a rep in no team is left out of the team figure, ``unassigned`` is its own rep row).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.routing import BOTH, REP, ROUTING

FAULTS = (ROUTING, REP, BOTH)


def _median_minutes(seconds: np.ndarray) -> float | None:
    known = seconds[~np.isnan(seconds)]
    return float(np.median(known)) / 60.0 if known.size else None


def _counts(who: np.ndarray, faults: np.ndarray) -> dict[str, dict[str, int]]:
    """Late touches per group and fault, every fault present (zeros included)."""
    if not len(who):
        return {}
    table = pd.crosstab(pd.Series(who, name="who"), pd.Series(faults, name="fault"))
    table = table.reindex(columns=list(FAULTS), fill_value=0)
    return {
        str(name): {fault: int(count) for fault, count in row.items()}
        for name, row in table.iterrows()
    }


def routing_details(ctx: AuditContext, late: np.ndarray, faults: np.ndarray) -> dict[str, Any]:
    """The details above, for the handoffs speed to lead judged late (``late``), with each
    handoff's fault (:func:`audit.routing.attribution`)."""
    facts = ctx.facts
    faults = faults[late]
    reps = facts["rep"].to_numpy(dtype=object)[late]
    details: dict[str, Any] = {
        "clock": ctx.sla.sales.first_touch.clock,
        "routing_median_minutes": _median_minutes(facts["routing_s"].to_numpy()),
        "rep_response_median_minutes": _median_minutes(facts["rep_response_s"].to_numpy()),
        "attribution": {fault: int((faults == fault).sum()) for fault in FAULTS},
        "attribution_by_rep": _counts(reps, faults),
    }
    if ctx.sla.teams:
        team_of = {rep: ctx.sla.team_of(rep) or "" for rep in set(reps.tolist())}
        teams = pd.Series(reps, dtype=object).map(team_of).to_numpy(dtype=object)
        in_team = teams != ""
        details["attribution_by_team"] = _counts(teams[in_team], faults[in_team])
    return details
