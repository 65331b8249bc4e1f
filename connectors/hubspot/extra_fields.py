"""The contact properties an SLA names beyond the fixed list (issue 15, item 4): checked
against the portal before the sync reads anything, and mapped to snapshot rows.

Mapping: a property's current value becomes a ``lead_fields`` row (an empty one too, so a
cleared value replaces the old); with history (the recycle reason, read at the recycle
instant), each change becomes a ``lead_history`` row whose ``field`` is the property's
name — the name the SLA uses, so the audit reads it as it reads ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from config.sla_fields import NamedField
from connectors.core import Api, RefusedError, SyncError
from connectors.core.metadata import guess_field
from connectors.hubspot.mapping import MappingContext, read_instant
from connectors.hubspot.specs import SOURCE
from connectors.hubspot.transport import HubSpotTransport
from snapshot.store import Page, canonical_id

PROPERTIES_ENDPOINT = "GET /crm/v3/properties/contacts"
INSPECT = "see `run_audit.py inspect --source hubspot`"


def contact_properties(api: Api, transport: HubSpotTransport) -> list[dict[str, Any]]:
    """Every contact property the portal defines (one request: HubSpot does not page it)."""
    reply = api.call(
        PROPERTIES_ENDPOINT,
        lambda: transport.plain_get("/crm/v3/properties/contacts"),
        expect=lambda d: isinstance(d, dict) and isinstance(d.get("results"), list),
    )
    return [p for p in reply.data["results"] if isinstance(p, dict) and p.get("name")]


def check_fields(api: Api, transport: HubSpotTransport, fields: Sequence[NamedField]) -> None:
    """Refuse, before any data is read, a property the portal does not have: one line
    naming the SLA key, the closest property and the fix (exit 2) — read as empty, it
    would silently turn the rule's figure into a different number."""
    if not fields:
        return
    api.stream = "properties"
    try:
        known = contact_properties(api, transport)
    except RefusedError as exc:
        if exc.status not in (401, 403):
            raise
        raise SyncError(
            f"{fields[0].key}: HubSpot refused to list contact properties (HTTP "
            f"{exc.status}), so {fields[0].name!r} cannot be checked: give the app the "
            "crm.schemas.contacts.read scope"
        ) from None
    names = {str(p["name"]) for p in known}
    for named in fields:
        if named.name not in names:
            raise SyncError(missing_line(named, known))


def missing_line(named: NamedField, known: Sequence[Mapping[str, Any]]) -> str:
    """``key: HubSpot has no contact property 'x' (did you mean 'y'?): the fix``."""
    guess = guess_field(named.name, known)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return (
        f"{named.key}: HubSpot has no contact property {named.name!r}{hint}: write the "
        f"property's internal name, {INSPECT}"
    )


def add_field_rows(
    page: Page,
    records: Sequence[Mapping[str, Any]],
    fields: Sequence[NamedField],
    ctx: MappingContext,
) -> Page:
    """``page`` with the named properties of ``records``: current values, and history
    (which the page then states completely for those leads and properties)."""
    if not fields:
        return page
    historied = tuple(f.name for f in fields if f.history)
    if historied and page.history_for:
        page.history_fields = (*page.history_fields, *historied)
    for record in records:
        crm_id = str(record.get("id"))
        lead_id = canonical_id(SOURCE, crm_id)
        props = record.get("properties") or {}
        with_history = record.get("propertiesWithHistory") or {}
        for named in fields:
            value = _text(props.get(named.name))
            page.fields.append({"lead_id": lead_id, "field": named.name, "value": value})
            if named.history:
                page.history.extend(
                    history_rows(lead_id, crm_id, named.name, with_history, props, ctx)
                )
    page.issues.extend(ctx.take_issues())
    return page


def history_rows(
    lead_id: str,
    crm_id: str,
    name: str,
    with_history: Mapping[str, Any],
    current: Mapping[str, Any],
    ctx: MappingContext,
) -> list[dict[str, Any]]:
    """One property's history as ``lead_history`` rows (``field`` = its name), oldest
    first; two entries at one millisecond keep the one equal to the current value."""
    rows: dict[str, dict[str, Any]] = {}
    for entry in with_history.get(name) or []:
        if not isinstance(entry, Mapping):
            continue
        changed = read_instant(entry.get("timestamp"), "contacts", crm_id, f"{name} history", ctx)
        if changed is None:
            continue
        value = _text(entry.get("value"))
        if changed not in rows or value == _text(current.get(name)):
            rows[changed] = {
                "lead_id": lead_id,
                "field": name,
                "value": value,
                "changed_at": changed,
                "source_type": _text(entry.get("sourceType")),
            }
    return [rows[at] for at in sorted(rows)]


def _text(value: Any) -> str | None:
    return None if value is None or str(value) == "" else str(value)
