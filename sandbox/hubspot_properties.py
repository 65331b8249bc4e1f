"""``GET /crm/v3/properties/contacts`` and ``…/contacts/{propertyName}`` for the sandbox
portal: every contact property it serves, default and custom, as HubSpot documents the
property object (``name``, ``label``, ``type``, ``fieldType``, ``groupName``, ``options``,
``hidden``, ``calculated``, ``hubspotDefined``, ``archived``).

Custom properties (:mod:`sandbox.custom_properties`) come with labels that differ from
their internal names and values, as users meet them; ``hubspotDefined`` is false for the
portal's own (``tier``, ``segment``) and true for HubSpot's default
``hs_lead_disqualification_reason``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sandbox.custom_properties import BY_HUBSPOT

_TYPES: dict[str, tuple[str, str, str]] = {
    "email": ("string", "text", "Email"),
    "firstname": ("string", "text", "First Name"),
    "lastname": ("string", "text", "Last Name"),
    "company": ("string", "text", "Company Name"),
    "industry": ("string", "text", "Industry"),
    "hs_analytics_source": ("enumeration", "select", "Original Source"),
    "lifecyclestage": ("enumeration", "radio", "Lifecycle Stage"),
    "hs_lead_status": ("enumeration", "select", "Lead Status"),
    "hubspot_owner_id": ("enumeration", "select", "Contact owner"),
    "hubspot_owner_assigneddate": ("datetime", "date", "Owner Assigned Date"),
    "createdate": ("datetime", "date", "Create Date"),
    "lastmodifieddate": ("datetime", "date", "Last Modified Date"),
    "hs_object_id": ("number", "number", "Record ID"),
    "hs_merged_object_ids": ("enumeration", "checkbox", "Merged Contact IDs"),
}
_CALCULATED = frozenset({"hs_object_id", "lastmodifieddate", "hs_merged_object_ids"})


def definition(
    name: str, known: Sequence[str], options: Mapping[str, Mapping[str, str]]
) -> dict[str, Any] | None:
    """The property object of ``name`` (None: the portal has no such contact property).

    ``known``: the contact properties the portal serves; ``options``: value → label of
    the default enumerations (lifecycle stages, lead statuses).
    """
    custom = BY_HUBSPOT.get(name)
    if custom is not None:
        return _object(
            name,
            custom.label,
            ("enumeration", "select"),
            list(custom.options),
            defined=name.startswith("hs_"),
            calculated=False,
        )
    if name not in known:
        return None
    kind, field_type, label = _TYPES.get(name, ("datetime", "date", _date_label(name)))
    pairs = list(options.get(name, {}).items())
    return _object(
        name, label, (kind, field_type), pairs, defined=True, calculated=name in _CALCULATED
    )


def every_definition(
    known: Sequence[str], options: Mapping[str, Mapping[str, str]]
) -> list[dict[str, Any]]:
    """All contact properties: the served defaults, then the custom ones."""
    names = [*known, *(n for n in BY_HUBSPOT if n not in known)]
    found = (definition(name, known, options) for name in names)
    return [item for item in found if item is not None]


def _date_label(name: str) -> str:
    stage = name.removeprefix("hs_lifecyclestage_").removesuffix("_date")
    return f"Became a {stage} date"


def _object(
    name: str,
    label: str,
    kinds: tuple[str, str],
    pairs: list[tuple[str, str]],
    *,
    defined: bool,
    calculated: bool,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": kinds[0],
        "fieldType": kinds[1],
        "groupName": "contactinformation",
        "options": [
            {"label": text, "value": value, "displayOrder": n, "hidden": False}
            for n, (value, text) in enumerate(pairs)
        ],
        "hidden": False,
        "calculated": calculated,
        "hasUniqueValue": False,
        "hubspotDefined": defined,
        "archived": False,
    }
