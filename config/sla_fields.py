"""The CRM fields an SLA file names, per source: what ``sync --sla`` must read beyond the
connector's fixed list (issue 15, item 4).

The connectors always sync the funnel's own fields (stage, status, owner, HubSpot's Leads
object stage, Salesforce's conversion) and a lead's segment and source columns. An SLA
may name more: a recycle reason kept in a property of its own
(``sales.recycle.reason_field: hs_lead_disqualification_reason`` or ``Reason__c``), and —
through the ``segments`` block — the fields that split the figures by segment, source or
tier. Each such name is a :class:`NamedField`: the property's internal name as the CRM
spells it, the SLA key that named it (every error line starts with it), and whether a rule
needs its history (the reason is read *at the recycle instant*, so its history is synced;
a segment is read as it is now).

A name is taken as written, for every source the funnel maps: a HubSpot-only property in
an SLA that also maps Salesforce is refused by the Salesforce sync with the fix, rather
than read as empty there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sync engine imports this module; it need not load the SLA model
    from config.sla import SLA

CANONICAL_FIELDS = frozenset(
    {"stage", "status", "owner", "lead_stage", "converted", "segment", "lead_source", "source"}
)
"""Names of the snapshot's own lead fields: always synced, never a CRM property."""

SEGMENT_KEYS = ("segment_field", "source_field", "tier_field")
"""Keys of the SLA's ``segments`` block that may name a CRM property (read if present)."""


@dataclass(frozen=True)
class NamedField:
    """One CRM property the SLA names: its internal name, the key naming it, history or not."""

    name: str
    key: str
    history: bool = False


def is_property(name: str) -> bool:
    """Whether ``name`` is a CRM property to sync (not one of the snapshot's own fields)."""
    return name not in CANONICAL_FIELDS


def crm_fields(sla: SLA, source: str) -> tuple[NamedField, ...]:
    """The properties ``source``'s sync must read for ``sla``, sorted by name.

    Empty for a source the funnel does not map (its leads are not audited). A property
    named twice is read once, with history if either use needs it.
    """
    if source not in sla.funnel:
        return ()
    named: list[NamedField] = []
    reason = sla.sales.recycle.reason_field
    if is_property(reason):
        named.append(NamedField(reason, "sales.recycle.reason_field", history=True))
    named.extend(_segment_fields(sla))
    merged: dict[str, NamedField] = {}
    for item in named:
        earlier = merged.get(item.name)
        if earlier is None:
            merged[item.name] = item
        elif item.history and not earlier.history:
            merged[item.name] = NamedField(item.name, item.key, history=True)
    return tuple(merged[name] for name in sorted(merged))


def _segment_fields(sla: SLA) -> list[NamedField]:
    """``segments.segment_field`` / ``source_field`` / ``tier_field``, when the SLA has that
    block (added with issue 15, item 5): each a property read as it is now."""
    block = getattr(sla, "segments", None)
    if block is None:
        return []
    found = []
    for key in SEGMENT_KEYS:
        name = getattr(block, key, None)
        if isinstance(name, str) and name and is_property(name):
            found.append(NamedField(name, f"segments.{key}"))
    return found
