"""HubSpot's half of the ``fields`` stream (:mod:`connectors.core.backfill`): a property
the SLA newly names, read for the contacts already in the snapshot by batch read.

One request per 100 contacts (``properties=[name]``), or per 50 when its history is
needed (HubSpot's cap for ``propertiesWithHistory`` in a batch read). Only that property
is asked for, and only for the snapshot's live contacts — not a re-sync. A contact
HubSpot no longer has is left out of the answer and keeps no value.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.sla_fields import NamedField
from connectors.core import Api, Batch, StreamStats
from connectors.core.backfill import BackfillStream
from connectors.hubspot.extra_fields import add_field_rows
from connectors.hubspot.mapping import MappingContext
from connectors.hubspot.reader import HubSpotReader, has_results
from connectors.hubspot.specs import BATCH_HISTORY_LIMIT, LIST_LIMIT, SOURCE
from snapshot.store import Page, canonical_id

BATCH_READ_LIMIT = LIST_LIMIT
"""Inputs of one batch read without history (HubSpot's cap: 100)."""


class HubSpotBackfill(BackfillStream):
    """Fill a newly named contact property: batch reads of the snapshot's contacts."""

    def __init__(
        self, fields: Sequence[NamedField], reader: HubSpotReader, ctx: MappingContext
    ) -> None:
        super().__init__(fields, SOURCE)
        self.reader = reader
        self.ctx = ctx

    def fetch_field(self, api: Api, named: NamedField, after: str | None) -> Batch:
        limit = BATCH_HISTORY_LIMIT if named.history else BATCH_READ_LIMIT
        ids = self.lead_ids_after(after, limit)
        if not ids:
            return Batch([], extra={"requests": 0})
        history = [named.name] if named.history else []
        reply = api.call(
            "POST /crm/v3/objects/contacts/batch/read",
            lambda: self.reader.transport.batch_read(
                "contacts", ids, properties=[named.name], history=history, archived=False
            ),
            expect=has_results,
        )
        records = [r for r in reply.data["results"] if isinstance(r, dict)]
        return Batch(records, next_after=ids[-1] if len(ids) == limit else None)

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        named: NamedField | None = batch.extra.get("field")
        if named is None or not batch.records:
            return Page()
        page = Page()
        if named.history:
            page.history_for = [canonical_id(SOURCE, str(r.get("id"))) for r in batch.records]
        return add_field_rows(page, batch.records, [named], self.ctx)
