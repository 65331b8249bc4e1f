"""Client-side pacing: a rolling window per rate limit ("lane"), sized from the limit
headers once the CRM sends them, with a safety margin, so a long sync never meets 429.

Time comes from a :class:`Clock`, so tests can run every wait instantly while recording
how long the sync would have slept.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from connectors.core.answers import RateLimits


class Clock(Protocol):
    """Time as the engine uses it; tests pass one whose ``sleep`` does not block."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> datetime:
        """Aware UTC wall time (scan start instants)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class ThrottlePolicy:
    """Client-side pacing. ``enabled=False`` still tracks requests (for 429 waits)."""

    window_max: int = 190
    window_s: float = 10.0
    margin_share: float = 0.05
    margin_min: int = 2
    search_per_s: int = 4
    enabled: bool = True


class Lane:
    """A rolling window: at most ``budget`` requests in any ``window_s`` seconds."""

    def __init__(self, budget: int, window_s: float, *, enforce: bool = True) -> None:
        self.budget = max(1, budget)
        self.window_s = window_s
        self.enforce = enforce
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0

    def _trim(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - self.window_s:
            self.sent.popleft()

    def wait_time(self, now: float) -> float:
        self._trim(now)
        wait = max(0.0, self.blocked_until - now)
        if self.enforce and len(self.sent) >= self.budget:
            wait = max(wait, self.sent[len(self.sent) - self.budget] + self.window_s - now)
        return wait

    def until_slot_frees(self, now: float) -> float:
        """If the CRM says the window is full: when our oldest request leaves it."""
        self._trim(now)
        if self.sent:
            return max(0.0, self.sent[0] + self.window_s - now)
        return self.window_s / 2

    def record(self, now: float) -> None:
        self.sent.append(now)


class Throttle:
    """Named lanes; every request passes the ``app`` lane, searches also ``search``."""

    def __init__(self, policy: ThrottlePolicy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        self.lanes: dict[str, Lane] = {
            "app": Lane(self._budget(policy.window_max), policy.window_s, enforce=policy.enabled),
            "search": Lane(policy.search_per_s, 1.0, enforce=policy.enabled),
        }
        self.waited_s = 0.0

    def _budget(self, window_max: int) -> int:
        reserve = max(self.policy.margin_min, math.ceil(window_max * self.policy.margin_share))
        return max(1, window_max - reserve)

    def acquire(self, lanes: Sequence[str]) -> None:
        while True:
            now = self.clock.monotonic()
            wait = max(self.lanes[name].wait_time(now) for name in lanes)
            if wait <= 0:
                for name in lanes:
                    self.lanes[name].record(now)
                return
            self.waited_s += wait
            self.clock.sleep(wait)

    def observe(self, limits: RateLimits) -> None:
        """Resize the app lane from the headers; pause it when the CRM says it is nearly full."""
        app = self.lanes["app"]
        if limits.window_max:
            app.budget = self._budget(limits.window_max)
        if limits.window_ms:
            app.window_s = limits.window_ms / 1000
        if limits.window_remaining is not None and limits.window_max:
            reserve = limits.window_max - app.budget
            if limits.window_remaining <= reserve and self.policy.enabled:
                now = self.clock.monotonic()
                app.blocked_until = max(app.blocked_until, now + app.until_slot_frees(now))

    def full_window_wait(self, lanes: Sequence[str]) -> float:
        """After a 429 without Retry-After: the wait until our oldest request leaves."""
        now = self.clock.monotonic()
        return max(self.lanes[name].until_slot_frees(now) for name in lanes)

    def block(self, lanes: Sequence[str], seconds: float) -> None:
        now = self.clock.monotonic()
        for name in lanes:
            self.lanes[name].blocked_until = max(self.lanes[name].blocked_until, now + seconds)
