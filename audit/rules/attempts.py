"""attempts: compliant if connected, or with at least ``attempts.min`` counted attempts.

Judged as soon as either is true, otherwise when the window closes (docs/SEMANTICS.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np

from audit.context import AuditContext
from audit.instants_ns import not_nat
from audit.persistence import asked_channels
from audit.result import RuleResult
from audit.rules.attempt_channels import (
    cadence,
    channels_short,
    persistence_details,
    persistence_sentence,
    persistence_words,
)
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import compliant_of_judged, target_words
from config.durations import duration_code

RULE_ID = "attempts"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.sales.attempts
    counted = facts["attempts"].to_numpy()
    minimum = facts["attempts_min"].to_numpy()
    window_ns = facts["window_ns"].to_numpy()
    connected = not_nat(facts["connected_at"].to_numpy())
    channels = asked_channels(ctx.sla)
    short = channels_short(facts, channels)
    minimums_met = (counted >= minimum) & ~short.any(axis=1)
    gap_ok, cadence_set = cadence(facts)
    compliant = connected | (minimums_met & gap_ok)
    # A later gap could still break the cadence: only a connection, or the window's close,
    # decides a handoff whose tier sets max_gap.
    decided_early = connected | (minimums_met & gap_ok & ~cadence_set)
    judged = decided_early | (facts["window_end"].to_numpy() <= ctx.as_of_ns)
    window = duration_code(cfg.window)

    def reasons(index: np.ndarray) -> list[str]:
        """Worded once per distinct count, minimum and window (a tier may set its own)."""
        shown = list(
            zip(
                counted[index].tolist(),
                minimum[index].tolist(),
                window_ns[index].tolist(),
                strict=True,
            )
        )
        words = {
            (count, least, span): f"{count} counted attempt{'s' if count != 1 else ''} and no "
            f"connection in {window_code(span)} (SLA {least})"
            for count, least, span in set(shown)
        }
        extra = persistence_words(facts, channels, index, cadence_set.any())
        return [words[key] + more for key, more in zip(shown, extra, strict=True)]

    judged_counts = counted[judged]
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=reasons,
        target=cfg.target,
        targets=facts["target_attempts"].to_numpy(),
        decided_by="attempt window end",
        instants={"window_end": facts["window_end"].to_numpy()},
        details={
            "connected": int((connected & judged).sum()),
            "mean_attempts": float(np.mean(judged_counts)) if judged_counts.size else None,
            "attempts_histogram": _histogram(judged_counts),
            "min_attempts": cfg.min,
            "window": window,
        }
        | persistence_details(cfg, channels, short, gap_ok, judged & ~compliant),
    )


def window_code(span_ns: int) -> str:
    """A window in nanoseconds as the SLA writes it ("14d")."""
    return duration_code(timedelta(microseconds=span_ns // 1000))


def _histogram(counts: np.ndarray) -> dict[str, int]:
    """Judged handoffs by number of counted attempts ("0", "1", … as text keys for JSON)."""
    values, handoffs = np.unique(counts, return_counts=True)
    return {
        str(int(value)): int(with_value) for value, with_value in zip(values, handoffs, strict=True)
    }


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    minimum, window = details.get("min_attempts"), details.get("window")
    tries = f"at least {minimum} counted attempts" if minimum is not None else "enough attempts"
    span = f" within {window}" if window else ""
    text = (
        f"{compliant_of_judged(rule)} judged handoffs were reached or got {tries}{span} "
        f"({target_words(rule, RULE.unit)})."
    )
    text += persistence_sentence(details)
    connected = details.get("connected")
    if connected is not None:
        text += f" {connected} were reached."
    return text


RULE = Rule(id=RULE_ID, title="Attempts", evaluate=evaluate, sentence=sentence)
