"""The ``fields`` stream: fills a property the SLA newly names for the leads already in
the snapshot, and remembers which properties every lead has (issue 15, item 4).

Naming a new field in the SLA must not cost a full re-sync. The lead streams read the
SLA's properties with every lead they sync from then on; the leads synced *before* are
filled by this stream, one property at a time, keyset-paged by the CRM's id so a killed
backfill resumes where its last committed page ended. Its cursor (``sync_state``, stream
``fields``) lists in ``fields`` the properties every lead has: ``name``, or
``name:history`` when its history came too. A property the SLA no longer names drops
out of that list, so naming it again later fills it again (its values went stale).

Nothing is filled when there is nothing to fill: a first sync (no leads yet) or
``--full`` (every lead is re-read with the properties anyway) costs no request.
The CRM-specific part — one request for a page of one property — is the subclass's.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import replace

from config.sla_fields import NamedField
from connectors.core.http import Api
from connectors.core.stream import Advance, Batch, Cursor, Stream
from snapshot.lead_fields import FIELDS_STREAM, HISTORY_MARK
from snapshot.store import SnapshotStore

log = logging.getLogger(__name__)


def field_token(named: NamedField) -> str:
    """How the cursor lists a filled property: ``name`` or ``name:history``."""
    return named.name + (HISTORY_MARK if named.history else "")


class BackfillStream(Stream):
    """Fill the SLA's new properties for the leads already synced; see the module doc."""

    name = FIELDS_STREAM

    def __init__(self, fields: Sequence[NamedField], source: str) -> None:
        self.wanted = {field_token(f): f for f in fields}
        self.source = source
        self.store: SnapshotStore | None = None
        self._pending: list[str] = []
        self._cost: dict[str, list[int]] = {}
        self._resumed: str | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self.store = store
        filled = set(cursor.fields) if cursor else set()
        if full or not self._has_leads(store):
            filled = set(self.wanted)
        done = {t for t in self.wanted if t in filled or t + HISTORY_MARK in filled}
        self._pending = [t for t in sorted(self.wanted) if t not in done]
        self._cost = {t: [0, 0] for t in self._pending}
        self._resumed = None
        if cursor and cursor.scanning and cursor.phase in self._pending:
            self._resumed = cursor.phase if cursor.after else None
            self._pending.remove(cursor.phase)
            self._pending.insert(0, cursor.phase)
            return replace(cursor, fields=tuple(sorted(done)))
        if not self._pending:
            return Cursor("complete", fields=tuple(sorted(done)))
        return Cursor("backfill", phase=self._pending[0], fields=tuple(sorted(done)), scanning=True)

    def _has_leads(self, store: SnapshotStore) -> bool:
        row = store.db.execute("select 1 from leads where source = ? limit 1", [self.source])
        return row.fetchone() is not None

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.mode == "complete" or cursor.phase is None:
            return Batch([])
        named = self.wanted[cursor.phase]
        batch = self.fetch_field(api, named, cursor.after)
        cost = self._cost.setdefault(cursor.phase, [0, 0])
        cost[0] += int(batch.extra.get("leads", len(batch.records)))
        cost[1] += int(batch.extra.get("requests", 1))
        if batch.next_after is None:
            resumed = " (resumed)" if cursor.phase == self._resumed else ""
            note = (
                f"backfilled {named.name}{' with its history' if named.history else ''} for "
                f"{cost[0]:,} leads in {cost[1]:,} requests{resumed}"
            )
            api.stats_for(self.name).notes.append(note)
            log.info("%s %s", self.source, note)
        batch.extra["field"] = named
        return batch

    @abstractmethod
    def fetch_field(self, api: Api, named: NamedField, after: str | None) -> Batch:
        """One page of one property's values (and history) for leads after ``after``, in
        the CRM's id order; ``next_after`` None once the last lead is read. ``extra``
        may say how many ``requests`` the page cost (default one) and how many ``leads``
        it filled (default: its records)."""

    def lead_ids_after(self, after: str | None, limit: int) -> list[str]:
        """The CRM ids of live leads in the snapshot after ``after``, in id order."""
        assert self.store is not None
        rows = self.store.db.execute(
            "select crm_id from leads where source = ? and is_deleted = 0 and crm_id > ? "
            "order by crm_id limit ?",
            [self.source, after or "", limit],
        ).fetchall()
        return [str(row[0]) for row in rows]

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if cursor.mode == "complete" or cursor.phase is None:
            return Advance(cursor, True)
        if batch.next_after is not None:
            return Advance(replace(cursor, after=batch.next_after), False)
        filled = tuple(sorted({*cursor.fields, cursor.phase}))
        later = [t for t in self._pending if t not in filled]
        if later:
            return Advance(Cursor("backfill", phase=later[0], fields=filled, scanning=True), False)
        return Advance(Cursor("complete", fields=filled), True)
