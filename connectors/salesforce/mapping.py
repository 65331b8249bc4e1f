"""Salesforce records → snapshot rows: users, leads, the funnel changes LeadHistory holds,
and tasks and events as activities.

Pure functions of a record (and the lead's base URL); what a row needs from the snapshot
besides (the lead a contact was converted from, a lead's creation) the streams read
through :class:`connectors.salesforce.facts.SnapshotFacts`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.core import RecordError, StreamStats, read_flag
from connectors.salesforce.specs import SOURCE
from snapshot.instants import InstantError, normalize_instant
from snapshot.lead_names import person_name
from snapshot.store import canonical_id, to_raw_json

USER_PREFIX = "005"
LEAD_PREFIX = "00Q"
CONTACT_PREFIX = "003"

_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")

TASK_KINDS = {"Call": "call", "Email": "email", "ListEmail": "email"}
CALL_DIRECTIONS = {"Inbound": "inbound", "Outbound": "outbound"}


def optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def required_id(record: Mapping[str, Any], sobject: str) -> str:
    crm_id = optional_text(record.get("Id"))
    if crm_id is None:
        raise RecordError(f"Salesforce sent a {sobject} record without an Id; report this")
    return crm_id


def record_instant(value: Any, sobject: str, record_id: str, field_name: str) -> str | None:
    """A Salesforce instant (or date, as its midnight UTC) in the snapshot's format."""
    if value is None or value == "":
        return None
    try:
        return normalize_instant(str(value))
    except InstantError:
        raise RecordError(
            f"Salesforce {sobject} record {record_id} has {field_name}={str(value)[:40]!r}, "
            "which is not an ISO-8601 instant; correct the record in Salesforce (or report it "
            "if Salesforce shows it fine) and run the sync again"
        ) from None


def user_ref(value: Any) -> str | None:
    """``salesforce:{id}`` for a user id; None for a queue (00G…), nobody, or anything else."""
    text = optional_text(value)
    if text and text.startswith(USER_PREFIX) and _ID.match(text):
        return canonical_id(SOURCE, text)
    return None


def _is_id(value: Any) -> bool:
    text = optional_text(value)
    return bool(text and _ID.match(text))


def map_user(record: Mapping[str, Any]) -> dict[str, Any]:
    crm_id = required_id(record, "User")
    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "email": optional_text(record.get("Email")),
        "name": optional_text(record.get("Name")),
        "team": None,
        "active": 1
        if read_flag(record.get("IsActive"), f"Salesforce User {crm_id} IsActive")
        else 0,
        "created_at": record_instant(record.get("CreatedDate"), "User", crm_id, "CreatedDate"),
        "updated_at": record_instant(
            record.get("LastModifiedDate"), "User", crm_id, "LastModifiedDate"
        )
        or record_instant(record.get("SystemModstamp"), "User", crm_id, "SystemModstamp"),
        "raw": to_raw_json(record),
    }


def map_lead(record: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    crm_id = required_id(record, "Lead")
    deleted = read_flag(record.get("IsDeleted"), f"Salesforce Lead {crm_id} IsDeleted")
    modstamp = record_instant(record.get("SystemModstamp"), "Lead", crm_id, "SystemModstamp")
    created = record_instant(record.get("CreatedDate"), "Lead", crm_id, "CreatedDate")
    if created is None:
        raise RecordError(f"Salesforce Lead record {crm_id} has no CreatedDate; report this")
    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "email": optional_text(record.get("Email")),
        "company": optional_text(record.get("Company")),
        "owner_id": user_ref(record.get("OwnerId")),
        "segment": optional_text(record.get("Industry")),
        "lead_source": optional_text(record.get("LeadSource")),
        "created_at": created,
        "stage": None,
        "status": optional_text(record.get("Status")),
        "is_deleted": 1 if deleted else 0,
        "deleted_at": modstamp if deleted else None,
        "updated_at": modstamp,
        "url": f"{base_url}/lightning/r/Lead/{crm_id}/view",
        "raw": to_raw_json(record),
        "name": person_name(record.get("FirstName"), record.get("LastName")),
    }


@dataclass(frozen=True)
class Change:
    """One LeadHistory row that matters to the funnel, already mapped."""

    lead_id: str
    field: str
    value: str | None
    old: str | None
    at: str
    order: tuple[str, str]


def history_changes(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Status, Owner (the Id row of each pair) and leadConverted rows as funnel changes;
    any other field's rows (one the SLA names) as changes of that field."""
    out: list[Change] = []
    for record in records:
        row_id = required_id(record, "LeadHistory")
        lead_crm_id = optional_text(record.get("LeadId"))
        at = record_instant(record.get("CreatedDate"), "LeadHistory", row_id, "CreatedDate")
        if lead_crm_id is None or at is None:
            continue
        kind = record.get("Field")
        old, new = record.get("OldValue"), record.get("NewValue")
        lead_id = canonical_id(SOURCE, lead_crm_id)
        if kind == "Status":
            change = Change(
                lead_id, "status", optional_text(new), optional_text(old), at, (at, row_id)
            )
        elif kind == "Owner":
            data_type = optional_text(record.get("DataType"))
            is_id_row = data_type == "EntityId" if data_type else _is_id(new) or _is_id(old)
            if not is_id_row:
                continue
            change = Change(lead_id, "owner", user_ref(new), user_ref(old), at, (at, row_id))
        elif kind == "leadConverted":
            change = Change(lead_id, "converted", "true", None, at, (at, row_id))
        elif isinstance(kind, str) and kind:
            # A field the SLA names (``Reason__c``): the query asked for it by name, and
            # its rows keep that name, which the audit reads as the SLA writes it.
            value, before = optional_text(new), optional_text(old)
            change = Change(lead_id, kind, value, before, at, (at, row_id))
        else:
            continue
        out.append(change)
    return sorted(out, key=lambda c: c.order)


def history_row(lead_id: str, field_name: str, value: str | None, at: str) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "field": field_name,
        "value": value,
        "changed_at": at,
        "source_type": None,
    }


def first_changes(changes: Iterable[Change]) -> dict[tuple[str, str], Change]:
    """The earliest change of each lead's status, owner and SLA-named fields among
    ``changes`` (a conversion has no value before it)."""
    firsts: dict[tuple[str, str], Change] = {}
    for change in changes:
        if change.field == "converted":
            continue
        key = (change.lead_id, change.field)
        if key not in firsts or change.order < firsts[key].order:
            firsts[key] = change
    return firsts


def activity_kind(record: Mapping[str, Any], sobject: str) -> str:
    """call, email, meeting or task. ``TaskSubtype`` first; a plain task (subtype ``Task``,
    or none) whose ``Type`` is ``Call`` or ``Email`` is that: dialers and API inserts log
    calls so, and leaving them out would make a worked lead look untouched."""
    if sobject == "Event":
        return "meeting"
    subtype = TASK_KINDS.get(str(record.get("TaskSubtype") or ""))
    return subtype or TASK_KINDS.get(str(record.get("Type") or ""), "task")


def map_activity(record: Mapping[str, Any], sobject: str, stats: StreamStats) -> dict[str, Any]:
    """A Task or Event → an ``activities`` row (kind, direction, outcome, when)."""
    crm_id = required_id(record, sobject)

    def instant(name: str) -> str | None:
        return record_instant(record.get(name), sobject, crm_id, name)

    kind = activity_kind(record, sobject)
    deleted = read_flag(record.get("IsDeleted"), f"Salesforce {sobject} {crm_id} IsDeleted")
    direction: str | None = None
    if kind == "call":
        direction = CALL_DIRECTIONS.get(str(record.get("CallType") or ""))
    elif kind == "email":
        direction = "outbound"
    if sobject == "Event":
        occurred = instant("StartDateTime") or instant("ActivityDateTime")
        minutes = record.get("DurationInMinutes")
        duration, gap = _number(minutes, 60.0)
    else:
        occurred = instant("CompletedDateTime") or instant("ActivityDate")
        duration, gap = _number(record.get("CallDurationInSeconds"), 1.0)
    stats.gaps += int(gap)
    created = instant("CreatedDate")
    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "kind": kind,
        "direction": direction,
        "outcome": optional_text(record.get("CallDisposition")) if sobject == "Task" else None,
        "outcome_label": None,
        "status": optional_text(record.get("Status")) if sobject == "Task" else None,
        "subject": optional_text(record.get("Subject")),
        "occurred_at": occurred or created,
        "created_at": created,
        "updated_at": instant("LastModifiedDate") or instant("SystemModstamp"),
        "owner_id": user_ref(record.get("OwnerId")),
        "duration_s": duration,
        "is_deleted": 1 if deleted else 0,
        # A deleted row's SystemModstamp is its deletion (as for leads): an audit as of an
        # earlier instant still sees the activity.
        "deleted_at": instant("SystemModstamp") if deleted else None,
        "raw": to_raw_json(record),
    }


def _number(value: Any, scale: float) -> tuple[float | None, bool]:
    """A number times ``scale``, and whether a value was present but unusable (a gap)."""
    if value is None or value == "":
        return None, False
    try:
        return float(value) * scale, False
    except (TypeError, ValueError):
        return None, True
