"""coverage: a handoff is worked once it has at least one attempt in its window.

Judged once worked or once the window has closed (docs/SEMANTICS.md §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from audit.context import AuditContext
from audit.instants_ns import not_nat
from audit.result import RuleResult
from audit.rules.attempts import window_code
from audit.rules.common import handoff_rule
from audit.rules.rule import Rule
from audit.wording import compliant_of_judged, target_words
from config.durations import duration_code

RULE_ID = "coverage"


def evaluate(ctx: AuditContext) -> RuleResult:
    facts = ctx.facts
    worked = not_nat(facts["first_attempt"].to_numpy())
    window_closed = facts["window_end"].to_numpy() <= ctx.as_of_ns
    window = duration_code(ctx.sla.sales.attempts.window)
    window_ns = facts["window_ns"].to_numpy()

    def reasons(index: np.ndarray) -> list[str]:
        """Worded once per distinct window (a tier may set its own)."""
        spans = window_ns[index].tolist()
        words = {span: f"no attempt within the {window_code(span)} window" for span in set(spans)}
        return [words[span] for span in spans]

    return handoff_rule(
        ctx,
        RULE_ID,
        judged=worked | window_closed,
        compliant=worked,
        reasons=reasons,
        target=ctx.sla.sales.coverage.target,
        targets=facts["target_coverage"].to_numpy(),
        decided_by="attempt window end",
        instants={"window_end": facts["window_end"].to_numpy()},
        details={"worked": int(worked.sum()), "window": window},
    )


def sentence(rule: RuleResult, details: Mapping[str, Any], _: str) -> str:
    window = details.get("window")
    span = f"the {window} window" if window else "the attempt window"
    return (
        f"{compliant_of_judged(rule)} judged handoffs had at least one attempt within {span} "
        f"({target_words(rule, RULE.unit)})."
    )


RULE = Rule(id=RULE_ID, title="Coverage", evaluate=evaluate, sentence=sentence)
