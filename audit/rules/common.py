"""What every per-handoff rule shares: judged/compliant/pending masks → a RuleResult.

A rule decides, per handoff, whether it is judged, compliant or still pending and why a
violation is one; this module turns those columns into the measured share, the per-rep
breakdown, the evidence rows and the pending list, the same way for every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext, ns_text
from audit.handoffs import UNASSIGNED
from audit.result import PendingHandoff, RepRow, RuleResult, Violation
from audit.status import judge, share


def rep_names(ctx: AuditContext) -> list[str]:
    """The period's reps, plus ``unassigned`` as its own row when a handoff has no owner."""
    names = list(ctx.reps)
    if (ctx.facts["rep"] == UNASSIGNED).any():
        names.append(UNASSIGNED)
    return names


def handoff_rule(
    ctx: AuditContext,
    rule_id: str,
    *,
    judged: np.ndarray,
    compliant: np.ndarray,
    reasons: pd.Series,
    target: float | None,
    decided_by: str,
    instants: Mapping[str, np.ndarray] | None = None,
    kinds: pd.Series | None = None,
    eligible: np.ndarray | None = None,
    details: dict[str, Any] | None = None,
) -> RuleResult:
    """Build the result of a rule judged handoff by handoff.

    ``eligible`` leaves handoffs out of the rule altogether (recycling skips connected
    ones); the rest are judged or pending. ``reasons`` is read only where a judged
    handoff is not compliant, and not at all when the context wants no evidence.
    """
    facts = ctx.facts
    eligible = np.ones(len(facts), dtype=bool) if eligible is None else eligible
    judged = judged & eligible
    compliant = compliant & judged
    pending = eligible & ~judged
    violating = judged & ~compliant
    measured = share(int(compliant.sum()), int(judged.sum()))
    return RuleResult(
        id=rule_id,
        status=judge(measured, target, ctx.sla.warn_margin(rule_id)),
        measured=measured,
        target=target,
        judged=int(judged.sum()),
        pending=int(pending.sum()),
        details=details or {},
        reps=_rep_rows(ctx, rule_id, judged, compliant, pending),
        violations=(
            _violations(ctx, rule_id, violating, reasons, instants or {}, kinds)
            if ctx.evidence
            else []
        ),
        pending_handoffs=_pending(ctx, rule_id, pending, decided_by) if ctx.evidence else [],
    )


def _rep_rows(
    ctx: AuditContext,
    rule_id: str,
    judged: np.ndarray,
    compliant: np.ndarray,
    pending: np.ndarray,
) -> list[RepRow]:
    frame = pd.DataFrame(
        {
            "rep": ctx.facts["rep"].to_numpy(),
            "judged": judged,
            "compliant": compliant,
            "pending": pending,
            "violating": judged & ~compliant,
        }
    )
    sums = frame.groupby("rep")[["judged", "compliant", "pending", "violating"]].sum()
    rows = []
    for rep in rep_names(ctx):
        got = sums.loc[rep] if rep in sums.index else None
        n_judged = int(got["judged"]) if got is not None else 0
        n_ok = int(got["compliant"]) if got is not None else 0
        rows.append(
            RepRow(
                rep=rep,
                rule=rule_id,
                measured=share(n_ok, n_judged),
                judged=n_judged,
                pending=int(got["pending"]) if got is not None else 0,
                violations=int(got["violating"]) if got is not None else 0,
            )
        )
    return rows


def _violations(
    ctx: AuditContext,
    rule_id: str,
    violating: np.ndarray,
    reasons: pd.Series,
    instants: Mapping[str, np.ndarray],
    kinds: pd.Series | None,
) -> list[Violation]:
    """One Violation per violating handoff, read column by column.

    ``iterrows`` builds a Series per row: at 100,000 violations that alone took seconds.
    """
    facts = ctx.facts
    index = np.flatnonzero(violating)
    rows = facts.iloc[index]
    texts = {name: ns_text(values[index]) for name, values in instants.items()}
    picked_reasons = reasons.to_numpy(dtype=object)[index]
    picked_kinds = kinds.to_numpy(dtype=object)[index] if kinds is not None else None
    columns = zip(
        rows["lead_id"].tolist(),
        rows["crm_id"].tolist(),
        rows["rep"].tolist(),
        rows["handoff_at"].tolist(),
        rows["url"].tolist(),
        rows["source"].tolist(),
        strict=True,
    )
    out = []
    for pos, (lead, crm_id, rep, handoff_at, url, source) in enumerate(columns):
        out.append(
            Violation(
                rule=rule_id,
                lead=lead,
                crm_id=str(crm_id),
                rep=rep,
                handoff_at=handoff_at,
                reason=str(picked_reasons[pos]),
                url=url if isinstance(url, str) else None,
                source=source,
                kind=str(picked_kinds[pos]) if picked_kinds is not None else "",
                instants={name: values[pos] for name, values in texts.items()},  # type: ignore[index]
            )
        )
    return out


def _pending(
    ctx: AuditContext, rule_id: str, pending: np.ndarray, decided_by: str
) -> list[PendingHandoff]:
    rows = ctx.facts.iloc[np.flatnonzero(pending)]
    return [
        PendingHandoff(
            rule=rule_id,
            lead=lead,
            crm_id=str(crm_id),
            rep=rep,
            handoff_at=handoff_at,
            decided_by=decided_by,
            url=url if isinstance(url, str) else None,
        )
        for lead, crm_id, rep, handoff_at, url in zip(
            rows["lead_id"],
            rows["crm_id"],
            rows["rep"],
            rows["handoff_at"],
            rows["url"],
            strict=True,
        )
    ]


def not_nat(values: np.ndarray) -> np.ndarray:
    return values != np.iinfo(np.int64).min
