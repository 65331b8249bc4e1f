"""The Lead fields an SLA names beyond the fixed list (issue 15, item 4), for Salesforce:
checked against describe before the sync reads anything, and mapped to snapshot rows.

Describe lists only the fields the integration user can see: a field that does not exist
and one hidden by field-level security look the same from here, so the line says both
fixes. A field read with its history also needs field history tracking in the org —
without it LeadHistory has no rows for it, and the lead's value at creation (its current
one when it never changed in the snapshot's view) is all the audit can read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from config.sla_fields import NamedField
from connectors.core import Api, SyncError
from connectors.core.metadata import guess_field
from connectors.salesforce.mapping import optional_text, required_id
from connectors.salesforce.transport import SalesforceTransport
from snapshot.store import Page, canonical_id

SOURCE = "salesforce"
INSPECT = "see `run_audit.py inspect --source salesforce`"


def lead_describe(api: Api, transport: SalesforceTransport) -> list[dict[str, Any]]:
    """The Lead fields the integration user can see (one describe request)."""
    api.stream = "Lead describe"
    reply = api.call(
        "GET /sobjects/Lead/describe",
        lambda: transport.describe("Lead"),
        expect=lambda d: isinstance(d, dict) and isinstance(d.get("fields"), list),
    )
    return [f for f in reply.data["fields"] if isinstance(f, dict) and f.get("name")]


def check_fields(api: Api, transport: SalesforceTransport, fields: Sequence[NamedField]) -> None:
    """Refuse a Lead field the integration user cannot see, before reading any data: one
    line naming the SLA key and both fixes (exit 2), never a column of silent blanks."""
    if not fields:
        return
    visible = lead_describe(api, transport)
    names = {str(f["name"]) for f in visible}
    for named in fields:
        if named.name not in names:
            raise SyncError(missing_line(named, visible))


def missing_line(named: NamedField, visible: Sequence[Mapping[str, Any]]) -> str:
    """``key: Salesforce Lead has no field 'X' the integration user can see: …``."""
    guess = guess_field(named.name, visible)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    return (
        f"{named.key}: Salesforce Lead has no field {named.name!r} the integration user can "
        f"see{hint}: create it, or grant read access in field-level security ({INSPECT})"
    )


def field_rows(
    records: Sequence[Mapping[str, Any]], fields: Sequence[NamedField]
) -> list[dict[str, Any]]:
    """``lead_fields`` rows: each lead's current value of each named field."""
    rows = []
    for record in records:
        lead_id = canonical_id(SOURCE, required_id(record, "Lead"))
        for named in fields:
            value = optional_text(record.get(named.name))
            rows.append({"lead_id": lead_id, "field": named.name, "value": value})
    return rows


def add_field_rows(
    page: Page, records: Sequence[Mapping[str, Any]], fields: Sequence[NamedField]
) -> Page:
    """``page`` with the named fields' current values of ``records``."""
    page.fields.extend(field_rows(records, fields))
    return page
