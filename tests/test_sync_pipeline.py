"""The engine's fetch-ahead: page n + 1 is fetched while page n is written, and nothing
else changes — same rows, same requests, same errors at the same point, pages committed
in order with their cursors.

The first half runs the engine on canned streams (no HTTP), the second a real HubSpot
sync against the sandbox with and without the worker.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.redact import Redactor
from config.settings import Settings
from connectors.core import (
    PREFETCH_PAGES,
    Advance,
    Api,
    Batch,
    Cancelled,
    Cursor,
    HttpAnswer,
    RecordError,
    StreamStats,
    SyncError,
    ThrottlePolicy,
    run_sync,
)
from connectors.hubspot import HubSpotConnector, HubSpotTransport
from sandbox.generator import CRM
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.store import Page, SnapshotStore
from tests.conftest import HUBSPOT_TOKEN, VirtualClock, add_connected_call, full_dump
from tests.fake_source import FakeConnector, FakeDialect, OwnerPages, ok

SEARCH_PAUSE_S = 1.1
"""Between syncs: the sandbox still counts the last run's searches in its one-second window."""

PAGES = 4


class Pages(OwnerPages):
    """``PAGES`` pages of two owners each; the cursor is the next page number.

    ``events`` records, in order, each call the stream gets and the thread it runs in;
    ``fail_fetch`` / ``fail_map`` make page n's fetch or mapping raise.
    """

    name = "pages"
    endpoint = "GET /pages"
    pages = PAGES

    def __init__(
        self,
        *,
        prefetch: bool = True,
        fail_fetch: dict[int, Callable[[Api], BaseException]] | None = None,
        fail_map: int | None = None,
        on_fetch: Callable[[int], None] | None = None,
    ) -> None:
        self.prefetch = prefetch
        self.fail_fetch = fail_fetch or {}
        self.fail_map = fail_map
        self.on_fetch = on_fetch
        self.events: list[tuple[str, int, str]] = []

    def _log(self, what: str, page: int) -> None:
        self.events.append((what, page, threading.current_thread().name))

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        page = int(cursor.after or 0)
        self._log("fetch", page)
        if self.on_fetch:
            self.on_fetch(page)
        try:
            batch = super().fetch(api, cursor)
        except Cancelled:
            # The engine stopped between this log line and the request: nothing was sent.
            self._log("cancelled", page)
            raise
        if page in self.fail_fetch:
            raise self.fail_fetch[page](api)
        return batch

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        page = batch.records[0] // 2
        self._log("map", page)
        if page == self.fail_map:
            raise RecordError(f"fake record {batch.records[0]} has when='soon'")
        return super().to_page(batch, stats)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        self._log("advance", batch.records[0] // 2)
        return super().advance(cursor, batch)

    def can_prefetch(self, cursor: Cursor) -> bool:
        return self.prefetch


def make_api() -> Api:
    return Api(
        FakeDialect(),
        clock=VirtualClock(),
        redactor=Redactor([]),
        throttle=ThrottlePolicy(enabled=False),
    )


class TimedStore(SnapshotStore):
    """A store that records each page's write (start and end) in the stream's events."""

    events: list[tuple[str, int, str]]
    slow: threading.Event | None = None
    fail_at: int | None = None

    def write_page(self, source: str, stream: str, page: Page, cursor: str | None) -> int:
        number = int(page.owners[0]["crm_id"]) // 2
        name = threading.current_thread().name
        self.events.append(("write", number, name))
        if self.slow is not None:
            # Page 0's write waits (up to 5 s) for the worker to start fetching page 1.
            self.slow.wait(5 if number == 0 else 0)
        if number == self.fail_at:
            raise OSError(28, "No space left on device")
        written = super().write_page(source, stream, page, cursor)
        self.events.append(("written", number, name))
        return written


def timed_store(tmp_path: Path, stream: Pages, name: str = "s.db") -> TimedStore:
    store = TimedStore(tmp_path / name)
    store.events = stream.events
    return store


def sync(stream: Pages, store: SnapshotStore, prefetch: bool | None = None) -> Any:
    api = make_api()
    try:
        return run_sync(FakeConnector(stream), store, api, prefetch=prefetch), api
    except SyncError as exc:
        return exc, api


def calls(events: list[tuple[str, int, str]], *kinds: str) -> list[tuple[str, int]]:
    return [(what, page) for what, page, _ in events if what in kinds]


# ------------------------------------------------------------------------- canned streams


def test_the_next_page_is_fetched_while_the_page_before_is_written(tmp_path: Path) -> None:
    fetching = threading.Event()
    stream = Pages(on_fetch=lambda page: fetching.set() if page == 1 else None)
    store = timed_store(tmp_path, stream)
    store.slow = fetching

    summary, _ = sync(stream, store)

    assert (summary.records, summary.requests) == (2 * PAGES, PAGES)
    # Page 1 was fetched before page 0's write ended (which waited for it).
    events = calls(stream.events, "fetch", "write", "written")
    assert events.index(("fetch", 1)) < events.index(("written", 0))
    fetched_in = {name for what, _, name in stream.events if what == "fetch"}
    written_in = {name for what, _, name in stream.events if what == "write"}
    assert fetched_in == {"prefetch pages"} and written_in == {threading.current_thread().name}
    assert store.count("owners") == 2 * PAGES
    assert json.loads(store.cursor("fake", "pages") or "") == {"mode": "complete"}


def test_the_stream_is_called_in_the_same_order_with_and_without_the_worker(
    tmp_path: Path,
) -> None:
    ahead, serial = Pages(), Pages()
    sync(ahead, timed_store(tmp_path, ahead, "a.db"))
    sync(serial, timed_store(tmp_path, serial, "b.db"), prefetch=False)

    stream_calls = ("fetch", "map", "advance")
    assert calls(ahead.events, *stream_calls) == calls(serial.events, *stream_calls)
    # Pages are written in order, each after its own mapping.
    writes = calls(ahead.events, "written")
    assert writes == [("written", n) for n in range(PAGES)]


def test_a_progress_callback_keeps_the_sync_in_turn_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    stream = Pages()
    run_sync(
        FakeConnector(stream), timed_store(tmp_path, stream), make_api(), progress=lambda *a: None
    )
    assert {name for what, _, name in stream.events if what == "fetch"} == {
        threading.current_thread().name
    }

    stream = Pages()
    run_sync(
        FakeConnector(stream),
        timed_store(tmp_path, stream, "b.db"),
        make_api(),
        progress=lambda *a: None,
        prefetch=True,
    )
    assert {name for what, _, name in stream.events if what == "fetch"} == {"prefetch pages"}


def test_a_stream_that_does_not_allow_it_is_never_read_ahead(tmp_path: Path) -> None:
    stream = Pages(prefetch=False)
    sync(stream, timed_store(tmp_path, stream))
    assert {name for _, _, name in stream.events} == {threading.current_thread().name}


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(lambda api: api.fail("GET /pages answered HTTP 401 (no): fix it"), id="sync"),
        pytest.param(lambda api: KeyError("surprise"), id="unexpected"),
        pytest.param(lambda api: ConnectionResetError(104, "reset by peer"), id="oserror"),
    ],
)
def test_an_error_of_the_worker_surfaces_as_it_would_after_the_pages_before_it(
    tmp_path: Path, failure: Callable[[Api], BaseException]
) -> None:
    results = []
    for prefetch, name in ((True, "a.db"), (False, "b.db")):
        stream = Pages(fail_fetch={2: failure}, prefetch=prefetch)
        store = timed_store(tmp_path, stream, name)
        error, api = sync(stream, store)
        assert isinstance(error, SyncError)
        run = store.last_run("fake")
        assert run is not None
        results.append(
            (str(error), store.count("owners"), store.cursor("fake", "pages"), api.requests)
        )
        results[-1] += (run["status"], run["error"], run["records"], run["requests"])
    assert results[0] == results[1]
    message, owners, cursor, requests, status, *_ = results[0]
    assert (owners, json.loads(cursor or "")["after"], requests, status) == (4, "2", 3, "error")
    assert "\n" not in message


def test_a_refused_record_stops_the_stream_before_another_request(tmp_path: Path) -> None:
    stream = Pages(fail_map=1)
    store = timed_store(tmp_path, stream)

    error, api = sync(stream, store)

    assert str(error) == "fake sync failed in pages: fake record 2 has when='soon'"
    assert api.requests == 2  # pages 0 and 1, as without the worker
    assert calls(stream.events, "fetch") == [("fetch", 0), ("fetch", 1)]
    assert store.count("owners") == 2


def test_a_failed_write_stops_the_worker_and_keeps_the_pages_before(tmp_path: Path) -> None:
    stream = Pages()
    store = timed_store(tmp_path, stream)
    store.fail_at = 1

    error, api = sync(stream, store)

    assert "No space left on device" in str(error) or "full" in str(error)
    assert store.count("owners") == 2
    assert json.loads(store.cursor("fake", "pages") or "")["after"] == "1"
    # The worker fetched at most its queue's worth beyond the page being written, then
    # ended; every request it made is counted (a fetch the stop cancelled sent nothing).
    sent = len(calls(stream.events, "fetch")) - len(calls(stream.events, "cancelled"))
    assert api.requests == sent <= 2 + PREFETCH_PAGES
    assert not [t for t in threading.enumerate() if t.name == "prefetch pages"]
    run = store.last_run("fake")
    assert run is not None and run["requests"] == api.requests


def test_a_cancelled_worker_sends_nothing_more_and_does_not_wait_to_retry() -> None:
    api = make_api()
    cancel = threading.Event()
    api.cancel_with(cancel)
    sent: list[int] = []

    def flaky() -> HttpAnswer:
        sent.append(1)
        cancel.set()  # the engine stops while this request is in flight
        return HttpAnswer.of(503, {}, b"busy")

    with pytest.raises(Cancelled):
        api.call("GET /pages", flaky)
    assert sent == [1] and api.requests == 1
    assert api.clock.sleeps == []  # type: ignore[attr-defined]
    # Other threads are not affected by the worker's event.
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(api.call("GET /x", lambda: ok(1)).data))
    thread.start()
    thread.join()
    assert seen == [1]


# ------------------------------------------------------------------------ HubSpot sandbox


def hubspot_sync(
    settings: Settings, store: SnapshotStore, *, prefetch: bool, full: bool = False
) -> tuple[Any, set[str]]:
    """A HubSpot sync through ``run_sync``; returns its summary and the threads that sent."""
    threads: set[str] = set()
    exchange = HubSpotTransport.exchange

    def spy(self: HubSpotTransport, *args: Any, **kwargs: Any) -> HttpAnswer:
        threads.add(threading.current_thread().name)
        return exchange(self, *args, **kwargs)

    connector = HubSpotConnector(
        settings.hubspot_access_token.reveal(),  # type: ignore[union-attr]
        settings.hubspot_base_url,
    )
    api = Api(connector.dialect, clock=connector.clock, redactor=Redactor([HUBSPOT_TOKEN]))
    time.sleep(SEARCH_PAUSE_S)
    HubSpotTransport.exchange = spy  # type: ignore[method-assign]
    try:
        summary = run_sync(connector, store, api, full=full, prefetch=prefetch)
    finally:
        HubSpotTransport.exchange = exchange  # type: ignore[method-assign]
    return summary, threads


def _sync_both_ways(
    sandbox: HubSpotSandbox, settings: Settings, ahead: SnapshotStore, serial: SnapshotStore
) -> list[tuple[dict[str, int], int, int]]:
    """Sync ``ahead`` with the worker and ``serial`` without; what each asked and got."""
    counts = []
    for store, prefetch in ((ahead, True), (serial, False)):
        sandbox.reset_counters()
        summary, threads = hubspot_sync(settings, store, prefetch=prefetch)
        counts.append((dict(sandbox.requests), summary.requests, summary.records))
        assert any(t.startswith("prefetch ") for t in threads) is prefetch
    return counts


def test_a_hubspot_sync_with_the_worker_equals_one_without(
    crm: CRM, hubspot_sandbox: HubSpotSandbox, hubspot_settings: Settings, tmp_path: Path
) -> None:
    ahead, serial = SnapshotStore(tmp_path / "a.db"), SnapshotStore(tmp_path / "b.db")
    counts = _sync_both_ways(hubspot_sandbox, hubspot_settings, ahead, serial)
    assert counts[0] == counts[1]
    assert full_dump(ahead) == full_dump(serial)

    # Then an incremental run of each after the same changes: equal again.
    live = [lead for lead in crm.leads if not lead.archived]
    now = datetime.now(UTC)
    add_connected_call(crm, now, live[0].key, owner_key=3)
    crm.touch_lead(live[1].key, now + timedelta(milliseconds=1), status="CONNECTED")
    counts = _sync_both_ways(hubspot_sandbox, hubspot_settings, ahead, serial)
    assert counts[0] == counts[1]
    # Account details, 2 owner pages, 8 searches (the Leads object's too) and 7 archived
    # lists, a batch read of the changed contacts and the association read of the new call.
    assert counts[0][1] == 20
    assert full_dump(ahead) == full_dump(serial)
