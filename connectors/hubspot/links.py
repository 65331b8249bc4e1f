"""Contact links of one engagement type on incremental runs: changed engagements, and late
links of recent ones, read 1,000 engagements per request.

A full run lists engagements with their links embedded (``associations=contacts``, the
v4 batch read for lists HubSpot cut at 100), so this stream has nothing to do then. On
an incremental run the engagement stream only searches; this stream then reads, with
the v4 association batch read at its cap of 1,000 inputs, the links of every engagement
of its type that the snapshot holds, is not deleted, and

* changed since this stream last finished (``updated_at >= since``): the engagements
  the search just rewrote, which may have gained or lost contacts; or
* was created within :data:`~connectors.hubspot.specs.LATE_LINK_WINDOW` of now
  (``created_at >= started``): a contact added to an engagement after its last change
  moves no modification time HubSpot lets us search on, so it is found only by asking.

Engagements are walked in ``crm_id`` order from the snapshot (the cursor's ``after``),
so a killed run resumes where it stopped. Each page replaces its engagements' links,
except links to contacts the snapshot holds as deleted: HubSpot stops reporting those,
and the snapshot keeps them as evidence of what was done to the lead before.

Cost per run and type: ⌈(changed ∪ recent) / 1,000⌉ requests, plus one per further page
of an engagement with more contacts than one answer holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from connectors.core import Advance, Api, Batch, Cursor, Stream, StreamStats
from connectors.hubspot.reader import HubSpotReader
from connectors.hubspot.specs import ASSOCIATION_BATCH_LIMIT, LATE_LINK_WINDOW, SOURCE, ObjectSpec
from snapshot.instants import format_instant, parse_instant
from snapshot.store import Page, SnapshotStore, canonical_id

SKIP = "skip"
"""A cursor phase: nothing to read this run (a full run listed the links)."""


class LinksStream(Stream):
    """Re-reads the contact links of changed and recent engagements of one type."""

    def __init__(
        self,
        spec: ObjectSpec,
        reader: HubSpotReader,
        *,
        now: Callable[[], str],
        window: timedelta = LATE_LINK_WINDOW,
    ) -> None:
        self.spec = spec
        self.name = f"{spec.stream}_links"
        self.reader = reader
        self.now = now
        self.window = window
        self.store: SnapshotStore | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.store = store
        objects = Cursor.decode(store.cursor(SOURCE, self.spec.stream))
        adopt = objects.since if objects and objects.mode == "incremental" else None
        if full or cursor is None or not cursor.since:
            # The engagement stream listed every link (or has yet to): from here on,
            # changes are those its next search finds.
            return Cursor("incremental", since=adopt, floor=adopt, phase=SKIP, scanning=True)
        if cursor.scanning:
            return cursor
        window_start = format_instant(parse_instant(self.now()) - self.window)
        return Cursor(
            "incremental",
            since=cursor.since,
            started=window_start,
            floor=adopt or cursor.since,
            after="",
            scanning=True,
        )

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == SKIP:
            return Batch([], extra={"ids": []})
        ids = self._due(cursor)
        links = self.reader.contact_links(api, self.spec, ids) if ids else {}
        return Batch([], extra={"ids": ids, "links": links, "kept": self._kept(ids)})

    def _due(self, cursor: Cursor) -> list[str]:
        """The next ≤ 1,000 engagements (by ``crm_id``) whose links are to be read."""
        assert self.store is not None
        rows = self.store.db.execute(
            "select crm_id from activities where source = ? and crm_id > ? and kind = ? "
            "and is_deleted = 0 and (updated_at >= ? or created_at >= ?) "
            "order by crm_id limit ?",
            [
                SOURCE,
                cursor.after or "",
                self.spec.kind,
                cursor.since or "",
                cursor.started or cursor.since or "",
                ASSOCIATION_BATCH_LIMIT,
            ],
        ).fetchall()
        return [str(row[0]) for row in rows]

    def _kept(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """Links of these engagements to contacts the snapshot holds as deleted."""
        assert self.store is not None
        kept: list[tuple[str, str]] = []
        wanted = [canonical_id(SOURCE, i) for i in ids]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.store.db.execute(
                "select l.activity_id, l.lead_id from activity_leads l join leads d "
                "on d.id = l.lead_id and d.is_deleted = 1 "
                f"where l.activity_id in ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            kept.extend((str(a), str(b)) for a, b in rows)
        return kept

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        ids: list[str] = batch.extra.get("ids", [])
        page = Page(links_for=[canonical_id(SOURCE, i) for i in ids])
        for crm_id, contacts in batch.extra.get("links", {}).items():
            for contact in contacts:
                page.links.append(
                    {
                        "activity_id": canonical_id(SOURCE, crm_id),
                        "lead_id": canonical_id(SOURCE, contact),
                    }
                )
        present = {(row["activity_id"], row["lead_id"]) for row in page.links}
        for activity_id, lead_id in batch.extra.get("kept", []):
            if (activity_id, lead_id) not in present:
                page.links.append({"activity_id": activity_id, "lead_id": lead_id})
        return page

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        ids: list[str] = batch.extra.get("ids", [])
        if cursor.phase != SKIP and len(ids) >= ASSOCIATION_BATCH_LIMIT:
            return Advance(
                Cursor(
                    "incremental",
                    since=cursor.since,
                    started=cursor.started,
                    floor=cursor.floor,
                    after=ids[-1],
                    scanning=True,
                ),
                False,
            )
        # Done: next run re-reads what the engagement stream's next search rewrites.
        return Advance(Cursor("incremental", since=cursor.floor), True)
