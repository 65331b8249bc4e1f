"""The shared engine on canned exchanges: retry policy, throttle, errors, commit order.

No HTTP here: ``send`` callables return :class:`HttpAnswer` s directly, and a virtual
clock makes every wait instant while recording how long the engine would have slept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.redact import Redactor
from connectors.core import (
    Api,
    ConnectionTrouble,
    HttpAnswer,
    RefusedError,
    RetryPolicy,
    SyncError,
    ThrottlePolicy,
    run_sync,
)
from snapshot.store import SnapshotStore
from tests.conftest import VirtualClock
from tests.fake_source import FakeConnector, FakeDialect, OwnerPages, ok

TOKEN = "pat-na1-abcdef-123456"


def status(code: int, body: str = '{"message": "nope"}', **headers: str) -> HttpAnswer:
    return HttpAnswer.of(code, {k.replace("_", "-"): v for k, v in headers.items()}, body)


def script(*answers: HttpAnswer | Exception) -> Callable[[], HttpAnswer]:
    queue: Iterator[HttpAnswer | Exception] = iter(answers)

    def send() -> HttpAnswer:
        item = next(queue)
        if isinstance(item, Exception):
            raise item
        return item

    return send


def make_api(clock: VirtualClock, **kwargs: Any) -> Api:
    return Api(FakeDialect(), clock=clock, redactor=Redactor([TOKEN]), **kwargs)


def test_gateway_errors_resets_and_bad_json_are_retried_until_an_answer_comes() -> None:
    clock = VirtualClock()
    api = make_api(clock)
    send = script(
        status(502),
        ConnectionTrouble("ConnectionResetError: reset by peer"),
        HttpAnswer.of(200, {}, b'{"results": [1, 2'),
        ok({"results": [1]}),
    )
    reply = api.call("GET /x", send)
    assert reply.data == {"results": [1]}
    # 4 requests, 3 retries, each wait an exponential step with jitter: 0.25–0.5, 0.5–1, 1–2 s
    assert (api.requests, api.retries) == (4, 3)
    lows, highs = [0.25, 0.5, 1.0], [0.5, 1.0, 2.0]
    assert all(lo <= s <= hi for s, lo, hi in zip(clock.sleeps, lows, highs, strict=True))


def test_retry_after_on_429_is_obeyed() -> None:
    clock = VirtualClock()
    api = make_api(clock)
    api.call("GET /x", script(status(429, Retry_After="7"), ok()))
    assert 7.0 <= clock.sleeps[-1] <= 7.5


def test_429_without_retry_after_waits_for_the_window() -> None:
    clock = VirtualClock()
    api = make_api(clock, throttle=ThrottlePolicy(window_max=10, window_s=10.0, enabled=False))
    api.call("GET /x", script(ok()))
    clock.t = 4.0
    api.call("GET /x", script(status(429), ok()))
    # Our first request (at t=0) leaves the 10 s window at t=10: six seconds from t=4.
    assert pytest.approx(clock.t, abs=0.6) == 10.0


def test_locked_423_waits_at_least_two_seconds() -> None:
    clock = VirtualClock()
    api = make_api(clock)
    api.call("GET /x", script(status(423), ok()))
    assert clock.sleeps[0] >= 2.0


def test_401_ends_at_once_with_one_line_naming_the_call_and_the_fix() -> None:
    clock = VirtualClock()
    api = make_api(clock)
    api.stream = "contacts"
    body = json.dumps({"message": f"Authentication credentials not found: Bearer {TOKEN}"})
    with pytest.raises(RefusedError) as caught:
        api.call("GET /crm/v3/objects/contacts", script(status(401, body)))
    message = str(caught.value)
    assert "\n" not in message
    assert "contacts" in message and "GET /crm/v3/objects/contacts" in message
    assert "HTTP 401" in message and "FAKE_TOKEN" in message
    assert TOKEN not in message
    assert api.requests == 1 and clock.sleeps == []


def test_retries_are_bounded_in_attempts() -> None:
    clock = VirtualClock()
    api = make_api(clock, retry=RetryPolicy(attempts=3))
    with pytest.raises(SyncError, match=r"kept failing \(HTTP 503\); gave up after 3 attempts"):
        api.call("GET /x", script(status(503), status(503), status(503)))
    assert api.requests == 3


def test_an_unreachable_crm_is_named_with_what_to_check() -> None:
    api = make_api(VirtualClock(), retry=RetryPolicy(attempts=2))
    refused = ConnectionTrouble("NewConnectionError: [Errno 111] Connection refused")
    with pytest.raises(SyncError, match=r"gave up after 2 attempts .*: check FAKE_URL; run"):
        api.call("GET /x", script(refused, refused))


def test_retries_are_bounded_in_total_wait() -> None:
    clock = VirtualClock()
    api = make_api(clock, retry=RetryPolicy(attempts=10, max_total_wait_s=30))
    with pytest.raises(SyncError, match="gave up after 1 attempts"):
        api.call("GET /x", script(status(429, Retry_After="600")))
    assert clock.sleeps == []


def test_daily_429_is_not_retried() -> None:
    api = make_api(VirtualClock())
    with pytest.raises(SyncError, match="daily API allowance"):
        api.call("GET /x", script(status(429, '{"policyName": "DAILY"}')))


def send_times(
    api: Api,
    clock: VirtualClock,
    endpoint: str,
    calls: int,
    headers: dict[str, str] | None = None,
    **call_options: Any,
) -> list[float]:
    """Call ``endpoint`` ``calls`` times, each answered 200 with ``headers``; the virtual
    instant each request went out at."""
    sent: list[float] = []

    def send() -> HttpAnswer:
        sent.append(clock.t)
        return ok(**(headers or {}))

    for _ in range(calls):
        api.call(endpoint, send, **call_options)
    return sent


def busiest_window(sent: list[float], seconds: float) -> int:
    """The most requests sent within any ``seconds``-long window."""
    return max(sum(1 for s in sent if t - seconds < s <= t) for t in sent)


def test_throttle_keeps_every_ten_second_window_under_the_budget() -> None:
    clock = VirtualClock()
    sent = send_times(make_api(clock), clock, "GET /x", 100, {"x-max": "20", "x-remaining": "19"})
    # Budget 20 per 10 s minus a reserve of 2: at most 18 requests in any 10 s window.
    assert busiest_window(sent, 10) <= 18
    assert clock.t < 60


def test_searches_stay_at_four_per_second() -> None:
    clock = VirtualClock()
    sent = send_times(make_api(clock), clock, "POST /search", 20, lanes=("app", "search"))
    assert busiest_window(sent, 1) == 4


def test_the_daily_share_caps_the_run() -> None:
    api = make_api(VirtualClock(), max_daily_share=0.5)
    send = lambda: ok(**{"x-daily": "6"})  # noqa: E731
    for _ in range(3):
        api.call("GET /x", send)
    with pytest.raises(SyncError, match=r"SLA_AUDIT_MAX_DAILY_SHARE=0\.5"):
        api.call("GET /x", send)


# ------------------------------------------------------------------------- run_sync


def test_a_run_killed_after_a_page_resumes_from_the_next_page(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "s.db")
    seen: list[int] = []

    def stop_after_first_page(stream: str, done: int, total: int | None) -> None:
        seen.append(done)
        if done == 2:
            raise KeyError("killed")

    with pytest.raises(SyncError, match="KeyError"):
        run_sync(
            FakeConnector(OwnerPages()),
            store,
            make_api(VirtualClock()),
            progress=stop_after_first_page,
        )
    assert store.count("owners") == 2
    assert json.loads(store.cursor("fake", "numbers") or "")["after"] == "1"

    api = make_api(VirtualClock())
    summary = run_sync(FakeConnector(OwnerPages()), store, api)
    assert (summary.records, summary.requests) == (4, 2)  # pages 1 and 2 only
    assert store.count("owners") == 6
    runs = list(store.db["sync_runs"].rows)
    assert [r["status"] for r in runs] == ["error", "ok"]
    assert "KeyError" in runs[0]["error"] and runs[0]["records"] == 2
