"""HubSpot records → snapshot rows: owners, contacts with their funnel history, engagements
with their contact links.

Malformed records: a timestamp that HubSpot sent but that is not an instant ends the
sync with one line naming the object type, record id and field — the audit measures
time, and a guessed instant would silently move every figure. A date-time without a
time zone is the exception: HubSpot stores datetimes in UTC, so it is read as UTC, kept,
and noted in ``data_issues`` (the report's data notes say so, nothing moves silently).
A duration that is not a number is stored as empty and counted (``StreamStats.gaps``):
the audit can live without it. ``hs_merged_object_ids`` is kept in ``raw`` so the audit
can name contacts merged in HubSpot after an earlier sync stored them separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from config.dispositions import HUBSPOT_DISPOSITION_LABELS
from connectors.core import RecordError, StreamStats, read_flag
from connectors.hubspot.specs import HISTORY_FIELDS, SOURCE, ObjectSpec
from snapshot.instants import (
    InstantError,
    epoch_ms_to_instant,
    format_instant,
    normalize_instant,
    parse_instant,
)
from snapshot.lead_names import person_name
from snapshot.quality import naive_instant
from snapshot.store import Page, canonical_id, to_raw_json

DIRECTIONS = {
    "OUTBOUND": "outbound",
    "INBOUND": "inbound",
    "EMAIL": "outbound",
    "INCOMING_EMAIL": "inbound",
    "FORWARDED_EMAIL": "forwarded",
}

# Keys of a HubSpot record kept in ``raw``: the same whichever endpoint delivered it
# (list, search, batch read), so a full and an incremental sync store identical rows.
RAW_KEYS = ("id", "properties", "propertiesWithHistory", "createdAt", "updatedAt", "archived")
RAW_KEYS_ARCHIVED = (*RAW_KEYS, "archivedAt")


@dataclass
class MappingContext:
    """What mapping needs beyond the record: where the CRM's UI lives."""

    portal_id: str | None = None
    ui_domain: str = "app.hubspot.com"
    issues: list[dict[str, Any]] = field(default_factory=list)
    """``data_issues`` rows noted while mapping, taken by the page they belong to."""

    def contact_url(self, crm_id: str) -> str | None:
        if not self.portal_id:
            return None
        return f"https://{self.ui_domain}/contacts/{self.portal_id}/record/0-1/{crm_id}"

    def take_issues(self) -> list[dict[str, Any]]:
        taken, self.issues = self.issues, []
        return taken


_TABLE_OF = {"contacts": "leads", "owners": "owners"}

EPOCH_MS_DIGITS = (12, 14)
"""An instant written as epoch milliseconds has 12–14 digits (1973 to 5138); HubSpot sends
some date properties that way (``createdate`` on older portals, custom datetime ones)."""


def read_instant(
    value: Any,
    object_type: str,
    record_id: str,
    field_name: str,
    ctx: MappingContext | None = None,
) -> str | None:
    """A HubSpot instant in the snapshot's format; a value that is no instant is refused.

    An instant without a time zone (``2026-10-05T10:00:00``) is read as UTC — HubSpot
    stores every datetime in UTC — and kept, with a ``data_issues`` note through ``ctx``,
    so the report says so: refusing it would stop the night's sync for one record.
    """
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and EPOCH_MS_DIGITS[0] <= len(text) <= EPOCH_MS_DIGITS[1]:
        return epoch_ms_to_instant(text)  # epoch milliseconds: some properties come so
    try:
        return normalize_instant(text)
    except InstantError:
        naive = _naive(str(value))
        if naive is not None:
            if ctx is not None:
                table = _TABLE_OF.get(object_type, "activities")
                ctx.issues.append(
                    naive_instant(table, canonical_id(SOURCE, record_id), SOURCE, field_name, value)
                )
            return naive
        raise RecordError(
            f"HubSpot {object_type} record {record_id} has {field_name}={str(value)[:40]!r}, "
            "which is not an ISO-8601 instant; correct the record in HubSpot (or report it "
            "if HubSpot shows it fine) and run the sync again"
        ) from None


def _naive(text: str) -> str | None:
    """A date-time without an offset, as UTC in the snapshot's format; None if it is not one."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        return None
    return format_instant(parsed.replace(tzinfo=UTC))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text != "" else None


def _owner(value: Any) -> str | None:
    text = _text(value)
    return canonical_id(SOURCE, text) if text else None


def _archived(record: Mapping[str, Any], object_type: str, crm_id: str) -> bool:
    """``archived`` read by its value: ``"false"`` sent as text is not a deletion."""
    return read_flag(
        record.get("archived"), f"HubSpot {object_type} record {crm_id} field archived"
    )


def _raw(record: Mapping[str, Any], archived: bool) -> str:
    keys = RAW_KEYS_ARCHIVED if archived else RAW_KEYS
    return to_raw_json({k: record[k] for k in keys if k in record})


def _record_id(record: Mapping[str, Any], object_type: str) -> str:
    record_id = record.get("id")
    if record_id is None or str(record_id) == "":
        raise RecordError(f"HubSpot sent a {object_type} record without an id; report this")
    return str(record_id)


def map_owner(record: Mapping[str, Any], *, active: bool) -> dict[str, Any]:
    crm_id = _record_id(record, "owners")
    first, last = _text(record.get("firstName")), _text(record.get("lastName"))
    name = " ".join(part for part in (first, last) if part) or None
    teams = record.get("teams") or []
    team = next(
        (entry.get("name") for entry in teams if isinstance(entry, dict) and entry.get("primary")),
        None,
    )
    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "email": _text(record.get("email")),
        "name": name,
        "team": team,
        "active": 1 if active and not _archived(record, "owners", crm_id) else 0,
        "created_at": read_instant(record.get("createdAt"), "owners", crm_id, "createdAt"),
        "updated_at": read_instant(record.get("updatedAt"), "owners", crm_id, "updatedAt"),
        "raw": to_raw_json(record),
    }


def map_contact(
    record: Mapping[str, Any], ctx: MappingContext
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A contact → its ``leads`` row and its complete ``lead_history``."""
    crm_id = _record_id(record, "contacts")
    props = record.get("properties") or {}
    lead_id = canonical_id(SOURCE, crm_id)
    archived = _archived(record, "contacts", crm_id)
    created = read_instant(props.get("createdate"), "contacts", crm_id, "createdate", ctx)
    updated = read_instant(
        props.get("lastmodifieddate"), "contacts", crm_id, "lastmodifieddate", ctx
    )
    row = {
        "id": lead_id,
        "source": SOURCE,
        "crm_id": crm_id,
        "email": _text(props.get("email")),
        "company": _text(props.get("company")),
        "owner_id": _owner(props.get("hubspot_owner_id")),
        "segment": _text(props.get("industry")),
        "lead_source": _text(props.get("hs_analytics_source")),
        "created_at": created
        or read_instant(record.get("createdAt"), "contacts", crm_id, "createdAt", ctx),
        "stage": _text(props.get("lifecyclestage")),
        "status": _text(props.get("hs_lead_status")),
        "is_deleted": 1 if archived else 0,
        "deleted_at": (
            read_instant(record.get("archivedAt"), "contacts", crm_id, "archivedAt", ctx)
            if archived
            else None
        ),
        "updated_at": updated
        or read_instant(record.get("updatedAt"), "contacts", crm_id, "updatedAt", ctx),
        "url": ctx.contact_url(crm_id),
        "raw": _raw(record, archived),
        "name": person_name(props.get("firstname"), props.get("lastname")),
    }
    history = record.get("propertiesWithHistory") or {}
    return row, map_history(lead_id, crm_id, history, props, ctx=ctx)


def map_history(
    lead_id: str,
    crm_id: str,
    with_history: Mapping[str, Any],
    current: Mapping[str, Any],
    *,
    ctx: MappingContext | None = None,
) -> list[dict[str, Any]]:
    """Property history → ``lead_history`` rows, oldest first.

    HubSpot's entry order is unverified, so entries are sorted here. Two entries of one
    field at the same millisecond collapse to one row (the table's key): the one equal to
    the current value wins if there is one, else the first HubSpot lists.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for prop, field_name in HISTORY_FIELDS.items():
        entries = with_history.get(prop) or []
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            changed = read_instant(
                entry.get("timestamp"), "contacts", crm_id, f"{prop} history", ctx
            )
            if changed is None:
                continue
            raw_value = _text(entry.get("value"))
            value = _owner(raw_value) if field_name == "owner" else raw_value
            key = (field_name, changed)
            row = {
                "lead_id": lead_id,
                "field": field_name,
                "value": value,
                "changed_at": changed,
                "source_type": _text(entry.get("sourceType")),
            }
            if key not in rows or raw_value == _text(current.get(prop)):
                rows[key] = row
    return sorted(rows.values(), key=lambda r: (r["changed_at"], r["field"]))


def _duration_s(
    spec: ObjectSpec, props: Mapping[str, Any], record_id: str
) -> tuple[float | None, bool]:
    """Duration in seconds and whether a value was present but unusable (a gap)."""
    if spec.kind == "call":
        raw = props.get("hs_call_duration")
        if raw in (None, ""):
            return None, False
        try:
            return float(raw) / 1000, False
        except (TypeError, ValueError):
            return None, True
    if spec.kind == "meeting":
        start, end = props.get("hs_meeting_start_time"), props.get("hs_meeting_end_time")
        if start in (None, "") or end in (None, ""):
            return None, False
        try:
            return (parse_instant(str(end)) - parse_instant(str(start))).total_seconds(), False
        except InstantError:
            return None, True
    return None, False


def map_activity(
    record: Mapping[str, Any],
    spec: ObjectSpec,
    stats: StreamStats,
    ctx: MappingContext | None = None,
) -> dict[str, Any]:
    crm_id = _record_id(record, spec.object_type)
    props = record.get("properties") or {}
    archived = _archived(record, spec.object_type, crm_id)
    kind = spec.kind or spec.object_type
    outcome = None
    if spec.kind == "call":
        outcome = _text(props.get("hs_call_disposition"))
    elif spec.kind == "meeting":
        outcome = _text(props.get("hs_meeting_outcome"))
    duration, gap = _duration_s(spec, props, crm_id)
    stats.gaps += int(gap)
    direction = _text(props.get(spec.direction)) if spec.direction else None

    def instant(name: str, value: Any) -> str | None:
        return read_instant(value, spec.object_type, crm_id, name, ctx)

    return {
        "id": canonical_id(SOURCE, crm_id),
        "source": SOURCE,
        "crm_id": crm_id,
        "kind": kind,
        "direction": DIRECTIONS.get(direction or ""),
        "outcome": outcome,
        "outcome_label": HUBSPOT_DISPOSITION_LABELS.get(outcome or "")
        if spec.kind == "call"
        else None,
        "status": _text(props.get(spec.status)) if spec.status else None,
        "subject": _text(props.get(spec.subject)) if spec.subject else None,
        "occurred_at": instant("hs_timestamp", props.get("hs_timestamp")),
        "created_at": instant("hs_createdate", props.get("hs_createdate"))
        or instant("createdAt", record.get("createdAt")),
        "updated_at": instant("hs_lastmodifieddate", props.get("hs_lastmodifieddate"))
        or instant("updatedAt", record.get("updatedAt")),
        "owner_id": _owner(props.get("hubspot_owner_id")),
        "duration_s": duration,
        "is_deleted": 1 if archived else 0,
        "deleted_at": instant("archivedAt", record.get("archivedAt")) if archived else None,
        "raw": _raw(record, archived),
    }


def listed_contact_ids(record: Mapping[str, Any]) -> tuple[list[str], bool]:
    """Contact ids from a list answer's ``associations``, and whether the list was cut."""
    block = (record.get("associations") or {}).get("contacts") or {}
    ids = sorted({str(a["id"]) for a in block.get("results") or [] if a.get("id") is not None})
    truncated = bool((block.get("paging") or {}).get("next"))
    return ids, truncated


def activity_page(
    records: Sequence[Mapping[str, Any]],
    spec: ObjectSpec,
    links: Mapping[str, Sequence[str]] | None,
    stats: StreamStats,
    ctx: MappingContext | None = None,
) -> Page:
    """Activity rows, and — when ``links`` is given — their complete contact links.

    ``links=None`` leaves the activities' stored links alone: an incremental search
    page, whose links :class:`~connectors.hubspot.links.LinksStream` reads afterwards.
    """
    page = Page()
    for record in records:
        row = map_activity(record, spec, stats, ctx)
        page.activities.append(row)
        if links is None:
            continue
        page.links_for.append(row["id"])
        for contact_id in links.get(row["crm_id"], ()):
            page.links.append(
                {"activity_id": row["id"], "lead_id": canonical_id(SOURCE, contact_id)}
            )
    if ctx is not None:
        page.issues.extend(ctx.take_issues())
    return page


def contact_page(records: Sequence[Mapping[str, Any]], ctx: MappingContext) -> Page:
    """Contacts with the history of their own fields, which the page replaces; other
    fields' history (Leads-object stages, ``lead_objects``) is left as it is."""
    page = Page(history_fields=tuple(HISTORY_FIELDS.values()))
    for record in records:
        row, history = map_contact(record, ctx)
        page.leads.append(row)
        page.history_for.append(row["id"])
        page.history.extend(history)
        if not row["is_deleted"]:
            page.merged_leads.extend((lead, row["updated_at"]) for lead in merged_ids(record))
    page.issues.extend(ctx.take_issues())
    return page


def merged_ids(record: Mapping[str, Any]) -> list[str]:
    """Lead ids of the contacts merged into this one (``hs_merged_object_ids``).

    HubSpot lists a merged-away contact nowhere afterwards (neither live nor archived), so
    without this the snapshot would keep it live and count its person twice. The merge
    time is not a property of its own; the survivor's ``lastmodifieddate`` as first seen
    with the id is no earlier than the merge, so an audit as of an earlier instant still
    sees the lead, as the CRM then did.
    """
    props = record.get("properties") or {}
    text = _text(props.get("hs_merged_object_ids")) or ""
    return [
        canonical_id(SOURCE, part.strip())
        for part in text.replace(",", ";").split(";")
        if part.strip()
    ]
