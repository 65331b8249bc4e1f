"""HubSpot's Leads object (0-136): its stage history, put on the timeline of its contacts.

Portals that work leads in HubSpot's prospecting workspace record the handoff and its
outcome on a *lead* record (``hs_pipeline_stage``: ``new-stage-id``, ``attempting-stage-id``,
``connected-stage-id``, ``qualified-stage-id``, ``unqualified-stage-id`` or a custom id), not
on the contact's lifecycle stage or lead status. Each lead is associated with a contact;
every change of its stage becomes a ``lead_stage`` history event of that contact, so the
SLA's funnel can name lead stages (``mql: {lead_stage: [new-stage-id]}``) and the audit
finds handoffs, recycles and progress on the contact's timeline as for any other field.

The stream is the object streams' machinery (full list with history and contact links the
first time, then changes by search, hydrated by a batch read with history and a v4
association read). What differs:

* a portal without the Leads object (no Sales Hub Professional, or a token without
  ``crm.objects.leads.read``) answers 403 or 404: the stream logs it and ends, the sync goes
  on, and the next run tries again from scratch (the scope may have been granted since);
* its rows are *added* to the contacts' history, never replacing it: the contacts stream
  states the history of its own fields only (``HISTORY_FIELDS``). A deleted lead's stage
  changes stay, as events that happened (an audit as of before the deletion must see them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from connectors.core import Advance, Api, Batch, Cursor, RefusedError, StreamStats
from connectors.core.optional import NOT_THERE
from connectors.hubspot.mapping import MappingContext, read_instant
from connectors.hubspot.reader import HubSpotReader
from connectors.hubspot.specs import LEAD_OBJECTS, LEAD_STAGE_FIELD, SOURCE
from connectors.hubspot.streams import ObjectStream
from snapshot.store import Page, canonical_id

log = logging.getLogger("connectors.hubspot")

UNAVAILABLE = "unavailable"
"""Cursor mode after the portal refused the Leads object: the next run starts afresh."""


def lead_stage_rows(
    record: Mapping[str, Any], contact_ids: Sequence[str], ctx: MappingContext | None = None
) -> list[dict[str, Any]]:
    """One ``lead_stage`` history row per stage change of this lead and contact.

    Entries are HubSpot's ``hs_pipeline_stage`` history (order unverified: sorted by the
    store's key). Two changes at one millisecond collapse, the current value winning.
    """
    lead_crm_id = str(record.get("id"))
    current = (record.get("properties") or {}).get("hs_pipeline_stage")
    entries = (record.get("propertiesWithHistory") or {}).get("hs_pipeline_stage") or []
    changes: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("value") in (None, ""):
            continue
        changed = read_instant(
            entry.get("timestamp"), "leads", lead_crm_id, "hs_pipeline_stage history", ctx
        )
        if changed is None:
            continue
        value = str(entry["value"])
        if changed not in changes or value == current:
            changes[changed] = {"value": value, "source_type": entry.get("sourceType")}
    return [
        {
            "lead_id": canonical_id(SOURCE, contact),
            "field": LEAD_STAGE_FIELD,
            "value": change["value"],
            "changed_at": changed,
            "source_type": change["source_type"],
        }
        for contact in contact_ids
        for changed, change in sorted(changes.items())
    ]


def lead_objects_page(
    records: Sequence[Mapping[str, Any]],
    links: Mapping[str, Sequence[str]],
    ctx: MappingContext | None = None,
) -> Page:
    """The leads' stage changes as history rows, added (upserted) to their contacts'."""
    page = Page()
    for record in records:
        page.history.extend(lead_stage_rows(record, links.get(str(record.get("id")), ()), ctx))
    if ctx is not None:
        page.issues.extend(ctx.take_issues())
    return page


class LeadObjectStream(ObjectStream):
    """Leads (0-136) with their stage history and contacts; skipped where unavailable."""

    def __init__(
        self,
        reader: HubSpotReader,
        ctx: MappingContext,
        *,
        lookback: timedelta,
        now: Callable[[], str],
    ) -> None:
        super().__init__(LEAD_OBJECTS, reader, ctx, lookback=lookback, now=now)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        try:
            return super().fetch(api, cursor)
        except RefusedError as exc:
            if exc.status not in NOT_THERE:
                raise
            log.warning(
                "HubSpot Leads object unavailable (HTTP %s): lead stages not synced. If the "
                "portal works leads there, grant the token crm.objects.leads.read",
                exc.status,
            )
            return Batch([], extra={UNAVAILABLE: exc.status})

    def _fetch_changes(self, api: Api, cursor: Cursor) -> Batch:
        """Changed leads by search, then their history by batch read (search has none) and
        their contacts by the v4 association read (engagement searches leave links to their
        own streams; a lead's stages mean nothing without its contacts)."""
        batch = super()._fetch_changes(api, cursor)
        ids: list[str] = batch.extra.get("ids", [])
        batch.records = self.reader.read_with_history(api, self.spec, ids) if ids else []
        batch.extra["links"] = self.reader.contact_links(api, self.spec, ids) if ids else {}
        return batch

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return lead_objects_page(batch.records, batch.extra.get("links", {}), self.ctx)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if UNAVAILABLE in batch.extra:
            return Advance(Cursor(UNAVAILABLE), True)
        return super().advance(cursor, batch)
