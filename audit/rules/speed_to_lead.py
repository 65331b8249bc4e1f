"""speed_to_lead: business minutes from handoff to the first attempt (docs/SEMANTICS.md §5).

Compliant when the first attempt comes within ``sales.first_touch.within`` business time.
With no attempt yet, the handoff is pending until that deadline passes, then a violation.
Median and p90 (numpy's linear interpolation) are over handoffs that got an attempt.

``minutes_histogram`` counts the same handoffs in fixed bins that are multiples of
``within`` (0–1×, 1–2×, 2–3×, 3–6×, 6–12×, 12–24×, 24–96×, 96–288×, beyond; with a 5m SLA
the last edges are 2 hours, 8 hours — about a business day — and 24 hours, because late
first touches are usually hours late, not minutes): the first bin is exactly the
compliant range, so a chart can draw the SLA line at its right edge whatever ``within`` is,
and the JSON stays a few keys long at any volume (a list of every handoff's minutes would
not). Bins are closed on the right, like compliance: a touch at exactly 5m is in "0-5".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from itertools import pairwise
from typing import Any

import numpy as np

from audit.context import AuditContext
from audit.instants_ns import local_texts, not_nat
from audit.result import RuleResult
from audit.routing import attribution
from audit.routing_details import routing_details
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import compliant_of_judged, human_duration, target_words
from config.durations import duration_code

RULE_ID = "speed_to_lead"

# Bin edges as multiples of ``first_touch.within``; the last bin is open-ended.
HISTOGRAM_MULTIPLES: tuple[int, ...] = (0, 1, 2, 3, 6, 12, 24, 96, 288)
# The compliance test's slack (seconds), so bin 0 holds exactly the compliant touches.
SLACK_S = 1e-6


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    cfg = ctx.sla.sales.first_touch
    tier_within_s = facts["first_touch_within_s"].to_numpy()
    first = facts["first_attempt"].to_numpy()
    deadline = facts["first_touch_deadline"].to_numpy()
    touched = not_nat(first)
    # Business seconds on the rep's clock (audit/routing.py): from the handoff, or from
    # the assignment when the SLA says ``clock: assignment``.
    seconds = np.where(touched, facts["touch_s"].to_numpy(), np.nan)
    minutes = seconds / 60.0
    compliant = touched & (seconds <= tier_within_s + SLACK_S)
    judged = touched | (deadline <= ctx.as_of_ns)
    codes = {s: duration_code(timedelta(seconds=s)) for s in np.unique(tier_within_s).tolist()}

    def reasons(index: np.ndarray) -> list[str]:
        """Late touches say how late ("2 h 12 min (business)", worded once per whole
        minute); untouched ones the deadline missed, local with its offset; each its tier's SLA.
        """
        deadline_text = local_texts(deadline[index], ctx.sla.timezone)
        late = np.round(np.nan_to_num(minutes[index]))
        words = {m: human_duration(m, business=True) for m in np.unique(late).tolist()}
        return [
            f"first touch after {words[late_minutes]}, SLA {codes[limit]}"
            if was_touched
            else f"no attempt by the deadline {missed}, SLA {codes[limit]}"
            for was_touched, late_minutes, missed, limit in zip(
                touched[index].tolist(),
                late.tolist(),
                deadline_text,
                tier_within_s[index].tolist(),
                strict=True,
            )
        ]

    faults = attribution(facts, ctx.sla, ctx.as_of_ns)
    got_s = seconds[touched & judged]
    got = minutes[touched & judged]
    details = {
        "median_minutes": float(np.median(got)) if got.size else None,
        "p90_minutes": float(np.percentile(got, 90)) if got.size else None,
        "untouched": int((judged & ~touched).sum()),
        "within": duration_code(cfg.within),
        "minutes_histogram": minutes_histogram(got_s, cfg.within.total_seconds()),
        **routing_details(ctx, judged & ~compliant, faults),
    }
    return handoff_rule(
        ctx,
        RULE_ID,
        judged=judged,
        compliant=compliant,
        reasons=reasons,
        target=cfg.target,
        targets=facts["target_speed_to_lead"].to_numpy(),
        decided_by="first-touch deadline",
        instants={"first_touch_at": first, "deadline": deadline},
        kinds=np.where(touched, "late", "untouched"),
        details=details,
        attributed=faults,
    )


def _minutes(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def minutes_histogram(seconds: np.ndarray, within_s: float) -> dict[str, int]:
    """Touched handoffs by business minutes to first attempt, in bins of ``within`` multiples.

    Keys are labels in minutes ("0-5", "5-10", …, "1440+" for ``within`` = 5m), in bin order;
    every bin is present, empty ones with 0, so charts of two months line up.
    """
    edges = [multiple * within_s for multiple in HISTOGRAM_MULTIPLES]
    labels = [f"{_minutes(low / 60)}-{_minutes(high / 60)}" for low, high in pairwise(edges)]
    labels.append(f"{_minutes(edges[-1] / 60)}+")
    # Index of the first upper edge ≥ the value: right-closed bins, overflow last.
    index = np.searchsorted(np.asarray(edges[1:]), seconds - SLACK_S, side="left")
    counts = np.bincount(index.astype(np.int64), minlength=len(labels))
    return {label: int(count) for label, count in zip(labels, counts, strict=True)}


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    within = details.get("within")
    limit = f"within {within} of business time" if within else "within the SLA's first-touch time"
    text = (
        f"{compliant_of_judged(rule)} judged handoffs got a first attempt {limit} "
        f"({target_words(rule, RULE.unit)})."
    )
    median, p90 = details.get("median_minutes"), details.get("p90_minutes")
    if median is not None and p90 is not None:
        text += (
            f" Median {human_duration(median, business=True)}, "
            f"p90 {human_duration(p90, business=True)}."
        )
    untouched = details.get("untouched")
    if untouched:
        text += f" {untouched} got no attempt at all by the deadline."
    return text


RULE = Rule(id=RULE_ID, title="Speed to lead", evaluate=evaluate, sentence=sentence)
