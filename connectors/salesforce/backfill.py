"""Salesforce's half of the ``fields`` stream (:mod:`connectors.core.backfill`): a Lead
field the SLA newly names, filled for the leads already synced.

For a field read with its history (``Reason__c``), first its LeadHistory rows
(``Field = 'Reason__c'``), then the leads; otherwise the leads only. Each is one SOQL
query per 2,000 records, keyset-paged by ``Id`` (``WHERE Id > last ORDER BY Id LIMIT
2000``), so a killed backfill resumes after the last committed page, and nothing else is
re-read. A lead whose field never changed (or whose org does not track the field's
history) gets its current value stated at its creation, as status and owner do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from config.sla_fields import NamedField
from connectors.core import Api, Batch, StreamStats
from connectors.core.backfill import BackfillStream
from connectors.salesforce.extra_fields import field_rows
from connectors.salesforce.mapping import (
    first_changes,
    history_changes,
    history_row,
    optional_text,
    record_instant,
    required_id,
)
from connectors.salesforce.reader import SalesforceReader, without_attributes
from connectors.salesforce.specs import LEAD_HISTORY, LEADS, SOURCE
from snapshot.store import Page, canonical_id

PAGE = 2_000
"""Records one REST query page holds: one request per 2,000 leads or history rows."""


class SalesforceBackfill(BackfillStream):
    """Fill a newly named Lead field: its history rows, then the leads, 2,000 a query."""

    def __init__(self, fields: Sequence[NamedField], reader: SalesforceReader) -> None:
        super().__init__(fields, SOURCE)
        self.reader = reader

    def fetch_field(self, api: Api, named: NamedField, after: str | None) -> Batch:
        start = "history:" if named.history else "lead:"
        phase, _, last = (after or start).partition(":")
        if phase == "history":
            soql = (
                f"SELECT {', '.join(LEAD_HISTORY.kinds)} FROM LeadHistory WHERE Field = "
                f"'{named.name}' AND Id > '{last}' ORDER BY Id ASC LIMIT {PAGE}"
            )
            records = self._page(api, LEAD_HISTORY, soql)
            more = f"history:{records[-1]['Id']}" if len(records) == PAGE else "lead:"
            return Batch(records, next_after=more, extra={"kind": "history", "leads": 0})
        soql = (
            f"SELECT Id, CreatedDate, {named.name} FROM Lead WHERE Id > '{last}' "
            f"ORDER BY Id ASC LIMIT {PAGE}"
        )
        records = self._page(api, LEADS, soql)  # queryAll: deleted leads too, as synced
        more = f"lead:{records[-1]['Id']}" if len(records) == PAGE else None
        return Batch(records, next_after=more, extra={"kind": "lead"})

    def _page(self, api: Api, spec: Any, soql: str) -> list[dict[str, Any]]:
        reply = self.reader.query(api, spec, soql)
        return [without_attributes(r) for r in reply.data["records"]]

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        named: NamedField | None = batch.extra.get("field")
        if named is None or not batch.records:
            return Page()
        if batch.extra.get("kind") == "history":
            return self._history_page(batch.records, named)
        page = Page(fields=field_rows(batch.records, [named]))
        if named.history:
            ids = [canonical_id(SOURCE, required_id(r, "Lead")) for r in batch.records]
            have = self._with_history(ids, named.name)
            for record, lead_id in zip(batch.records, ids, strict=True):
                created = record_instant(record.get("CreatedDate"), "Lead", lead_id, "CreatedDate")
                value = optional_text(record.get(named.name))
                if lead_id not in have and created is not None and value is not None:
                    page.history.append(history_row(lead_id, named.name, value, created))
        return page

    def _history_page(self, records: list[dict[str, Any]], named: NamedField) -> Page:
        """The field's changes, and the value each lead had at creation (the first
        change's old value), as the history stream states status."""
        changes = history_changes(records)
        page = Page(history=[history_row(c.lead_id, c.field, c.value, c.at) for c in changes])
        created = self._created(sorted({c.lead_id for c in changes}))
        for (lead_id, _), first in first_changes(changes).items():
            born = created.get(lead_id)
            if born is not None and first.at > born:
                page.history.append(history_row(lead_id, named.name, first.old, born))
        return page

    def _created(self, lead_ids: list[str]) -> dict[str, str]:
        assert self.store is not None
        out: dict[str, str] = {}
        for start in range(0, len(lead_ids), 500):
            chunk = lead_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"select id, created_at from leads where id in ({marks})"
            out.update({str(i): str(c) for i, c in self.store.db.execute(sql, chunk) if c})
        return out

    def _with_history(self, lead_ids: list[str], name: str) -> set[str]:
        assert self.store is not None
        marks = ",".join("?" * len(lead_ids))
        sql = f"select distinct lead_id from lead_history where field = ? and lead_id in ({marks})"
        return {str(row[0]) for row in self.store.db.execute(sql, [name, *lead_ids])}
