"""pass / warn / fail from a measured value, its target and the relative warn margin."""

from __future__ import annotations

from audit.result import Status

# Shares such as 0.72 and products such as 0.8 × 0.9 differ in the last binary digit;
# a warn threshold must not flip on that, so comparisons allow this much slack.
TOLERANCE = 1e-9


def judge(measured: float | None, target: float | None, warn_margin: float) -> Status:
    """Status of a higher-is-better figure (docs/SEMANTICS.md §5).

    ``warn`` when the figure falls short of the target by no more than
    ``warn_margin × target``: with target 0.8 and margin 0.1, 0.72 warns and 0.71 fails.
    ``n/a`` when the SLA sets no target; ``no_data`` when nothing could be measured (no
    handoff judged yet): an empty month is not a failure, and not a pass either.
    """
    if target is None:
        return "n/a"
    if measured is None:
        return "no_data"
    scale = max(1.0, abs(target))
    if measured >= target - TOLERANCE * scale:
        return "pass"
    if measured >= target * (1.0 - warn_margin) - TOLERANCE * scale:
        return "warn"
    return "fail"


def share(numerator: int, denominator: int) -> float | None:
    """A fraction in [0, 1], or None when there is nothing to divide."""
    return None if denominator == 0 else numerator / denominator
