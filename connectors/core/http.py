"""Every request of a sync, through one :class:`Api`: throttled, counted, retried, parsed.

Retries (tenacity) cover 429 (Retry-After, else the rate-limit window), 423, 5xx gateway
errors, connection resets and truncated or malformed JSON, with exponential backoff and
jitter, bounded in attempts *and* in total waiting. Anything else the CRM refuses ends
the sync with a :class:`~connectors.core.errors.SyncError` naming the call and the fix.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from config.redact import Redactor
from connectors.core.answers import CrmDialect, HttpAnswer, Reply
from connectors.core.errors import (
    Cancelled,
    ConfigTrouble,
    ConnectionTrouble,
    RefusedError,
    SyncError,
)
from connectors.core.stats import StreamStats
from connectors.core.throttle import Clock, Throttle, ThrottlePolicy

log = logging.getLogger(__name__)

CONNECTION_PROBLEM = "connection problem"


class _Retryable(Exception):
    """An attempt that may succeed if repeated; ``wait_s`` is the least the CRM asked for."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Bounded twice: a number of attempts and a total of waiting."""

    attempts: int = 6
    max_total_wait_s: float = 300.0
    base_wait_s: float = 0.5
    max_wait_s: float = 30.0
    locked_wait_s: float = 2.0
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504, 521, 523, 524})

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with "equal jitter": half fixed, half random, so retries spread out."""
        ceiling = min(self.max_wait_s, self.base_wait_s * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class _stop_when_waited(stop_base):
    """Stop before the total of waits would pass ``limit`` (virtual-clock friendly)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return retry_state.idle_for + upcoming > self.limit


class Api:
    """Every request of a run goes through :meth:`call`: throttle, count, retry, parse."""

    try_again = "run the sync again later (it resumes where it stopped)"
    """The end of the line when a call kept failing: what the user does next."""

    def __init__(
        self,
        dialect: CrmDialect,
        *,
        clock: Clock,
        redactor: Redactor,
        retry: RetryPolicy | None = None,
        throttle: ThrottlePolicy | None = None,
        max_daily_share: float = 1.0,
        min_free_share: float = 0.0,
        rng: random.Random | None = None,
    ) -> None:
        self.dialect = dialect
        self.clock = clock
        self.redactor = redactor
        self.retry = retry or RetryPolicy()
        self.throttle = Throttle(throttle or ThrottlePolicy(), clock)
        self.max_daily_share = max_daily_share
        self.min_free_share = min_free_share
        self.rng = rng or random.Random()
        self.stream = "setup"
        self.stats: dict[str, StreamStats] = {}
        self.requests = 0
        self.retries = 0
        self.daily_cap: int | None = None
        self.daily_max: int | None = None
        self.used_earlier = 0
        """Requests this source's earlier runs made in the last 24 hours (from ``sync_runs``)."""
        self.account_used: int | None = None
        self.account_max: int | None = None
        """The account-wide usage the latest answer stated (``RateLimits.daily_used``)."""
        self._thread = threading.local()
        """Per thread: the ``cancel`` event of a prefetching worker (none in the engine's)."""

    def cancel_with(self, event: threading.Event) -> None:
        """From now on, in the calling thread, stop before any request once ``event`` is set.

        A prefetching worker calls this first: when the engine stops (an error, Ctrl-C) it
        sets the event, and the worker's next attempt or retry raises :class:`Cancelled`
        instead of spending a request nobody will write.
        """
        self._thread.cancel = event

    def _check_cancelled(self) -> None:
        event: threading.Event | None = getattr(self._thread, "cancel", None)
        if event is not None and event.is_set():
            raise Cancelled("the sync stopped")

    def _sleep(self, seconds: float) -> None:
        """A retry's wait; skipped once cancelled (the next attempt then stops)."""
        event: threading.Event | None = getattr(self._thread, "cancel", None)
        if event is None or not event.is_set():
            self.clock.sleep(seconds)

    def stats_for(self, stream: str) -> StreamStats:
        return self.stats.setdefault(stream, StreamStats())

    def fail(self, what: str) -> SyncError:
        return SyncError(
            self.redactor(f"{self.dialect.source} sync failed in {self.stream}: {what}")
        )

    # -- one call, retried ----------------------------------------------------------

    def call(
        self,
        endpoint: str,
        send: Callable[[], HttpAnswer],
        *,
        lanes: Sequence[str] = ("app",),
        expect: Callable[[Any], bool] | None = None,
        parse: Callable[[HttpAnswer], Any] | None = None,
    ) -> Reply:
        """Perform ``send`` until it yields a usable JSON answer, or raise :class:`SyncError`.

        ``endpoint`` ("POST /crm/v3/objects/calls/search") names the call in errors;
        ``expect`` rejects a well-formed JSON answer of the wrong shape (retried like a
        truncated one, since both are a broken answer rather than a refusal). ``parse``
        reads a 2xx answer that is not JSON (e.g. Salesforce's Bulk API CSV pages); a
        ``ValueError`` from it is a broken answer too, and is retried.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts)
            | _stop_when_waited(self.retry.max_total_wait_s),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=lambda state: self._before_sleep(endpoint, state),
            reraise=True,
        )
        try:
            return retrying(self._attempt, endpoint, send, lanes, expect, parse)
        except _Retryable as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            waited = retrying.statistics.get("idle_for", 0.0)
            fix = (
                self.dialect.unreachable_fix()
                if exc.reason.startswith(CONNECTION_PROBLEM)
                else "the CRM is unavailable or overloaded"
            )
            raise self.fail(
                f"{endpoint} kept failing ({exc.reason}); gave up after {attempts} attempts and "
                f"{waited:.0f}s of waiting: {fix}; {self.try_again}"
            ) from None

    def _attempt(
        self,
        endpoint: str,
        send: Callable[[], HttpAnswer],
        lanes: Sequence[str],
        expect: Callable[[Any], bool] | None,
        parse: Callable[[HttpAnswer], Any] | None = None,
    ) -> Reply:
        self._check_cancelled()
        self._check_daily_cap(endpoint)
        self.throttle.acquire(lanes)
        self._check_cancelled()
        self.requests += 1
        self.stats_for(self.stream).requests += 1
        try:
            answer = send()
        except ConnectionTrouble as exc:
            raise _Retryable(f"{CONNECTION_PROBLEM}: {exc}") from None
        except ConfigTrouble as exc:
            raise self.fail(f"{endpoint} could not be reached: {exc}") from None
        limits = self.dialect.limits(answer)
        self.throttle.observe(limits)
        if limits.daily_max and self.daily_cap is None:
            self.daily_max = limits.daily_max
            self.daily_cap = max(1, math.floor(limits.daily_max * self.max_daily_share))
        if limits.daily_used is not None and limits.daily_max:
            self.account_used, self.account_max = limits.daily_used, limits.daily_max
        if 200 <= answer.status < 300:
            try:
                data = parse(answer) if parse is not None else answer.json()
            except (ValueError, UnicodeDecodeError):
                kind = "body" if parse is not None else "JSON body"
                raise _Retryable(f"HTTP {answer.status} with a malformed {kind}") from None
            if expect is not None and not expect(data):
                raise _Retryable(f"HTTP {answer.status} with an answer of unexpected shape")
            return Reply(answer.status, answer.headers, data)
        self._raise_for(endpoint, answer, lanes)
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_for(self, endpoint: str, answer: HttpAnswer, lanes: Sequence[str]) -> None:
        status = answer.status
        retry_after = _retry_after_s(answer.headers.get("retry-after"))
        if status == 429:
            if self.dialect.is_daily_limit(answer):
                raise self.fail(
                    f"{endpoint} answered HTTP 429: the daily API allowance is spent "
                    f"({answer.message()}); run the sync again after the allowance resets"
                )
            wait = retry_after
            if wait is None:
                wait = self.dialect.short_limit_wait(answer)
            if wait is None:
                wait = self.throttle.full_window_wait(lanes)
            self.throttle.block(lanes, wait)
            raise _Retryable("HTTP 429 rate limited", wait)
        if status == 423:
            wait = max(self.retry.locked_wait_s, retry_after or 0.0)
            raise _Retryable("HTTP 423 locked", wait)
        if status in self.retry.retry_statuses:
            raise _Retryable(f"HTTP {status}", retry_after)
        refused = self.fail(
            f"{endpoint} answered HTTP {status} ({answer.message()}): "
            f"{self.dialect.fix_for(answer, endpoint)}"
        )
        raise RefusedError(str(refused), status, answer)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = self.retry.backoff(state.attempt_number, self.rng)
        if isinstance(exc, _Retryable) and exc.wait_s is not None:
            # The CRM said how long (Retry-After, 423, the rate-limit window): obey it, plus
            # a little jitter so parallel clients do not return in lockstep.
            return exc.wait_s + self.rng.uniform(0, min(1.0, self.retry.base_wait_s))
        return backoff

    def _before_sleep(self, endpoint: str, state: RetryCallState) -> None:
        self.retries += 1
        self.stats_for(self.stream).retries += 1
        exc = state.outcome.exception() if state.outcome else None
        reason = exc.reason if isinstance(exc, _Retryable) else repr(exc)
        log.warning(
            self.redactor(
                f"{self.dialect.source} {self.stream}: {endpoint} {reason}; retry "
                f"{state.attempt_number}/{self.retry.attempts - 1} in "
                f"{state.upcoming_sleep or 0:.1f}s"
            ),
            extra={
                "event": {
                    "event": "retry",
                    "source": self.dialect.source,
                    "stream": self.stream,
                    "endpoint": endpoint,
                    "reason": self.redactor(reason),
                    "attempt": state.attempt_number,
                    "wait_s": round(state.upcoming_sleep or 0.0, 3),
                }
            },
        )

    def _check_daily_cap(self, endpoint: str) -> None:
        """Stop before this source's requests in 24 hours pass its share of the allowance.

        The CRM's allowance is shared with every other integration of the account, so the
        share is counted over this source's own runs (``sync_runs``), not the CRM's
        remaining count, which others spend too.
        """
        self._check_account_share(endpoint)
        if self.daily_cap is None or self.used_earlier + self.requests < self.daily_cap:
            return
        raise self.fail(
            f"stopped before {endpoint}: this sync has made {self.requests} requests, "
            f"{self.used_earlier + self.requests} in 24 hours, its share of the daily API "
            f"allowance (SLA_AUDIT_MAX_DAILY_SHARE={self.max_daily_share:g} of "
            f"{self.daily_max}); the next run resumes here, or raise the share"
        )

    def _check_account_share(self, endpoint: str) -> None:
        """Stop once the account has less than its free share left (every integration's use).

        Only for CRMs whose answers state the account-wide usage (``RateLimits.daily_used``).
        The org's other integrations need their part of the day's allowance: a sync stops
        while ``min_free_share`` of it is still left, whoever spent the rest. What this tool
        itself may use is :meth:`_check_daily_cap`'s business, counted over its own runs.
        """
        used, most = self.account_used, self.account_max
        if used is None or not most or used < most * (1 - self.min_free_share):
            return
        raise self.fail(
            f"stopped before {endpoint}: the account has used {used} of its {most} daily API "
            f"requests ({used / most:.0%}; {self.requests} by this sync), and a sync leaves "
            f"{self.min_free_share:.0%} of them to the org's other integrations "
            f"(SLA_AUDIT_MIN_FREE_SHARE={self.min_free_share:g}); the next run resumes here "
            "once the allowance resets"
        )


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds form; an HTTP date is treated as absent)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
