"""What every per-handoff rule shares: judged/compliant/pending masks → a RuleResult.

A rule decides, per handoff, whether it is judged, compliant or still pending and why a
violation is one; this module turns those columns into the measured share, the per-rep
breakdown, the evidence rows and the pending list, the same way for every rule.

Everything here works on whole columns (numpy arrays, object arrays of the facts' text):
at a million leads a month holds ~90,000 handoffs and ~160,000 evidence rows, and any
per-row pandas access (``iterrows``, iterating a string Series, ``groupby`` per rule)
costs seconds there.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import repeat, starmap
from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.handoffs import UNASSIGNED
from audit.instants_ns import ns_text
from audit.result import PendingHandoff, RepRow, RuleResult, Violation
from audit.rules.splits import handoff_splits, rule_targets
from audit.status import judge, share

#: Why each violating handoff is one: called with the violating handoffs' positions in the
#: facts, returns one reason per position. Only violations need a reason (a few of the
#: handoffs, and none in a trend month), so rules word them on demand.
Reasons = Callable[[np.ndarray], Sequence[str]]


def rep_names(ctx: AuditContext) -> list[str]:
    """The period's reps, plus ``unassigned`` as its own row when a handoff has no owner."""
    names = list(ctx.reps)
    if (text_column(ctx.facts, "rep") == UNASSIGNED).any():
        names.append(UNASSIGNED)
    return names


def text_column(facts: pd.DataFrame, name: str) -> np.ndarray:
    """A facts column as a numpy object array (no copy for the facts' string columns).

    Comparing or indexing the object array runs in numpy's C loops; the same on the pandas
    string column goes through its extension-array machinery, element by element.
    """
    return facts[name].to_numpy(dtype=object)


def handoff_rule(
    ctx: AuditContext,
    rule_id: str,
    *,
    judged: np.ndarray,
    compliant: np.ndarray,
    reasons: Reasons,
    target: float | None,
    decided_by: str,
    targets: np.ndarray | None = None,
    instants: Mapping[str, np.ndarray] | None = None,
    kinds: np.ndarray | None = None,
    eligible: np.ndarray | None = None,
    details: dict[str, Any] | None = None,
    violations: bool = True,
    attributed: np.ndarray | None = None,
) -> RuleResult:
    """Build the result of a rule judged handoff by handoff.

    ``eligible`` leaves handoffs out of the rule altogether (recycling skips connected
    ones); the rest are judged or pending. ``reasons`` is called only for the judged
    handoffs that are not compliant, and not at all when the context wants no evidence.
    ``violations=False`` is for a rule whose non-compliance is an outcome rather than a
    broken promise (conversion): no evidence rows and no per-rep violation counts.
    ``targets`` is each handoff's target when tiers may set their own; the headline
    target is then the judged handoffs' average (:mod:`audit.rules.splits`).
    ``attributed`` is each handoff's ``attributed_to`` (speed to lead: routing or rep).
    """
    facts = ctx.facts
    eligible = np.ones(len(facts), dtype=bool) if eligible is None else eligible
    judged = judged & eligible
    compliant = compliant & judged
    pending = eligible & ~judged
    violating = judged & ~compliant if violations else np.zeros(len(facts), dtype=bool)
    n_judged = int(judged.sum())
    measured = share(int(compliant.sum()), n_judged)
    target, targets = rule_targets(target, targets, judged, tiered=bool(ctx.sla.tiers))
    margin = ctx.sla.warn_margin(rule_id)
    listed: list[Violation] = []
    waiting: list[PendingHandoff] = []
    if ctx.evidence:
        with collector_paused():
            listed = _violations(
                ctx, rule_id, violating, reasons, instants or {}, kinds, attributed
            )
            waiting = _pending(ctx, rule_id, pending, decided_by)
    return RuleResult(
        id=rule_id,
        status=judge(measured, target, margin),
        measured=measured,
        target=target,
        judged=n_judged,
        pending=int(pending.sum()),
        details=details or {},
        reps=_rep_rows(ctx, rule_id, judged, compliant, pending, violating),
        violations=listed,
        pending_handoffs=waiting,
        splits=handoff_splits(ctx, judged, compliant, pending, eligible, targets, margin),
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a block allocates many small rows.

    Evidence rows hold text and reference nothing that refers back to them, so collector
    passes during their creation find nothing; yet each full pass walks every live object,
    and a large month's evidence rows set off several. Reference counting still frees
    everything as usual; only the cycle search waits. What it buys is measured in
    benchmarks/RESULTS.md.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rep_rows(
    ctx: AuditContext,
    rule_id: str,
    judged: np.ndarray,
    compliant: np.ndarray,
    pending: np.ndarray,
    violating: np.ndarray,
) -> list[RepRow]:
    """One row per rep: the masks counted per rep with one ``bincount`` each."""
    codes, uniques = pd.factorize(text_column(ctx.facts, "rep"))
    known = codes >= 0  # a missing rep (NaN) belongs to no row
    position = {rep: slot for slot, rep in enumerate(uniques.tolist())}

    def per_rep(mask: np.ndarray) -> list[int]:
        return np.bincount(codes[mask & known], minlength=len(uniques)).tolist()

    n_judged, n_ok = per_rep(judged), per_rep(compliant)
    n_pending, n_violating = per_rep(pending), per_rep(violating)
    rows = []
    for rep in rep_names(ctx):
        slot = position.get(rep)
        rows.append(
            RepRow(
                rep=rep,
                rule=rule_id,
                measured=share(n_ok[slot], n_judged[slot]) if slot is not None else None,
                judged=n_judged[slot] if slot is not None else 0,
                pending=n_pending[slot] if slot is not None else 0,
                violations=n_violating[slot] if slot is not None else 0,
            )
        )
    return rows


def _violations(
    ctx: AuditContext,
    rule_id: str,
    violating: np.ndarray,
    reasons: Reasons,
    instants: Mapping[str, np.ndarray],
    kinds: np.ndarray | None,
    attributed: np.ndarray | None = None,
) -> list[Violation]:
    """One Violation per violating handoff, built column by column."""
    index = np.flatnonzero(violating)
    count = len(index)
    lead, crm_id, rep, handoff_at, url, source = _evidence_columns(ctx.facts, index)
    tiers = tier_names(ctx, index)
    texts = {name: ns_text(values[index]) for name, values in instants.items()}
    names = list(texts)
    stamps = zip(*texts.values(), strict=True) if texts else repeat((), count)
    columns = zip(
        repeat(rule_id, count),
        lead,
        crm_id,
        rep,
        handoff_at,
        map(str, reasons(index)),
        url,
        source,
        map(str, kinds[index].tolist()) if kinds is not None else repeat("", count),
        (dict(zip(names, values, strict=True)) for values in stamps),
        tiers,
        strict=True,
    )
    # By keyword: later fields (the names, filled after the rules) sit between tier and it.
    whose = map(str, attributed[index].tolist()) if attributed is not None else repeat("", count)
    return [Violation(*row, attributed_to=by) for row, by in zip(columns, whose, strict=True)]


def _pending(
    ctx: AuditContext, rule_id: str, pending: np.ndarray, decided_by: str
) -> list[PendingHandoff]:
    """One PendingHandoff per pending handoff, built column by column."""
    index = np.flatnonzero(pending)
    count = len(index)
    lead, crm_id, rep, handoff_at, url, _ = _evidence_columns(ctx.facts, index)
    columns = zip(
        repeat(rule_id, count),
        lead,
        crm_id,
        rep,
        handoff_at,
        repeat(decided_by, count),
        url,
        tier_names(ctx, index),
        strict=True,
    )
    return list(starmap(PendingHandoff, columns))


def tier_names(ctx: AuditContext, index: np.ndarray) -> list[str]:
    """The tier of each handoff at ``index``; "" for all when the SLA has no tiers."""
    if not ctx.sla.tiers:
        return [""] * len(index)
    return text_column(ctx.facts, "split_tier")[index].tolist()


def _evidence_columns(facts: pd.DataFrame, index: np.ndarray) -> tuple[list[Any], ...]:
    """Lead, CRM id (as text), rep, handoff instant, URL (None when absent) and source."""
    lead, crm_id, rep, handoff_at, url, source = (
        text_column(facts, name)[index].tolist()
        for name in ("lead_id", "crm_id", "rep", "handoff_at", "url", "source")
    )
    return (
        lead,
        list(map(str, crm_id)),
        rep,
        handoff_at,
        [link if isinstance(link, str) else None for link in url],
        source,
    )
