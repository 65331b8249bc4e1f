"""The Salesforce objects a sync reads, declared as data: each stream's object, its fields
and their kinds, its cursor field and fixed conditions — and the SOQL built from them.

Adding an object is a declaration here and a mapping, not a copied query loop: the one
query engine (:class:`connectors.salesforce.soql_stream.SoqlStream`) reads any spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from config.sla_fields import NamedField
from snapshot.instants import InstantError, format_instant, parse_instant

SOURCE = "salesforce"


FieldKinds = Mapping[str, str]
"""Field name → kind: ``text``, ``bool``, ``int``, ``float``, ``date`` or ``datetime``.
REST answers are typed JSON already; Bulk API CSV is text, coerced by these kinds so that
a record's ``raw`` is the same whichever API delivered it."""

_AUDIT: FieldKinds = {
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "SystemModstamp": "datetime",
}


@dataclass(frozen=True)
class SObjectSpec:
    """One query as data: object, fields, the cursor field and fixed conditions."""

    stream: str
    sobject: str
    kinds: FieldKinds
    cursor_field: str = "SystemModstamp"
    include_deleted: bool = True
    where: str | None = None
    essential: tuple[str, ...] = ()
    """Fields the mapping cannot do without, besides ``Id`` and the cursor field. Any
    other field an org does not expose (field-level security, an edition without it) is
    dropped from the query for the run, and its values are read as empty."""
    extra: tuple[NamedField, ...] = ()
    """Lead fields the SLA names beyond ``kinds`` (``sync --sla``); checked against
    describe before the sync, so never dropped silently."""

    def without(self, field_name: str) -> SObjectSpec | None:
        """This spec minus an optional field, or None when the field is essential."""
        keep = {"Id", self.cursor_field, *self.essential, *(f.name for f in self.extra)}
        if field_name in keep or field_name not in self.kinds:
            return None
        kinds = {k: v for k, v in self.kinds.items() if k != field_name}
        return replace(self, kinds=kinds)

    def soql(self, since: str | None, until: str | None, *, ordered: bool = True) -> str:
        """``SELECT … WHERE cursor >= since AND cursor < until ORDER BY cursor, Id``.

        ``since`` is floored to the second (SOQL literals need no fraction; a record a few
        milliseconds earlier is dropped client-side); ``until`` is always a whole second.
        The Bulk API refuses ORDER BY, hence ``ordered=False`` for jobs.
        """
        conditions = [self.where] if self.where else []
        if since:
            conditions.append(f"{self.cursor_field} >= {soql_instant(since)}")
        if until:
            conditions.append(f"{self.cursor_field} < {soql_instant(until)}")
        text = f"SELECT {', '.join(self.kinds)} FROM {self.sobject}"
        if conditions:
            text += " WHERE " + " AND ".join(conditions)
        if ordered:
            text += f" ORDER BY {self.cursor_field} ASC, Id ASC"
        return text

    def from_csv(self, row: Mapping[str, str]) -> dict[str, Any]:
        """A Bulk API CSV row as the REST API would have typed it (``""`` is null)."""
        out: dict[str, Any] = {}
        for name, kind in self.kinds.items():
            out[name] = _typed(row.get(name), kind)
        return out


def _typed(text: str | None, kind: str) -> Any:
    if text is None or text == "":
        return None
    try:
        if kind == "bool":
            return text.strip().lower() == "true"
        if kind == "int":
            return int(float(text))
        if kind == "float":
            return float(text)
        if kind == "datetime":
            # REST's rendering (``…+0000``), so raw does not depend on the API used.
            return format_instant(parse_instant(text))[:-1] + "+0000"
    except (ValueError, InstantError):
        return text  # left for the mapping to judge (a gap or a refused record)
    return text


USERS = SObjectSpec(
    stream="users",
    sobject="User",
    kinds={"Id": "text", "Name": "text", "Email": "text", "IsActive": "bool", **_AUDIT},
    include_deleted=False,
)
LEADS = SObjectSpec(
    stream="leads",
    sobject="Lead",
    kinds={
        "Id": "text",
        "FirstName": "text",
        "LastName": "text",
        "Email": "text",
        "Company": "text",
        "Status": "text",
        "OwnerId": "text",
        "LeadSource": "text",
        "Industry": "text",
        "IsConverted": "bool",
        "ConvertedDate": "date",
        "ConvertedContactId": "text",
        "ConvertedOpportunityId": "text",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("Status", "OwnerId", "CreatedDate"),
)
HISTORY_FIELDS = ("Status", "Owner", "leadConverted")


def history_where(fields: Sequence[str]) -> str:
    """``Field IN ('Status', …)``: the LeadHistory rows a sync reads."""
    return "Field IN ({})".format(", ".join(f"'{f}'" for f in fields))


LEAD_HISTORY = SObjectSpec(
    stream="lead_history",
    sobject="LeadHistory",
    kinds={
        "Id": "text",
        "LeadId": "text",
        "Field": "text",
        "DataType": "text",
        "OldValue": "text",
        "NewValue": "text",
        "CreatedDate": "datetime",
        "IsDeleted": "bool",
    },
    cursor_field="CreatedDate",
    where=history_where(HISTORY_FIELDS),
    essential=("LeadId", "Field", "OldValue", "NewValue"),
)


def with_fields(
    leads: SObjectSpec, history: SObjectSpec, fields: Sequence[NamedField]
) -> tuple[SObjectSpec, SObjectSpec]:
    """The Lead query also selecting the SLA's fields, and the LeadHistory query also
    reading the changes of those a rule needs the history of (``Field = 'Reason__c'``)."""
    if not fields:
        return leads, history
    kinds = {**leads.kinds, **{f.name: "text" for f in fields if f.name not in leads.kinds}}
    tracked = [*HISTORY_FIELDS, *(f.name for f in fields if f.history)]
    return (
        replace(leads, kinds=kinds, extra=tuple(fields)),
        replace(history, where=history_where(tracked), extra=tuple(fields)),
    )


CONVERSIONS = SObjectSpec(
    stream="lead_conversions",
    sobject="Lead",
    kinds={
        "Id": "text",
        "ConvertedDate": "date",
        "IsDeleted": "bool",
        "CreatedDate": "datetime",
        "SystemModstamp": "datetime",
    },
    where="IsConverted = true",
    essential=("ConvertedDate",),
)
OPPORTUNITIES = SObjectSpec(
    stream="opportunities",
    sobject="Opportunity",
    kinds={"Id": "text", "StageName": "text", "CloseDate": "date", "SystemModstamp": "datetime"},
    include_deleted=False,
    where="IsWon = true",
    essential=("StageName", "CloseDate"),
)
_ACTIVITY_LINKS: dict[str, str] = {
    "Id": "text",
    "WhoId": "text",
    "WhatId": "text",
    "OwnerId": "text",
    "Subject": "text",
}
"""What a Task and an Event share: the lead (``WhoId``) and the rep (``OwnerId``) it links."""
TASKS = SObjectSpec(
    stream="tasks",
    sobject="Task",
    kinds={
        **_ACTIVITY_LINKS,
        "Status": "text",
        "TaskSubtype": "text",
        "Type": "text",
        "CallType": "text",
        "CallDisposition": "text",
        "CallDurationInSeconds": "int",
        "ActivityDate": "date",
        "CompletedDateTime": "datetime",
        "IsClosed": "bool",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("WhoId", "CreatedDate"),
)
EVENTS = SObjectSpec(
    stream="events",
    sobject="Event",
    kinds={
        **_ACTIVITY_LINKS,
        "ActivityDateTime": "datetime",
        "ActivityDate": "date",
        "StartDateTime": "datetime",
        "EndDateTime": "datetime",
        "DurationInMinutes": "int",
        "IsAllDayEvent": "bool",
        "IsDeleted": "bool",
        **_AUDIT,
    },
    essential=("WhoId", "CreatedDate"),
)


# ------------------------------------------------------------------------------ instants


def soql_instant(instant: str) -> str:
    """A SOQL datetime literal (unquoted, UTC, whole seconds, floored)."""
    return parse_instant(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def whole_second(at: datetime) -> str:
    """``at`` floored to the second, in the snapshot's format."""
    return format_instant(at.replace(microsecond=0))
