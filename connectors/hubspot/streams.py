"""The HubSpot streams: owners, then each object type and its deletions.

How each stream syncs:

* **first run** (or ``full=True``): list every object (``after`` paging, the largest page
  HubSpot allows: 50 with ``propertiesWithHistory``, else 100). The cursor holds the
  ``after`` token and the scan's start instant, so a killed scan resumes mid-list; when
  the list ends, the cursor becomes ``since = scan start − look-back``: anything changed
  while the scan ran is read again next time.
* **later runs**: search ``{lastmodifieddate|hs_lastmodifieddate} >= since`` sorted
  ascending, 200 a page, then hydrate the page — contacts by batch read with
  ``propertiesWithHistory`` (50 per request); engagements need nothing more, their
  contact links are read after the search, 1,000 engagements a request, by
  :class:`~connectors.hubspot.links.LinksStream` (with the late links of recent
  engagements, which no search finds). Each page re-windows from the last modified
  value it saw (``since`` = that value; its records come again, harmlessly), so no search
  ever pages with an offset: HubSpot's 10,000-result cap is never met, a record changing
  mid-run cannot shift the paging, and nothing relies on how HubSpot orders equal
  timestamps (it does not say). A page whose records all share one instant — a bulk
  import, a workflow touching 25,000 contacts in one millisecond — is walked by id
  (``modified = T`` and ``hs_object_id > last``, sorted by id), then the scan goes on from
  the next millisecond.
* **deletions**: ``archived=true`` lists every run (HubSpot has no "deleted since"
  query). Archived contacts not yet marked deleted are batch read with their history,
  so a lead created and deleted between two syncs still arrives whole.
* **owners**: both lists (active, then ``archived=true``) every run; they are few.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from connectors.core import (
    Advance,
    Api,
    Batch,
    Cursor,
    RecordError,
    Stream,
    StreamStats,
    read_flag,
)
from connectors.hubspot.extra_fields import add_field_rows
from connectors.hubspot.mapping import (
    MappingContext,
    activity_page,
    contact_page,
    listed_contact_ids,
    map_owner,
    read_instant,
)
from connectors.hubspot.reader import HubSpotReader, has_results, next_after
from connectors.hubspot.specs import OWNERS_LIMIT, SEARCH_LIMIT, SOURCE, ObjectSpec
from snapshot.instants import format_instant, parse_instant
from snapshot.store import Page, SnapshotStore, canonical_id

TIES = "ties"
"""A cursor phase: walking the records that share the instant ``since``, by object id."""


def _lookback_from(instant: str, lookback: timedelta) -> str:
    return format_instant(parse_instant(instant) - lookback)


class OwnersStream(Stream):
    """Active owners, then archived ones (marked inactive); re-read in full every run."""

    name = "owners"

    def __init__(self, reader: HubSpotReader) -> None:
        self.reader = reader

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        if cursor and cursor.scanning and cursor.mode == "full" and not full:
            return cursor
        return Cursor(mode="full", phase="active", scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        archived = cursor.phase == "archived"
        reply = api.call(
            "GET /crm/v3/owners/" + ("?archived=true" if archived else ""),
            lambda: self.reader.transport.owners_page(
                limit=OWNERS_LIMIT, after=cursor.after, archived=archived
            ),
            expect=has_results,
        )
        return Batch(reply.data["results"], next_after=next_after(reply.data))

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return Page(
            owners=[
                map_owner(
                    record, active=not read_flag(record.get("archived"), "HubSpot owner archived")
                )
                for record in batch.records
            ]
        )

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if batch.next_after:
            return Advance(
                Cursor("full", after=batch.next_after, phase=cursor.phase, scanning=True), False
            )
        if cursor.phase == "active":
            return Advance(Cursor("full", phase="archived", scanning=True), False)
        return Advance(Cursor("complete"), True)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Its pages need only the CRM: read ahead while the engine writes."""
        return True


class ObjectStream(Stream):
    """Contacts or one engagement type: full list the first time, then changes by search."""

    def __init__(
        self,
        spec: ObjectSpec,
        reader: HubSpotReader,
        ctx: MappingContext,
        *,
        lookback: timedelta,
        now: Callable[[], str],
    ) -> None:
        self.spec = spec
        self.name = spec.stream
        self.reader = reader
        self.ctx = ctx
        self.lookback = lookback
        self.now = now

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        if (
            full
            or cursor is None
            or cursor.mode not in ("full", "incremental")
            or (cursor.mode == "incremental" and not cursor.since)
        ):
            return Cursor("full", started=self.now(), scanning=True)
        if cursor.scanning or cursor.mode == "full":
            return cursor
        return Cursor("incremental", since=cursor.since, floor=cursor.since, scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.mode == "full":
            reply = self.reader.list_page(api, self.spec, cursor.after, archived=False)
            records = reply.data["results"]
            links: dict[str, list[str]] = {}
            if not self.spec.is_contact:
                links = self._listed_links(api, records)
            return Batch(records, next_after=next_after(reply.data), extra={"links": links})
        return self._fetch_changes(api, cursor)

    def _listed_links(self, api: Api, records: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
        links: dict[str, list[str]] = {}
        truncated_ids: list[str] = []
        for record in records:
            ids, truncated = listed_contact_ids(record)
            links[str(record.get("id"))] = ids
            if truncated:
                truncated_ids.append(str(record.get("id")))
        if truncated_ids:
            links.update(self.reader.contact_links(api, self.spec, truncated_ids))
        return links

    def _fetch_changes(self, api: Api, cursor: Cursor) -> Batch:
        properties = (self.spec.modified,) if self.spec.is_contact else self.spec.properties
        tied_after = cursor.after if cursor.phase == TIES else None
        reply = self.reader.search(
            api, self.spec, cursor.since or "", properties, tied_after=tied_after
        )
        found = reply.data["results"]
        modified = [self._modified(r) for r in found]
        ids = [str(r.get("id")) for r in found]
        # Engagements' links are read afterwards by their LinksStream, 1,000 a request
        # (a search page holds 200), with those of recent engagements.
        records = found
        if self.spec.is_contact:
            records = self.reader.read_with_history(api, self.spec, ids) if ids else []
        total = reply.data.get("total")
        return Batch(
            records,
            next_after=next_after(reply.data),
            total=int(total) if isinstance(total, int) else None,
            extra={
                "links": None,
                "modified": modified,
                "ids": ids,
                "full_page": len(found) >= SEARCH_LIMIT,
            },
        )

    def _modified(self, record: Mapping[str, Any]) -> str:
        props = record.get("properties") or {}
        record_id = str(record.get("id"))
        value = read_instant(
            props.get(self.spec.modified), self.spec.object_type, record_id, self.spec.modified
        )
        if value is None:
            value = read_instant(
                record.get("updatedAt"), self.spec.object_type, record_id, "updatedAt"
            )
        if value is None:
            raise RecordError(
                f"HubSpot {self.spec.object_type} record {record_id} came from a search on "
                f"{self.spec.modified} without that property; report this"
            )
        return value

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        if self.spec.is_contact:
            page = contact_page(batch.records, self.ctx)
            return add_field_rows(page, batch.records, self.spec.extra, self.ctx)
        return activity_page(batch.records, self.spec, batch.extra.get("links"), stats, self.ctx)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if cursor.mode == "full":
            if batch.next_after:
                return Advance(
                    Cursor("full", after=batch.next_after, started=cursor.started, scanning=True),
                    False,
                )
            since = _lookback_from(cursor.started or self.now(), self.lookback)
            return Advance(Cursor("incremental", since=since), True)
        modified: list[str] = batch.extra.get("modified", [])
        floor = cursor.floor or cursor.since or ""
        full = bool(batch.extra.get("full_page"))
        if cursor.phase == TIES:
            return self._advance_ties(cursor, batch, floor, full)
        last = max(modified) if modified else (cursor.since or floor)
        if modified and full:
            if min(modified) == last:
                # A whole page at one instant: walk that instant by object id.
                return Advance(
                    Cursor(
                        "incremental", since=last, phase=TIES, after="0", floor=floor, scanning=True
                    ),
                    False,
                )
            # The next page starts at the last instant seen: its records come again (no
            # offset among equal timestamps, whose order HubSpot leaves open).
            return Advance(Cursor("incremental", since=last, floor=floor, scanning=True), False)
        # The next run starts a look-back before the newest change seen (search lags
        # writes), but never earlier than this run started: no drifting backwards.
        since = max(floor, _lookback_from(last, self.lookback)) if last else floor
        return Advance(Cursor("incremental", since=since), True)

    def _advance_ties(self, cursor: Cursor, batch: Batch, floor: str, full: bool) -> Advance:
        """Within one instant, by id; once it is walked, on from the next millisecond."""
        ids: list[str] = batch.extra.get("ids", [])
        since = cursor.since or floor
        if full and ids:
            top = str(max(int(i) for i in ids))
            walk = Cursor("incremental", since=since, phase=TIES, after=top, floor=floor)
            return Advance(replace(walk, scanning=True), False)
        after = format_instant(parse_instant(since) + timedelta(milliseconds=1))
        return Advance(Cursor("incremental", since=after, floor=floor, scanning=True), False)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Lists and searches need only the CRM (and ``ctx``, which only this stream's
        mapping touches while it runs): read ahead while the engine writes."""
        return True


class ArchivedStream(Stream):
    """Deleted (archived) records of one type, listed every run, marked deleted.

    On the first run (or ``full``) archived contacts are listed with their history; later
    runs list ids only and batch read, with history, just those not yet marked deleted.
    """

    def __init__(self, spec: ObjectSpec, reader: HubSpotReader, ctx: MappingContext) -> None:
        self.spec = spec
        self.name = f"{spec.stream}_archived"
        self.reader = reader
        self.ctx = ctx
        self.store: SnapshotStore | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.store = store
        if cursor and cursor.scanning and not full:
            return cursor
        phase = "all" if full or cursor is None else "new"
        return Cursor("scan", phase=phase, scanning=True)

    def _already_deleted(self, ids: Sequence[str]) -> set[str]:
        if not ids or self.store is None:
            return set()
        table = "leads" if self.spec.is_contact else "activities"
        wanted = [canonical_id(SOURCE, i) for i in ids]
        placeholders = ",".join("?" * len(wanted))
        rows = self.store.db.execute(
            f"select crm_id from [{table}] where is_deleted = 1 and id in ({placeholders})", wanted
        ).fetchall()
        return {str(r[0]) for r in rows}

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == "all" or not self.spec.is_contact:
            reply = self.reader.list_page(api, self.spec, cursor.after, archived=True)
            records = reply.data["results"]
            if cursor.phase != "all":
                deleted = self._already_deleted([str(r.get("id")) for r in records])
                records = [r for r in records if str(r.get("id")) not in deleted]
            links: dict[str, list[str]] = {}
            if not self.spec.is_contact:
                links = {str(r.get("id")): listed_contact_ids(r)[0] for r in records}
            return Batch(records, next_after=next_after(reply.data), extra={"links": links})
        reply = self.reader.ids_page(api, self.spec, cursor.after)
        ids = [str(r.get("id")) for r in reply.data["results"]]
        deleted = self._already_deleted(ids)
        fresh = [i for i in ids if i not in deleted]
        records = (
            self.reader.read_with_history(api, self.spec, fresh, archived=True) if fresh else []
        )
        return Batch(records, next_after=next_after(reply.data))

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        records = [{**r, "archived": True} for r in batch.records]
        if self.spec.is_contact:
            page = contact_page(records, self.ctx)
            return add_field_rows(page, records, self.spec.extra, self.ctx)
        return activity_page(records, self.spec, batch.extra.get("links", {}), stats, self.ctx)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if batch.next_after:
            return Advance(
                Cursor("scan", after=batch.next_after, phase=cursor.phase, scanning=True), False
            )
        return Advance(Cursor("complete"), True)

    def can_prefetch(self, cursor: Cursor) -> bool:
        """A first (or ``full``) run lists everything and needs only the CRM; later runs
        ask the snapshot which records are already marked deleted, so they do not."""
        return cursor.phase == "all"
