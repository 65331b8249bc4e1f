"""``GET /services/data/vXX.X/sobjects/{sObject}/describe`` for the sandbox org.

As Salesforce documents the describe result (REST API, "sObject Describe"): the object's
``name``, ``label``, ``keyPrefix`` and flags, and ``fields``, each with ``name``, ``label``,
``type`` and — for picklists — ``picklistValues`` ``[{active, defaultValue, label,
validFor, value}]``. ``value`` is the API name a record stores; ``label`` is what people
see, and here they differ where the org renamed a value (Lead ``Status``), as real orgs
do. ``Task.CallDisposition`` is a text field, as in a standard org ("Call Result").
"""

from __future__ import annotations

import re
from typing import Any, Final

from sandbox.custom_properties import PROPERTIES as CUSTOM
from sandbox.salesforce_model import (
    INDUSTRIES,
    LEAD_SOURCES,
    LEAD_STATUS_LABELS,
    LEAD_STATUSES,
    SCHEMAS,
    TASK_STATUSES,
)

KEY_PREFIXES: Final = {
    "User": "005",
    "Group": "00G",
    "LeadStatus": "01J",
    "Lead": "00Q",
    "LeadHistory": "017",
    "Task": "00T",
    "Event": "00U",
    "Account": "001",
    "Contact": "003",
    "Opportunity": "006",
}
FIELD_LABELS: Final = {
    "Id": "Record ID",
    "Status": "Status",
    "CallDisposition": "Call Result",
    "CallType": "Call Type",
    "CallDurationInSeconds": "Call Duration",
    "TaskSubtype": "Task Subtype",
    "OwnerId": "Owner ID",
    "WhoId": "Name ID",
    "WhatId": "Related To ID",
    "ActivityDate": "Due Date Only",
    **{p.salesforce: p.label for p in CUSTOM},
}


def _values(pairs: list[tuple[str, str]], default: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "active": True,
            "defaultValue": value == default,
            "label": label,
            "validFor": None,
            "value": value,
        }
        for value, label in pairs
    ]


def _same(values: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    return [(v, v) for v in values]


PICKLISTS: Final[dict[tuple[str, str], list[dict[str, Any]]]] = {
    ("Lead", "Status"): _values(
        [(name, LEAD_STATUS_LABELS[name]) for name, _, _ in LEAD_STATUSES],
        default=next(name for name, _, is_default in LEAD_STATUSES if is_default),
    ),
    ("Lead", "LeadSource"): _values(_same(list(dict.fromkeys(LEAD_SOURCES.values())))),
    ("Lead", "Industry"): _values(_same(list(dict.fromkeys(INDUSTRIES.values())))),
    ("Task", "Status"): _values(_same(TASK_STATUSES), default="Not Started"),
    ("Task", "Priority"): _values(_same(("High", "Normal", "Low")), default="Normal"),
    ("Task", "TaskSubtype"): _values(_same(("Task", "Email", "ListEmail", "Cadence", "Call"))),
    ("Task", "CallType"): _values(_same(("Internal", "Inbound", "Outbound"))),
    **{("Lead", p.salesforce): _values(list(p.options)) for p in CUSTOM},
}
"""Picklist values by (object, field); other picklists of the sandbox have none listed."""


def _label(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


def describe(sobject: str, version: str) -> dict[str, Any] | None:
    """The describe result of ``sobject`` (None: the org has no such object)."""
    schema = SCHEMAS.get(sobject)
    if schema is None:
        return None
    fields = []
    for spec in schema:
        kind = str(spec.type)
        fields.append(
            {
                "name": spec.name,
                "label": _label(spec.name),
                "type": kind,
                "custom": spec.name.endswith("__c"),
                "nillable": spec.name != "Id" and kind != "boolean",
                "aggregatable": kind not in ("anyType", "textarea", "boolean"),
                "filterable": spec.filterable,
                "sortable": spec.sortable,
                "picklistValues": list(PICKLISTS.get((sobject, spec.name), []))
                if kind in ("picklist", "multipicklist")
                else [],
            }
        )
    base = f"/services/data/v{version}/sobjects/{sobject}"
    return {
        "name": sobject,
        "label": _label(sobject),
        "labelPlural": _label(sobject) + "s",
        "keyPrefix": KEY_PREFIXES.get(sobject),
        "custom": False,
        "queryable": True,
        "fields": fields,
        "urls": {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"},
    }
