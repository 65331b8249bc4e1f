"""Reading a stream's pages: in turn, or one page ahead in a worker thread (pipelining).

A stream that allows it is read one page ahead by a worker thread (fetch, map, next
cursor) while the engine writes the page before; SQLite and the sockets release the
interpreter lock, so the CRM's latency, our mapping and the snapshot's writes overlap
instead of adding up. Only the worker speaks to the CRM while a stream runs, the pages
are written in order by the engine's thread, and any error of the worker is raised there,
after the pages before it are committed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from connectors.core.errors import Cancelled, RecordError
from connectors.core.http import Api
from connectors.core.stats import StreamStats
from connectors.core.stream import Advance, Cursor, Stream
from snapshot.quality import future_issues
from snapshot.store import Page

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
    switch interval — writer and mapping mostly take turns. Mapping in the worker still
    writes more rows a second than mapping in the writer's thread with only the fetch
    ahead, and a shorter switch interval gained nothing (measured with the sandbox's
    sync benchmark, ``benchmarks/sync_bench.py``).

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
