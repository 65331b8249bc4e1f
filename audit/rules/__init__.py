"""The seven SLA rules, each a pure function of the audit context → RuleResult."""

from __future__ import annotations

from collections.abc import Callable

from audit.context import AuditContext
from audit.result import RuleResult
from audit.rules import attempts, conversion, coverage, recycling, speed_to_lead, volume

RULES: dict[str, Callable[[AuditContext], RuleResult]] = {
    "mql_volume": volume.evaluate_volume,
    "mql_per_rep": volume.evaluate_per_rep,
    "speed_to_lead": speed_to_lead.evaluate,
    "coverage": coverage.evaluate,
    "attempts": attempts.evaluate,
    "recycling": recycling.evaluate,
    "conversion": conversion.evaluate,
}
