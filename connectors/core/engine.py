"""The sync machinery every connector shares: streams as data, one engine to run them.

A connector (HubSpot now, Salesforce next) declares *streams*; each says how to fetch
one page for a cursor, how to map it to snapshot rows and what the cursor becomes. The
engine does the rest, once, for all of them:

* **commit order** — every page goes through :meth:`SnapshotStore.write_page`, which
  writes the rows and moves the cursor in one transaction; nothing else moves a cursor,
  so a sync killed at any instant resumes from the last committed page;
* **retries** (tenacity) — 429 (Retry-After, else the rate-limit window), 423, 5xx
  gateway errors, connection resets and truncated or malformed JSON, with exponential
  backoff and jitter, bounded in attempts *and* in total waiting;
* **throttling** — a rolling window per rate limit ("lane"), sized from the limit
  headers once the CRM sends them, with a safety margin, so a long sync never meets 429;
* **accounting** — requests, retries and records per stream, a ``sync_runs`` row per
  run, progress callbacks, and errors that are one redacted line naming what failed,
  where, and the fix;
* **pipelining** — a stream that allows it is read one page ahead by a worker thread
  (fetch, map, next cursor) while the engine writes the page before; SQLite and the
  sockets release the interpreter lock, so the CRM's latency, our mapping and the
  snapshot's writes overlap instead of adding up. Only the worker speaks to the CRM
  while a stream runs, the pages are written in order by the engine's thread, and any
  error of the worker is raised there, after the pages before it are committed.

Client libraries stay in the connectors: a connector hands the engine a ``send``
callable that performs one HTTP exchange and returns an :class:`HttpAnswer` (or raises
:class:`ConnectionTrouble`), so the engine never needs to know which library spoke.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import random
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from config.redact import Redactor
from snapshot.instants import format_instant
from snapshot.quality import future_issues
from snapshot.store import Page, SnapshotStore, describe_snapshot_error

log = logging.getLogger(__name__)

CONNECTION_PROBLEM = "connection problem"

ProgressCallback = Callable[[str, int, int | None], None]
"""``progress(stream, done, total)``: records committed so far; ``total`` None if unknown."""


# ------------------------------------------------------------------------------- errors


class SyncError(Exception):
    """A sync that could not finish. ``str(error)`` is one redacted line: what, where, fix."""


class RefusedError(SyncError):
    """The CRM refused a call for good (401, 403, 400…); ``status`` says which.

    ``answer`` is the refusal itself, for a connector that can act on one particular
    refusal (Salesforce's QUERY_TIMEOUT: narrow the query window and ask again).
    """

    def __init__(self, message: str, status: int, answer: HttpAnswer | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer


class ConnectionTrouble(Exception):
    """The exchange produced no complete HTTP answer (refused, reset, timed out, cut short)."""


class ConfigTrouble(Exception):
    """The exchange failed for a reason no retry cures (e.g. a TLS certificate problem)."""


class RecordError(Exception):
    """A record the CRM sent cannot be stored faithfully (e.g. a timestamp that is no instant).

    Raised by a stream's mapping; the engine turns it into a :class:`SyncError` naming the
    stream, and the message itself names the object type, record id and field.
    """


class Cancelled(Exception):
    """The engine no longer wants this page: raised in a prefetching worker before it
    sends (or retries) a request after the sync stopped, so it ends without one more."""


class _Retryable(Exception):
    """An attempt that may succeed if repeated; ``wait_s`` is the least the CRM asked for."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


# ------------------------------------------------------------------------------ answers


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP exchange as the engine sees it: status, headers (lower-cased), raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(
        cls, status: int, headers: Mapping[str, Any] | None, body: bytes | str | None
    ) -> HttpAnswer:
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return cls(status, lowered, raw)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def message(self, limit: int = 200) -> str:
        """The CRM's own error message if the body carries one, else a short body excerpt."""
        try:
            data = self.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        text = ""
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or "")
        elif isinstance(data, list) and data and isinstance(data[0], dict):
            text = str(data[0].get("message") or "")
        if not text:
            text = self.body[:limit].decode("utf-8", "replace")
        text = " ".join(text.split())
        return text[:limit]


@dataclass(frozen=True)
class Reply:
    """A successful answer, parsed: what a stream's ``fetch`` gets back."""

    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True)
class RateLimits:
    """What one answer's headers say about the CRM's limits (None = not stated)."""

    window_max: int | None = None
    window_remaining: int | None = None
    window_ms: int | None = None
    daily_max: int | None = None
    daily_remaining: int | None = None
    daily_used: int | None = None
    """Requests the whole account has made today, by every integration (Salesforce's
    ``Sforce-Limit-Info: api-usage=used/max``); when stated, the sync also stops once
    ``daily_used / daily_max`` reaches its share, so it never starves the others."""


class CrmDialect(Protocol):
    """What the engine must ask a connector about its CRM's answers and errors."""

    source: str

    def limits(self, answer: HttpAnswer) -> RateLimits: ...

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        """A 429 that only the next day cures: never retried."""
        ...

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        """The wait a 429 from a short (per-second) limit needs, or None if it is not one."""
        ...

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        """How a user fixes this non-retryable answer (the end of the one-line error)."""
        ...

    def unreachable_fix(self) -> str:
        """What to check when the CRM could not be reached at all, after every retry."""
        ...


# -------------------------------------------------------------------------------- clock


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


# ------------------------------------------------------------------------------- policy


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


@dataclass(frozen=True)
class ThrottlePolicy:
    """Client-side pacing. ``enabled=False`` still tracks requests (for 429 waits)."""

    window_max: int = 190
    window_s: float = 10.0
    margin_share: float = 0.05
    margin_min: int = 2
    search_per_s: int = 4
    enabled: bool = True


@dataclass(frozen=True)
class SyncOptions:
    """Knobs a caller may turn; the defaults are what a nightly production sync uses.

    ``lookback`` is how far before its high-water mark an incremental run starts again:
    it covers the CRM's search index lagging behind writes and small clock skew, at the
    price of re-reading the last few minutes of changes.
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    lookback: timedelta = timedelta(minutes=10)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0


class _stop_when_waited(stop_base):
    """Stop before the total of waits would pass ``limit`` (virtual-clock friendly)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return retry_state.idle_for + upcoming > self.limit


# ----------------------------------------------------------------------------- throttle


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


# -------------------------------------------------------------------------------- stats


@dataclass
class StreamStats:
    """What one stream did in one run."""

    records: int = 0
    requests: int = 0
    retries: int = 0
    pages: int = 0
    expected: int | None = None
    gaps: int = 0
    """Records kept with a field left empty because the CRM's value was unusable."""
    duration_s: float = 0.0


@dataclass
class SyncSummary:
    """The outcome of a finished sync (also written to ``sync_runs``)."""

    source: str
    run_id: int
    records: int
    requests: int
    retries: int
    duration_s: float
    streams: dict[str, StreamStats] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary a cron log shows."""
        return (
            f"{self.source}: {self.records} records in {self.requests} requests "
            f"({self.retries} retries) in {self.duration_s:.1f}s"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -------------------------------------------------------------------------------- api


class Api:
    """Every request of a run goes through :meth:`call`: throttle, count, retry, parse."""

    def __init__(
        self,
        dialect: CrmDialect,
        *,
        clock: Clock,
        redactor: Redactor,
        retry: RetryPolicy | None = None,
        throttle: ThrottlePolicy | None = None,
        max_daily_share: float = 1.0,
        rng: random.Random | None = None,
    ) -> None:
        self.dialect = dialect
        self.clock = clock
        self.redactor = redactor
        self.retry = retry or RetryPolicy()
        self.throttle = Throttle(throttle or ThrottlePolicy(), clock)
        self.max_daily_share = max_daily_share
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
                f"{waited:.0f}s of waiting: {fix}; run the sync again later (it resumes where "
                "it stopped)"
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
        """Stop once the account's own count (every integration's requests) reaches the share.

        Only for CRMs whose answers state the account-wide usage (``RateLimits.daily_used``):
        there the share caps what the account has spent in total, so a sync started late in
        a busy day stops early instead of eating the allowance other integrations need.
        """
        used, most = self.account_used, self.account_max
        if used is None or not most or used < most * self.max_daily_share:
            return
        raise self.fail(
            f"stopped before {endpoint}: the account has used {used} of its {most} daily API "
            f"requests ({used / most:.0%}; {self.requests} by this sync), at or past the share "
            f"a sync may take counting other integrations (SLA_AUDIT_MAX_DAILY_SHARE="
            f"{self.max_daily_share:g}); the next run resumes here, or raise the share"
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


# ------------------------------------------------------------------------------ cursor


@dataclass(frozen=True)
class Cursor:
    """A stream's position, stored as JSON in ``sync_state.cursor``.

    ``mode`` is ``"full"`` (a list scan: ``after`` is the CRM's paging token and
    ``started`` the scan's start instant), ``"incremental"`` (``since`` is the lower bound
    of the next change query and ``ties`` how many records *at* ``since`` were already
    taken), or ``"complete"`` (a scan that runs from scratch every time has finished).
    ``scanning`` tells a resumed run whether it is in the middle of a scan; ``floor`` is
    the ``since`` a running incremental scan began from; ``phase`` is the part of a
    multi-part stream (e.g. active, then archived owners); ``job`` names a server-side
    job whose result pages ``after`` walks (a Salesforce Bulk API query job).
    """

    mode: str
    after: str | None = None
    started: str | None = None
    since: str | None = None
    ties: int = 0
    phase: str | None = None
    scanning: bool = False
    floor: str | None = None
    job: str | None = None

    def encode(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, 0, False)}
        data["mode"] = self.mode
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError):
            # An unreadable cursor (older format, hand edit) restarts the stream with a
            # full scan: slower, never wrong.
            log.warning("unreadable cursor %r: the stream restarts with a full scan", text[:80])
            return None


# ------------------------------------------------------------------------------ streams


@dataclass
class Batch:
    """What one ``fetch`` brought back: the records and anything ``advance`` needs."""

    records: list[dict[str, Any]]
    next_after: str | None = None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Advance:
    """The cursor after a page and whether the stream is finished for this run."""

    cursor: Cursor
    done: bool


class Stream(ABC):
    """One CRM object as a declaration (singer-sdk style): fetch, map, advance.

    The engine calls ``open`` once, then ``fetch`` → ``to_page`` → ``advance`` per page
    and commits each page with its new cursor before fetching the next.
    """

    name: str

    @abstractmethod
    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        """Where this run starts, given the stored cursor (None the first time).

        ``store`` is for reading only (e.g. which records are already marked deleted);
        rows reach the snapshot solely through the engine's ``write_page``.
        """

    @abstractmethod
    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        """One page from the CRM (with any follow-up reads the page needs)."""

    @abstractmethod
    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        """Snapshot rows for the batch; raise :class:`RecordError` for a record to refuse."""

    @abstractmethod
    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        """The cursor to commit with this page."""

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Whether this run of the stream (from ``cursor``, as ``open`` returned it) may
        be read one page ahead, in a worker thread, while the engine writes.

        Only if ``fetch``, ``to_page`` and ``advance`` never read the snapshot (the
        store's connection belongs to the engine's thread, and the page before may not
        be committed yet) nor touch state the engine's thread uses. They still run in
        their usual order, one page at a time. Off unless a stream says so.
        """
        return False


class Connector(Protocol):
    """A CRM: the dialect of its answers, its streams, and a setup step."""

    dialect: CrmDialect

    def streams(self) -> list[Stream]: ...

    def prepare(self, api: Api) -> None:
        """Anything to learn once per run before the streams (e.g. the portal id)."""
        ...


# -------------------------------------------------------------------------------- pages

PREFETCH_PAGES = 2
"""Pages a worker may have ready ahead of the one being written (bounds memory, and the
requests a failed write leaves unused)."""

STOP_WAIT_S = 5.0
"""How long a stopping sync waits for its worker's request in flight to end."""


@dataclass(frozen=True)
class ReadyPage:
    """One page fetched and mapped, waiting to be written with the cursor after it."""

    page: Page
    step: Advance
    total: int | None


def read_page(stream: Stream, api: Api, cursor: Cursor, stats: StreamStats) -> ReadyPage:
    """Fetch, map and advance one page: everything before its write, in that order."""
    batch = stream.fetch(api, cursor)
    try:
        page = stream.to_page(batch, stats)
    except RecordError as exc:
        raise api.fail(f"{exc}") from None
    page.issues.extend(future_issues(page, api.clock.now()))
    return ReadyPage(page, stream.advance(cursor, batch), batch.total)


def read_in_turn(
    stream: Stream, api: Api, cursor: Cursor, stats: StreamStats
) -> Iterator[ReadyPage]:
    """The stream's pages, each read only once the one before has been written."""
    while True:
        ready = read_page(stream, api, cursor, stats)
        yield ready
        if ready.step.done:
            return
        cursor = ready.step.cursor


class Prefetcher:
    """The stream's pages, read by a worker thread up to :data:`PREFETCH_PAGES` ahead.

    The worker runs :func:`read_page` page after page — the stream's fetch, map and
    advance in the order :func:`read_in_turn` calls them, so every request is one a sync
    without the worker makes (a refused record stops the stream before the next fetch,
    as before). Only the writes move: the engine's thread writes page n while the worker
    reads page n + 1, so the writes overlap the CRM's latency and the sockets.

    They overlap little else: SQLite's ``executemany`` gives up the interpreter lock for
    every row, and while the worker runs Python the writer gets it back only at the
    switch interval — writer and mapping mostly take turns. Measured on the sandbox
    (20,000 leads), mapping in the worker still beats mapping in the writer's thread
    (with only the fetch ahead, 10–25 % fewer rows a second); a shorter switch interval
    gained nothing.

    Iterating yields the pages in order and raises the worker's exception, unchanged,
    where the engine would have met it: after the pages before it are written.
    :meth:`close` stops the worker before its next request.
    """

    def __init__(self, stream: Stream, api: Api, cursor: Cursor, stats: StreamStats) -> None:
        self.stream = stream
        self.api = api
        self.cursor = cursor
        self.stats = stats
        self.ready: queue.Queue[ReadyPage | BaseException] = queue.Queue(PREFETCH_PAGES)
        self.cancel = threading.Event()
        self.thread = threading.Thread(
            target=self._work, name=f"prefetch {stream.name}", daemon=True
        )
        self.thread.start()

    def _work(self) -> None:
        """Read pages until the last one, an error, or cancellation."""
        self.api.cancel_with(self.cancel)
        cursor = self.cursor
        while not self.cancel.is_set():
            try:
                ready = read_page(self.stream, self.api, cursor, self.stats)
            except Cancelled:
                return
            except BaseException as exc:  # handed to the engine's thread, raised there
                self._hand_over(exc)
                return
            if not self._hand_over(ready) or ready.step.done:
                return
            cursor = ready.step.cursor

    def _hand_over(self, item: ReadyPage | BaseException) -> bool:
        """Queue ``item``, waiting while the queue is full; False if cancelled meanwhile."""
        while not self.cancel.is_set():
            try:
                self.ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[ReadyPage]:
        while True:
            item = self.ready.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.step.done:
                return

    def close(self) -> None:
        """Stop the worker (no new request starts) and wait briefly for it to end.

        A request already in flight is counted in ``api.requests``; it is waited for up to
        :data:`STOP_WAIT_S`, after which the daemon worker is left to end by itself.
        """
        self.cancel.set()
        while True:
            try:
                self.ready.get_nowait()
            except queue.Empty:
                break
        self.thread.join(STOP_WAIT_S)


# ------------------------------------------------------------------------------- engine


def run_sync(
    connector: Connector,
    store: SnapshotStore,
    api: Api,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    prefetch: bool | None = None,
) -> SyncSummary:
    """Run every stream of ``connector`` into ``store``; one ``sync_runs`` row records it.

    Any failure ends the run with status ``error`` and a :class:`SyncError` whose text is
    one redacted line; committed pages stay committed, so the next run resumes.

    ``prefetch``: read the streams that allow it (:meth:`Stream.can_prefetch`) a page
    ahead (see :class:`Prefetcher`). By default only without a ``progress`` callback:
    the callback runs between a page's commit and the request for the next one, so a
    caller may stop the sync or change the CRM there and know the next request comes
    after it; a caller whose callback only displays progress may pass ``True``.
    """
    if prefetch is None:
        prefetch = progress is None
    source = connector.dialect.source
    redactor = api.redactor
    started = api.clock.monotonic()
    api.used_earlier = requests_in_last_day(store, source, api.clock.now())
    run_id = store.start_run(source)
    records = 0

    def finish(status: str, error: str | None = None) -> None:
        try:
            store.finish_run(
                run_id,
                status=status,
                records=records,
                requests=api.requests,
                retries=api.retries,
                error=error,
            )
        except sqlite3.Error:
            # A full disk or a read-only file refuses this row too; the run's own error
            # says why, and the next run marks this one interrupted.
            if status == "ok":
                raise
            log.debug("could not record the end of sync run %s", run_id, exc_info=True)

    try:
        api.stream = "setup"
        connector.prepare(api)
        for stream in connector.streams():
            api.stream = stream.name
            stats = api.stats_for(stream.name)
            stored = Cursor.decode(store.cursor(source, stream.name))
            cursor = stream.open(stored, full=full, api=api, store=store)
            if progress:
                progress(stream.name, 0, None)
            stream_started = api.clock.monotonic()
            ahead = (
                Prefetcher(stream, api, cursor, stats)
                if prefetch and stream.can_prefetch(cursor)
                else None
            )
            pages = ahead if ahead is not None else read_in_turn(stream, api, cursor, stats)
            try:
                for ready in pages:
                    if ready.total is not None and stats.expected is None:
                        stats.expected = ready.total
                    step = ready.step
                    written = store.write_page(
                        source, stream.name, ready.page, step.cursor.encode()
                    )
                    records += written
                    stats.records += written
                    stats.pages += 1
                    if progress:
                        progress(stream.name, stats.records, stats.expected)
            finally:
                if ahead is not None:
                    ahead.close()
            stats.duration_s += api.clock.monotonic() - stream_started
            _note_shortfall(source, stream.name, stats)
            _log_stream(source, stream.name, stats)
    except SyncError as exc:
        message = redactor(str(exc))
        finish("error", message)
        raise SyncError(message) from None
    except Exception as exc:
        described = describe_snapshot_error(store.path, exc) if _is_storage(exc) else None
        message = redactor(
            f"{source} sync stopped in {api.stream}: "
            f"{described or f'{type(exc).__name__}: {exc}'}; committed "
            "pages are kept and the next run resumes from them"
        )
        message = " ".join(message.split())
        finish("error", message)
        log.debug("sync stopped by an unexpected error", exc_info=True)
        raise SyncError(message) from exc
    except BaseException:
        finish("error", f"{source} sync interrupted in {api.stream}; the next run resumes")
        raise
    finish("ok")
    return SyncSummary(
        source=source,
        run_id=run_id,
        records=records,
        requests=api.requests,
        retries=api.retries,
        duration_s=api.clock.monotonic() - started,
        streams=dict(api.stats),
    )


def requests_in_last_day(store: SnapshotStore, source: str, now: datetime) -> int:
    """What this source's runs spent in the 24 hours before ``now``."""
    since = format_instant(now - timedelta(days=1))
    row = store.db.execute(
        "select coalesce(sum(requests), 0) from sync_runs where source = ? and started_at >= ?",
        [source, since],
    ).fetchone()
    return int(row[0])


def _is_storage(exc: BaseException) -> bool:
    """An error of the snapshot file rather than of the CRM or of our code."""
    return isinstance(exc, sqlite3.Error | OSError) and not isinstance(exc, ConnectionError)


def _log_stream(source: str, stream: str, stats: StreamStats) -> None:
    """One line per finished stream; ``--log-json`` turns ``event`` into JSON fields."""
    log.info(
        "%s %s: %d records in %d requests (%d retries) in %.1fs",
        source,
        stream,
        stats.records,
        stats.requests,
        stats.retries,
        stats.duration_s,
        extra={
            "event": {
                "event": "stream",
                "source": source,
                "stream": stream,
                "records": stats.records,
                "requests": stats.requests,
                "retries": stats.retries,
                "pages": stats.pages,
                "gaps": stats.gaps,
                "duration_s": round(stats.duration_s, 3),
            }
        },
    )


def _note_shortfall(source: str, stream: str, stats: StreamStats) -> None:
    """Say so when a change query delivered fewer records than the CRM announced, and
    when records were kept with a field left empty."""
    if stats.gaps:
        log.warning(
            "%s %s: %d records kept with an unusable value left empty (e.g. a duration that "
            "is not a number)",
            source,
            stream,
            stats.gaps,
        )
    if stats.expected is not None and stats.records < stats.expected:
        log.warning(
            "%s %s: the CRM announced %d changed records, %d arrived (records changed or "
            "were deleted during the sync; the next run re-reads from the same point)",
            source,
            stream,
            stats.expected,
            stats.records,
        )


def chunked(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
