"""A fake CRM for the shared sync engine, with no HTTP in between.

The engine tests (test_sync_engine.py) and the fetch-ahead tests (test_sync_pipeline.py)
drive ``Api`` and ``run_sync`` with these: the "fake" CRM's dialect, canned 200 answers, a
stream of numbered owner pages, and a connector around any streams.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.core import Advance, Api, Batch, Cursor, HttpAnswer, RateLimits, Stream, StreamStats
from snapshot.store import Page, SnapshotStore


class FakeDialect:
    """The fake CRM states its limits in ``x-max``, ``x-remaining`` and ``x-daily`` headers
    and says ``DAILY`` in the body of a 429 for its daily allowance."""

    source = "fake"

    def limits(self, answer: HttpAnswer) -> RateLimits:
        h = answer.headers
        get = lambda k: int(h[k]) if k in h else None  # noqa: E731
        return RateLimits(
            window_max=get("x-max"), window_remaining=get("x-remaining"), daily_max=get("x-daily")
        )

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        return b"DAILY" in answer.body

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        return None

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        return "set FAKE_TOKEN to a valid token"

    def unreachable_fix(self) -> str:
        return "check FAKE_URL"


def ok(data: Any = None, **headers: str) -> HttpAnswer:
    """A 200 with ``data`` as its JSON body (an empty result page when None)."""
    return HttpAnswer.of(200, headers, json.dumps(data if data is not None else {"results": []}))


class OwnerPages(Stream):
    """``pages`` pages of two owners each (page n holds owners 2n and 2n + 1); the cursor is
    the next page number, so a run stopped after page n resumes at page n + 1."""

    name = "numbers"
    endpoint = "GET /numbers"
    pages = 3

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        if cursor and cursor.scanning and not full:
            return cursor
        return Cursor("full", after="0", scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        page = int(cursor.after or 0)
        reply = api.call(self.endpoint, lambda: ok({"results": [page * 2, page * 2 + 1]}))
        more = page < self.pages - 1
        return Batch(reply.data["results"], next_after=str(page + 1) if more else None)

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return Page(
            owners=[{"id": f"fake:{n}", "source": "fake", "crm_id": str(n)} for n in batch.records]
        )

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if batch.next_after:
            return Advance(Cursor("full", after=batch.next_after, scanning=True), False)
        return Advance(Cursor("complete"), True)


class FakeConnector:
    """A connector of the fake CRM that syncs exactly the ``streams`` it is given."""

    dialect = FakeDialect()

    def __init__(self, *streams: Stream) -> None:
        self._streams = list(streams)

    def streams(self) -> list[Stream]:
        return list(self._streams)

    def prepare(self, api: Api) -> None:
        return None
