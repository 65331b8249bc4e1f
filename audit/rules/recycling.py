"""recycling: unreachable leads go back to marketing in time, after enough tries, with a reason.

For a handoff not connected, with deadline = window end + ``recycle.grace``
(docs/SEMANTICS.md §5), taking whichever comes first of its first recycle entry and its
first progress after the handoff:

* recycled before the deadline with fewer than ``attempts.min`` counted attempts before
  that instant: *premature* (reported even when the reason is also missing);
* recycled before the deadline without a reason (``recycle.reason_field`` empty at that
  instant, or not in ``recycle.reasons`` when given): *no reason*;
* neither progressed nor recycled by the deadline: *stuck*;
* otherwise compliant. Judged once recycled, progressed or past the deadline.

A recycle and a progress at the same instant count as progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from audit.context import AuditContext
from audit.instants_ns import local_texts, not_nat
from audit.names import ValueLabels
from audit.result import RuleResult
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import capital, compliant_of_judged, target_words
from config.durations import duration_code

RULE_ID = "recycling"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.sales.recycle
    minimum = facts["attempts_min"].to_numpy()
    deadline = facts["recycle_deadline"].to_numpy()
    recycled = facts["recycled_at"].to_numpy()
    progressed = facts["progressed_at"].to_numpy()
    eligible = ~not_nat(facts["connected_at"].to_numpy())
    recycled_in_time = not_nat(recycled) & (recycled < deadline)
    progressed_in_time = not_nat(progressed) & (progressed < deadline)
    recycled_first = recycled_in_time & (~progressed_in_time | (recycled < progressed))
    progressed_first = progressed_in_time & ~recycled_first
    before = facts["attempts_before_recycle"].to_numpy()
    reason = facts["recycle_reason"]
    has_reason = _has_reason(reason, cfg.reasons)
    premature = recycled_first & (before < minimum)
    no_reason = recycled_first & ~premature & ~has_reason
    stuck = ~recycled_in_time & ~progressed_in_time & (deadline <= ctx.as_of_ns)
    judged = recycled_first | progressed_first | (deadline <= ctx.as_of_ns)
    compliant = ~(premature | no_reason | stuck)
    kinds = np.select([premature, no_reason, stuck], ["premature", "no_reason", "stuck"], "")
    wording = RecycleWording(
        kinds,
        before,
        reason,
        has_reason,
        cfg.reason_field,
        minimum,
        deadline,
        ctx.sla.timezone,
        sources=facts["source"].to_numpy(dtype=object),
        labels=ctx.labels,
    )
    judged_eligible = judged & eligible
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=wording.reasons,
        target=cfg.target,
        targets=facts["target_recycling"].to_numpy(),
        decided_by="recycle deadline",
        instants={"recycled_at": recycled, "deadline": deadline},
        kinds=kinds,
        eligible=eligible,
        details={
            "premature": int((premature & judged_eligible).sum()),
            "no_reason": int((no_reason & judged_eligible).sum()),
            "stuck": int((stuck & judged_eligible).sum()),
            "connected_left_out": int((~eligible).sum()),
            "grace": duration_code(cfg.grace),
        },
    )


def _has_reason(values: pd.Series, allowed: list[str] | None) -> np.ndarray:
    """Whether each recycle reason is given (and allowed): decided once per distinct value."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    text = [value.strip() if isinstance(value, str) else "" for value in uniques.tolist()]
    valid = np.array(
        [reason != "" and (not allowed or reason in allowed) for reason in text] + [False],
        dtype=bool,
    )
    return valid[codes]  # code -1 (no value) picks the trailing False


@dataclass(frozen=True)
class RecycleWording:
    """The wording of a recycling violation, from the rule's columns (one row per handoff)."""

    kinds: np.ndarray
    before: np.ndarray
    reason: pd.Series
    has_reason: np.ndarray
    field: str
    minimum: np.ndarray
    """Each handoff's minimum attempts (its tier's)."""
    deadline: np.ndarray
    timezone: str
    sources: np.ndarray | None = None
    labels: ValueLabels | None = None
    """With ``sources``: the reason's value shown with the CRM's label (issue 15, item 7)."""

    def reasons(self, index: np.ndarray) -> list[str]:
        """The reason of each violating handoff at ``index``, in that order."""
        kinds = self.kinds[index].tolist()
        before = self.before[index].tolist()
        given = self.reason.to_numpy(dtype=object)[index].tolist()
        labels = self._labels(index, given)
        valid = self.has_reason[index].tolist()
        deadline_text = local_texts(self.deadline[index], self.timezone)
        minimum = self.minimum[index].tolist()
        return [
            self._one(*row)
            for row in zip(kinds, before, given, valid, deadline_text, minimum, labels, strict=True)
        ]

    def _labels(self, index: np.ndarray, given: list[object]) -> list[str | None]:
        """The CRM's label of each handoff's reason value (None without one)."""
        if self.labels is None or self.sources is None:
            return [None] * len(given)
        labels = self.labels
        return [
            labels.label(source, self.field, value) if isinstance(value, str) else None
            for source, value in zip(self.sources[index].tolist(), given, strict=True)
        ]

    def _one(
        self,
        kind: str,
        before: int,
        given: object,
        valid: bool,
        deadline: str,
        minimum: int,
        label: str | None = None,
    ) -> str:
        field = self.field
        if kind == "premature":
            extra = "" if valid else f", and no valid reason in {field}"
            noun = "attempt" if before == 1 else "attempts"
            return f"recycled after {before} counted {noun} (SLA {minimum}){extra}"
        if kind == "no_reason":
            shown = (
                f"{field} was {given!r}" if isinstance(given, str) and given else f"{field} empty"
            )
            if label:
                shown = f"{field} was {label} ({given})"
            return f"recycled without a valid reason ({shown})"
        if kind == "stuck":
            return f"neither progressed nor recycled by {deadline}"
        return ""


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    text = (
        f"{compliant_of_judged(rule)} judged handoffs never reached were handed back to "
        "marketing in time, after enough attempts and with a reason, or progressed "
        f"({target_words(rule, RULE.unit)})."
    )
    problems = [
        f"{details[key]} {words}"
        for key, words in (
            ("premature", "recycled too early"),
            ("no_reason", "recycled without a valid reason"),
            ("stuck", "neither recycled nor progressed"),
        )
        if details.get(key)
    ]
    if problems:
        text += " " + capital(", ".join(problems)) + "."
    return text


RULE = Rule(id=RULE_ID, title="Recycling", evaluate=evaluate, sentence=sentence)
