"""The one query engine every Salesforce stream shares: an incremental window by a
datetime cursor (``queryAll``, so deletions arrive as changes), REST pages or — for a
large window — one Bulk API 2.0 job, a window halved on ``QUERY_TIMEOUT``, and an optional
field the org hides dropped for the run. The streams in :mod:`connectors.salesforce.streams`
only add what their mapping needs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from connectors.core import Advance, Api, Batch, Cursor, RecordError, RefusedError, Reply, Stream
from connectors.salesforce.dialect import error_code, missing_column
from connectors.salesforce.facts import SnapshotFacts
from connectors.salesforce.mapping import optional_text, record_instant
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.reader import SalesforceReader, without_attributes
from connectors.salesforce.specs import SObjectSpec, whole_second
from snapshot.instants import format_instant, parse_instant
from snapshot.store import SnapshotStore

# The package logs under one name, the one it always had: ``--verbose`` prints it.
log = logging.getLogger("connectors.salesforce")

EARLIEST = "1999-01-01T00:00:00.000Z"
"""Lower bound of a first sync's window when a QUERY_TIMEOUT asks for one (no org's data
predates Salesforce)."""


class SoqlStream(Stream):
    """One object's changes by a datetime cursor: REST pages, or a Bulk API job if large.

    The cursor (all of it in ``sync_state``): ``since`` = the cursor field of the last
    record committed and ``ties`` = how many committed records share it (a fresh query
    from ``since`` skips them); ``floor`` = where this run began; in a Bulk phase,
    ``started`` = the job window's end, ``job`` its id and ``after`` the next locator.
    The REST query locator (``nextRecordsUrl``) lives only in memory: after a kill the
    next run re-queries from ``since``, cheaper than trusting an expired locator.
    """

    counts_records = True
    """Each record becomes one snapshot row (so ``totalSize`` is the number to expect)."""

    def __init__(
        self,
        spec: SObjectSpec,
        reader: SalesforceReader,
        *,
        options: SalesforceOptions,
        now: Callable[[], datetime],
        ceiling: Callable[[], str | None] | None = None,
    ) -> None:
        self.spec = spec
        self.name = spec.stream
        self.reader = reader
        self.options = options
        self.now = now
        self.ceiling = ceiling
        self.facts: SnapshotFacts | None = None
        self.opened = now()
        self._next_url: str | None = None
        self._until: str | None = None
        self._width: timedelta | None = None
        self._low: str | None = None

    # -- cursor ----------------------------------------------------------------------

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.facts = SnapshotFacts(store)
        self.opened = self.now()
        self._next_url = self._until = self._low = None
        self._width = None
        if full or cursor is None or cursor.mode != "incremental":
            return Cursor("incremental", scanning=True)
        if cursor.scanning:
            return cursor
        return Cursor("incremental", since=cursor.since, floor=cursor.since, scanning=True)

    def _drop_hidden_field(self, exc: RefusedError) -> bool:
        """Leave out an optional field the org refuses (INVALID_FIELD); True to retry."""
        column = missing_column(exc.answer)
        smaller = self.spec.without(column) if column else None
        if smaller is None:
            return False
        log.warning(
            "Salesforce %s has no readable field %s: synced without it (its values stay "
            "empty); grant the integration user read access to keep it",
            self.spec.sobject,
            column,
        )
        self.spec = smaller
        return True

    def _upper(self) -> str | None:
        """The end of the window being read: a narrowed window, the stream's ceiling, or none."""
        if self._until is not None:
            return self._until
        return self.ceiling() if self.ceiling else None

    def _now_second(self) -> str:
        return whole_second(self.now())

    # -- fetch -------------------------------------------------------------------------

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == "bulk":
            return self._fetch_bulk(api, cursor)
        reply, fresh = self._rest_page(api, cursor)
        data = reply.data
        done = bool(data.get("done"))
        self._next_url = None if done else optional_text(data.get("nextRecordsUrl"))
        if not done and self._next_url is None:
            raise api.fail(
                f"Salesforce said a {self.spec.sobject} query had more pages but gave no "
                "nextRecordsUrl; run the sync again, and report this line if it repeats"
            )
        size = data.get("totalSize")
        total = size if fresh and self.counts_records and isinstance(size, int) else None
        if fresh and not done and int(size or 0) > self.options.bulk_threshold:
            # Large window: one Bulk API job reads it (this page is not used: the job
            # covers the whole window, and a REST page would only be read twice).
            until = self._upper() or self._now_second()
            self._next_url = self._until = None
            return Batch([], total=total, extra={"bulk_until": until})
        records = [without_attributes(r) for r in data["records"]]
        if fresh:
            records = self._skip_taken(records, cursor)
        return Batch(
            records,
            total=total,
            extra={**self.hydrate(api, records), "more": not done},
        )

    def _rest_page(self, api: Api, cursor: Cursor) -> tuple[Reply, bool]:
        """The next REST page, and whether it is a fresh query's first page.

        A QUERY_TIMEOUT narrows the window and asks again; a field the org hides is
        dropped and the query asked again; an expired ``nextRecordsUrl`` is replaced by a
        fresh query from the cursor.
        """
        while True:
            fresh = self._next_url is None
            try:
                if fresh:
                    soql = self.spec.soql(cursor.since or self._low, self._upper())
                    return self.reader.query(api, self.spec, soql), fresh
                return self.reader.query_more(api, self.spec, str(self._next_url)), fresh
            except RefusedError as exc:
                code = error_code(exc.answer)
                if code == "QUERY_TIMEOUT":
                    self._narrow(api, cursor)
                elif fresh and self._drop_hidden_field(exc):
                    continue
                elif code != "INVALID_QUERY_LOCATOR" or fresh:
                    raise
                self._next_url = None

    def _stamp(self, record: Mapping[str, Any]) -> str:
        value = record_instant(
            record.get(self.spec.cursor_field),
            self.spec.sobject,
            str(record.get("Id")),
            self.spec.cursor_field,
        )
        if value is None:
            raise RecordError(
                f"Salesforce {self.spec.sobject} record {record.get('Id')} has no "
                f"{self.spec.cursor_field}; report this"
            )
        return value

    def _skip_taken(self, records: list[dict[str, Any]], cursor: Cursor) -> list[dict[str, Any]]:
        """Drop what a fresh query from ``since`` re-reads: records a few milliseconds
        before it (the literal is floored to the second) and the ``ties`` already taken."""
        if not cursor.since:
            return records
        kept: list[dict[str, Any]] = []
        skip = cursor.ties
        for record in records:
            stamp = self._stamp(record)
            if stamp < cursor.since:
                continue
            if stamp == cursor.since and skip > 0:
                skip -= 1
                continue
            kept.append(record)
        return kept

    def _narrow(self, api: Api, cursor: Cursor) -> None:
        """After a QUERY_TIMEOUT: the next query covers the first half of the window.

        A first sync's window starts where the org does (its first user's CreatedDate,
        from the users stream; no SystemModstamp or history row is older), not in 1999.
        """
        assert self.facts is not None
        if not cursor.since and self._low is None:
            self._low = self.facts.org_start() or EARLIEST
        low = parse_instant(cursor.since or self._low or EARLIEST)
        high = parse_instant(self._upper() or self._now_second())
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if middle <= low:
            raise api.fail(
                f"Salesforce timed out (QUERY_TIMEOUT) reading {self.spec.sobject} even for a "
                f"window of a second from {format_instant(low)}; run the sync again later, or "
                "ask Salesforce support for an index on the field"
            )
        self._width = timedelta(seconds=max(1, int((middle - low).total_seconds())))
        self._until = format_instant(middle)
        log.warning(
            "salesforce %s: QUERY_TIMEOUT; reading %s to %s first",
            self.name,
            format_instant(low),
            self._until,
        )

    def _fetch_bulk(self, api: Api, cursor: Cursor) -> Batch:
        job, locator = cursor.job, cursor.after
        if job is None:
            job, locator = self._start_job(api, cursor), None
        try:
            records, next_locator = self.reader.job_page(api, self.spec, job, locator)
        except RefusedError as exc:
            if exc.status != 404 or cursor.job is None:
                raise
            # The job expired (results are kept for days, not forever): run it again.
            log.warning("salesforce %s: bulk job %s is gone; starting over", self.name, job)
            job = self._start_job(api, cursor)
            records, next_locator = self.reader.job_page(api, self.spec, job, None)
        since, until = cursor.since, cursor.started
        records = [
            r
            for r in records
            if (not since or self._stamp(r) >= since) and (not until or self._stamp(r) < until)
        ]
        return Batch(
            records,
            extra={**self.hydrate(api, records), "job": job, "locator": next_locator},
        )

    def _start_job(self, api: Api, cursor: Cursor) -> str:
        soql = self.spec.soql(cursor.since, cursor.started, ordered=False)
        return self.reader.start_job(api, self.spec, soql)

    # -- advance -----------------------------------------------------------------------

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if "bulk_until" in batch.extra:
            return Advance(
                replace(cursor, phase="bulk", started=batch.extra["bulk_until"], job=None),
                False,
            )
        if cursor.phase == "bulk":
            if batch.extra.get("locator"):
                return Advance(
                    replace(cursor, job=batch.extra["job"], after=batch.extra["locator"]), False
                )
            # The job's window is read; REST picks up what changed since it began.
            return Advance(
                Cursor("incremental", since=cursor.started, floor=cursor.floor, scanning=True),
                False,
            )
        since, ties = cursor.since, cursor.ties
        for record in batch.records:
            stamp = self._stamp(record)
            if stamp == since:
                ties += 1
            elif since is None or stamp > since:
                since, ties = stamp, 1
        if batch.extra.get("more"):
            return Advance(
                Cursor("incremental", since=since, ties=ties, floor=cursor.floor, scanning=True),
                False,
            )
        if self._until is not None:
            return self._next_window(self._until, cursor.floor)
        return Advance(Cursor("incremental", since=self._next_since(cursor.floor)), True)

    def _next_window(self, start: str, floor: str | None) -> Advance:
        """A narrowed window is read: the next one starts at its end, twice as wide
        (halved again if that times out), so sparse years pass in a few queries."""
        width = (self._width or timedelta(0)) * 2
        self._width = width
        upper = self.ceiling() if self.ceiling else None
        end = parse_instant(start) + width
        limit = parse_instant(upper or self._now_second())
        self._until = format_instant(end) if width and end < limit else None
        return Advance(Cursor("incremental", since=start, floor=floor, scanning=True), False)

    def _next_since(self, floor: str | None) -> str:
        """Where the next run starts: a look-back before this scan began (or its ceiling),
        never before where this run started — changes during the scan are read again."""
        upper = self.ceiling() if self.ceiling else None
        start = parse_instant(upper) if upper else self.opened
        since = format_instant(start - self.options.lookback)
        return max(floor, since) if floor else since

    # -- mapping -----------------------------------------------------------------------

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Facts the page's mapping needs beyond its records (snapshot reads, rare calls)."""
        return {}
