"""Small statistics the reports quote beside a share: how sure a share of a few cases is.

A rep at 3 of 4 (75 %) and a rep at 300 of 400 (75 %) are not equally good evidence; the
95 % Wilson score interval says so in numbers (30–95 % against 71–79 %). Wilson rather than
the textbook normal interval because it stays inside [0, 1] and behaves at 0 of n and n of
n, which is exactly where a small rep sits (Brown, Cai & DasGupta, "Interval Estimation
for a Binomial Proportion", Statistical Science 2001).
"""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` of ``n`` (both whole, 0 ≤ successes ≤ n).

    ``n`` must be at least 1: a share of nothing has no interval (callers show "no data").
    Example: 8 of 10 → (0.490, 0.943).
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1, got {successes} of {n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)
