"""What a CRM says about its own values: the portal's metadata, as ``inspect`` reads it.

An SLA file must name the CRM's *internal* values (``marketingqualifiedlead``, not the
label ``Marketing Qualified Lead``), and real portals rename, add and hide values. So the
values, with their labels, are read from the CRM itself — HubSpot's properties API,
Salesforce's describe and ``LeadStatus`` — into these small records, which the command
line shows and the starter SLA file is written from. Both connectors fill the same shape.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.core.errors import SyncError
from connectors.core.http import Api


@dataclass(frozen=True)
class Choice:
    """One value a field may take: what the CRM stores, and what people see."""

    value: str
    label: str
    hidden: bool = False
    """Hidden (HubSpot) or inactive (Salesforce): no longer offered, may still be held."""
    converted: bool = False
    """Salesforce: a ``LeadStatus`` with ``IsConverted`` (the status a conversion sets)."""


@dataclass(frozen=True)
class PortalUser:
    """An owner (HubSpot) or user (Salesforce) as the CRM lists it."""

    crm_id: str
    name: str | None
    email: str | None
    active: bool


@dataclass(frozen=True)
class PropertyInfo:
    """One lead property the CRM has (HubSpot contact property, Salesforce Lead field),
    and how often it is filled in a sample of leads (None: not sampled)."""

    name: str
    label: str
    type: str
    custom: bool
    hidden: bool = False
    calculated: bool = False
    filled: int | None = None
    sampled: int | None = None


@dataclass(frozen=True)
class PortalMetadata:
    """A CRM's funnel values, call outcomes and users, each with its label."""

    source: str
    stages: tuple[Choice, ...]
    """HubSpot ``lifecyclestage`` options (Salesforce leads have no stage field)."""
    statuses: tuple[Choice, ...]
    """HubSpot ``hs_lead_status`` options, Salesforce Lead ``Status`` picklist values."""
    outcomes: tuple[Choice, ...] | None
    """Call dispositions; None where the CRM keeps them as free text (Salesforce's
    ``CallDisposition`` unless the org made it a picklist)."""
    users: tuple[PortalUser, ...]
    properties: tuple[PropertyInfo, ...] = ()
    """Every lead property the integration user can see, custom ones first."""
    sample: str | None = None
    """Which leads the fill counts come from, in words."""


class MetadataApi(Api):
    """The sync's :class:`Api` (throttle, retries), with errors worded for ``inspect``."""

    try_again = "run inspect again later"

    def fail(self, what: str) -> SyncError:
        return SyncError(
            self.redactor(f"{self.dialect.source} inspect failed reading {self.stream}: {what}")
        )


def malformed(api: Api, endpoint: str, what: str) -> SyncError:
    """A 2xx answer of the wrong shape, named: which call, and what was missing."""
    return api.fail(
        f"{endpoint} answered without {what}; the CRM's answer is not the documented one "
        "(report this line, with the CRM's version, as a bug)"
    )


def text_of(value: object) -> str | None:
    """A label or name as one clean line (None for empty or non-text)."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def guess_field(name: str, known: Sequence[Mapping[str, Any]]) -> str | None:
    """The field an SLA most likely meant by ``name``, among the CRM's ``known`` fields
    (each with ``name`` and ``label``): the one whose label it is, else a near spelling.

    People write what they see in the CRM's screens — the label — where the internal
    name belongs; both CRMs' "no such field" lines offer the name this finds.
    """
    by_label = {str(f.get("label") or "").strip().lower(): str(f["name"]) for f in known}
    guess = by_label.get(name.strip().lower())
    if guess is None:
        close = difflib.get_close_matches(name, [str(f["name"]) for f in known], n=1)
        guess = close[0] if close else None
    return guess
