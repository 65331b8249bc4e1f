"""The HubSpot calls the streams make — list, search, batch read, association read — each
one request (or a few, chunked to HubSpot's caps) through ``Api.call`` (throttle + retry).

An answer counts only if it carries a ``results`` list (:func:`has_results`); anything
else is retried by the engine like a cut-short answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.core import Api, Reply, chunked
from connectors.hubspot.specs import (
    ASSOCIATION_BATCH_LIMIT,
    BATCH_HISTORY_LIMIT,
    LIST_LIMIT,
    SEARCH_LIMIT,
    ObjectSpec,
)
from connectors.hubspot.transport import HubSpotTransport
from snapshot.instants import instant_to_epoch_ms


def has_results(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("results"), list)


def next_after(data: Mapping[str, Any]) -> str | None:
    after = ((data.get("paging") or {}).get("next") or {}).get("after")
    return str(after) if after not in (None, "") else None


@dataclass
class HubSpotReader:
    """The HubSpot calls the streams make, each through ``Api.call`` (throttle + retry)."""

    transport: HubSpotTransport

    def list_page(self, api: Api, spec: ObjectSpec, after: str | None, *, archived: bool) -> Reply:
        associations = () if spec.is_contact else ("contacts",)
        return api.call(
            f"GET /crm/v3/objects/{spec.object_type}" + ("?archived=true" if archived else ""),
            lambda: self.transport.list_page(
                spec.object_type,
                limit=spec.list_limit,
                after=after,
                properties=spec.properties,
                history=spec.history,
                associations=associations,
                archived=archived,
            ),
            expect=has_results,
        )

    def ids_page(self, api: Api, spec: ObjectSpec, after: str | None) -> Reply:
        """Archived records, ids and ``archivedAt`` only, at the plain page cap."""
        return api.call(
            f"GET /crm/v3/objects/{spec.object_type}?archived=true",
            lambda: self.transport.list_page(
                spec.object_type,
                limit=LIST_LIMIT,
                after=after,
                properties=(spec.modified,),
                archived=True,
            ),
            expect=has_results,
        )

    def search(
        self,
        api: Api,
        spec: ObjectSpec,
        since: str,
        properties: Sequence[str],
        *,
        tied_after: str | None = None,
    ) -> Reply:
        """One page of changes: ``modified >= since`` sorted by ``modified``; or, with
        ``tied_after``, the records *at* ``since`` with ``hs_object_id > tied_after``, sorted
        by id — HubSpot does not say how it orders equal sort keys, so a timestamp shared by
        more records than a page holds is walked by id, never by an offset among equals."""
        stamp = str(instant_to_epoch_ms(since))
        if tied_after is None:
            filters = [{"propertyName": spec.modified, "operator": "GTE", "value": stamp}]
            sort = spec.modified
        else:
            filters = [
                {"propertyName": spec.modified, "operator": "EQ", "value": stamp},
                {"propertyName": "hs_object_id", "operator": "GT", "value": tied_after},
            ]
            sort = "hs_object_id"
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(properties),
            "limit": SEARCH_LIMIT,
        }
        return api.call(
            f"POST /crm/v3/objects/{spec.object_type}/search",
            lambda: self.transport.search_page(spec.object_type, body),
            lanes=("app", "search"),
            expect=has_results,
        )

    def read_with_history(
        self, api: Api, spec: ObjectSpec, ids: Sequence[str], *, archived: bool = False
    ) -> list[dict[str, Any]]:
        """Batch read (≤ 50 with history); ids HubSpot no longer has are left out."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunked(list(ids), BATCH_HISTORY_LIMIT):
            reply = api.call(
                f"POST /crm/v3/objects/{spec.object_type}/batch/read"
                + ("?archived=true" if archived else ""),
                lambda chunk=chunk: self.transport.batch_read(
                    spec.object_type,
                    chunk,
                    properties=spec.properties,
                    history=spec.history,
                    archived=archived,
                ),
                expect=has_results,
            )
            for record in reply.data["results"]:
                found[str(record.get("id"))] = record
        return [found[i] for i in ids if i in found]

    def contact_links(self, api: Api, spec: ObjectSpec, ids: Sequence[str]) -> dict[str, list[str]]:
        """v4 association batch read: engagement id → contact ids (following per-id paging)."""
        links: dict[str, set[str]] = {i: set() for i in ids}
        pending: list[dict[str, str]] = [{"id": i} for i in ids]
        while pending:
            batch, pending = pending[:ASSOCIATION_BATCH_LIMIT], pending[ASSOCIATION_BATCH_LIMIT:]
            reply = api.call(
                f"POST /crm/v4/associations/{spec.object_type}/contacts/batch/read",
                lambda batch=batch: self.transport.association_page(
                    spec.object_type, "contacts", batch
                ),
                expect=has_results,
            )
            for result in reply.data["results"]:
                from_id = str((result.get("from") or {}).get("id"))
                for target in result.get("to") or []:
                    if target.get("toObjectId") is not None:
                        links.setdefault(from_id, set()).add(str(target["toObjectId"]))
                after = next_after(result)
                if after:
                    pending.append({"id": from_id, "after": after})
        return {from_id: sorted(contact_ids) for from_id, contact_ids in links.items()}
