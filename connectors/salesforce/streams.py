"""The Salesforce streams in sync order — users, leads, lead history, conversions, won
opportunities, tasks and events — each a spec (:mod:`connectors.salesforce.specs`) read by
:class:`SoqlStream`, plus the snapshot facts its page needs and its mapping to rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.core import Api, Batch, Cursor, StreamStats
from connectors.salesforce.extra_fields import add_field_rows
from connectors.salesforce.mapping import (
    CONTACT_PREFIX,
    LEAD_PREFIX,
    Change,
    first_changes,
    history_changes,
    history_row,
    map_activity,
    map_lead,
    map_user,
    optional_text,
    record_instant,
    required_id,
)
from connectors.salesforce.soql_stream import SoqlStream
from connectors.salesforce.specs import LEAD_HISTORY, SOURCE, SObjectSpec
from snapshot.store import Page, SnapshotStore, canonical_id


def tracked_fields(spec: SObjectSpec) -> tuple[str, ...]:
    """The lead fields whose value at creation the snapshot states: status, owner and the
    SLA's fields read with history (``Reason__c``)."""
    return ("status", "owner", *(f.name for f in spec.extra if f.history))


class UsersStream(SoqlStream):
    """Users, read with ``query`` (``USERS.include_deleted`` is off): a user is deactivated,
    never deleted."""

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        return Page(owners=[map_user(r) for r in batch.records])


class LeadsStream(SoqlStream):
    """Leads (deleted ones too), and the value each funnel field had at ``CreatedDate``
    when the snapshot holds no change of that field yet."""

    def __init__(self, *args: Any, base_url: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = base_url

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        ids = [canonical_id(SOURCE, required_id(r, "Lead")) for r in records]
        known = self.facts.created_at(ids)
        history = self.facts.history(ids, tracked_fields(self.spec))
        changed: set[tuple[str, str]] = set()
        for record in records:
            crm_id = required_id(record, "Lead")
            lead_id = canonical_id(SOURCE, crm_id)
            created = record_instant(record.get("CreatedDate"), "Lead", crm_id, "CreatedDate")
            for field_name, changed_at in history.get(lead_id, ()):
                if created is not None and changed_at > created:
                    changed.add((lead_id, field_name))
        # A lead created after this stream's query began, and changed before the history
        # stream's, got its change rows without its initial values (the history stream
        # had no CreatedDate for it): read its history now. Rare, a query per lead.
        repairs: dict[str, list[Change]] = {}
        for lead_id in sorted({lead for lead, _ in changed} - set(known)):
            crm_id = lead_id.split(":", 1)[1]
            soql = (
                f"SELECT {', '.join(LEAD_HISTORY.kinds)} FROM LeadHistory "
                f"WHERE LeadId = '{crm_id}' AND {LEAD_HISTORY.where} "
                "ORDER BY CreatedDate ASC, Id ASC"
            )
            repairs[lead_id] = history_changes(self.reader.records(api, LEAD_HISTORY, soql))
        return {"changed": changed, "repairs": repairs}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        page = Page()
        changed: set[tuple[str, str]] = batch.extra.get("changed", set())
        repairs: dict[str, list[Change]] = batch.extra.get("repairs", {})
        base = self.base_url()
        for record in batch.records:
            row = map_lead(record, base)
            page.leads.append(row)
            lead_id, created = row["id"], row["created_at"]
            named = [
                (f.name, optional_text(record.get(f.name))) for f in self.spec.extra if f.history
            ]
            for field_name, current in (
                ("status", row["status"]),
                ("owner", row["owner_id"]),
                *named,
            ):
                if (lead_id, field_name) not in changed:
                    if current is not None:
                        page.history.append(history_row(lead_id, field_name, current, created))
                    continue
                first = first_changes(repairs.get(lead_id, ())).get((lead_id, field_name))
                if first is not None and first.at > created:
                    page.history.append(history_row(lead_id, field_name, first.old, created))
        return add_field_rows(page, batch.records, self.spec.extra)


class LeadHistoryStream(SoqlStream):
    """Status, owner and conversion changes; the first change of a field also states the
    value the lead was created with (its ``OldValue``)."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        changes = history_changes(records)
        firsts = first_changes(changes)
        leads = {lead for lead, _ in firsts}
        created = self.facts.created_at(leads)
        stored = self.facts.history(created, tracked_fields(self.spec))
        initial: list[dict[str, Any]] = []
        for (lead_id, field_name), first in firsts.items():
            born = created.get(lead_id)
            if born is None or first.at <= born:
                continue
            earlier = any(
                stored_field == field_name and born < at < first.at
                for stored_field, at in stored.get(lead_id, ())
            )
            if not earlier:
                initial.append(history_row(lead_id, field_name, first.old, born))
        return {"changes": changes, "initial": initial}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for row in batch.extra.get("initial", []):
            rows[(row["lead_id"], row["field"], row["changed_at"])] = row
        for change in batch.extra.get("changes", []):
            # Two changes of one field in one second: the later (by Id) is the value.
            row = history_row(change.lead_id, change.field, change.value, change.at)
            rows[(change.lead_id, change.field, change.at)] = row
        return Page(history=list(rows.values()))


class ConversionsStream(SoqlStream):
    """Converted leads without a ``leadConverted`` history row: conversion at the midnight
    (UTC) of ``ConvertedDate`` — a date, so up to a day early or late — never before the
    lead's creation. Bounded above by a look-back before the history stream began, so a
    conversion whose history row is still to be read is not given a second, coarser one."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        ids = [canonical_id(SOURCE, required_id(r, "Lead")) for r in records]
        history = self.facts.history(ids, ("converted",))
        return {"converted": set(history)}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        done: set[str] = batch.extra.get("converted", set())
        page = Page()
        for record in batch.records:
            crm_id = required_id(record, "Lead")
            lead_id = canonical_id(SOURCE, crm_id)
            day = record_instant(record.get("ConvertedDate"), "Lead", crm_id, "ConvertedDate")
            created = record_instant(record.get("CreatedDate"), "Lead", crm_id, "CreatedDate")
            if lead_id in done or day is None:
                continue
            at = max(day, created) if created else day
            page.history.append(history_row(lead_id, "converted", "true", at))
        return page


class OpportunitiesStream(SoqlStream):
    """Won opportunities → a ``stage`` event (the StageName, e.g. "Closed Won") on the
    lead converted into each, at CloseDate's midnight UTC but not before the conversion."""

    counts_records = False

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        converted_into = self.facts.converted_into("ConvertedOpportunityId") if records else {}
        wanted = {required_id(r, "Opportunity") for r in records}
        leads = {opp: found for opp, found in converted_into.items() if opp in wanted}
        lead_ids = [lead for found in leads.values() for lead in found]
        created = self.facts.created_at(lead_ids)
        converted: dict[str, str] = {}
        for lead_id, rows in self.facts.history(lead_ids, ("converted",)).items():
            converted[lead_id] = min(at for _, at in rows)
        return {"leads": leads, "created": created, "converted": converted}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        leads: dict[str, list[str]] = batch.extra.get("leads", {})
        created: dict[str, str] = batch.extra.get("created", {})
        converted: dict[str, str] = batch.extra.get("converted", {})
        page = Page()
        for record in batch.records:
            opportunity_id = required_id(record, "Opportunity")
            stage = optional_text(record.get("StageName"))
            day = record_instant(
                record.get("CloseDate"), "Opportunity", opportunity_id, "CloseDate"
            )
            if stage is None or day is None:
                continue
            for lead_id in leads.get(opportunity_id, ()):
                after = converted.get(lead_id) or created.get(lead_id) or day
                page.history.append(history_row(lead_id, "stage", stage, max(day, after)))
        return page


class ActivitiesStream(SoqlStream):
    """Tasks or Events, linked to the lead in ``WhoId`` — or, once Salesforce has moved
    them to the contact a lead was converted into, to that lead."""

    _contacts: dict[str, list[str]] | None = None

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        self._contacts = None
        return super().open(cursor, full=full, api=api, store=store)

    def hydrate(self, api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.facts is not None
        who = {str(r.get("WhoId") or "") for r in records}
        if self._contacts is None and any(w.startswith(CONTACT_PREFIX) for w in who):
            self._contacts = self.facts.converted_into("ConvertedContactId")
        known = self._contacts or {}
        return {"contacts": {w: known[w] for w in who if w in known}}

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        contacts: dict[str, list[str]] = batch.extra.get("contacts", {})
        page = Page()
        for record in batch.records:
            row = map_activity(record, self.spec.sobject, stats)
            page.activities.append(row)
            page.links_for.append(row["id"])
            who = optional_text(record.get("WhoId")) or ""
            if who.startswith(LEAD_PREFIX):
                lead_ids = [canonical_id(SOURCE, who)]
            else:
                lead_ids = contacts.get(who, [])
            for lead_id in lead_ids:
                page.links.append({"activity_id": row["id"], "lead_id": lead_id})
        return page
