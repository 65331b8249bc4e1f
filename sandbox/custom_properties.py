"""Custom lead properties the sandboxes serve, as real portals and orgs have them
(issue 15, item 4): a disqualification reason, a tier and a segment, with values.

Every property is defined once here — name per CRM, label, type, options — and valued
from the lead: a test sets a lead's values (``Lead.custom``, oldest first); otherwise a
value is *derived* from the generated lead without drawing random numbers, so the
generated CRMs (and the demo's pinned figures) stay what they were:

* the reason is set when the lead's status becomes a recycled one (UNQUALIFIED,
  BAD_TIMING), at that instant, to one of :data:`REASONS` chosen by the lead's key — a
  lead whose key is a multiple of 5 gets none, as reps forget to give one;
* the tier is set at creation, by the key (enterprise, mid-market, SMB);
* the segment is the lead's industry grouped in two, at creation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sandbox.generator import CRM, Lead

RECYCLED_STATUSES = ("UNQUALIFIED", "BAD_TIMING")
REASONS = ("NO_BUDGET", "NO_RESPONSE", "WRONG_CONTACT", "COMPETITOR")
TIERS = ("enterprise", "mid_market", "smb")


@dataclass(frozen=True)
class CustomProperty:
    """One custom lead property: its name in each CRM, label, type and options."""

    key: str
    hubspot: str
    salesforce: str
    label: str
    options: tuple[tuple[str, str], ...]
    """(internal value, label) pairs: labels differ from values, as users meet them."""


PROPERTIES: tuple[CustomProperty, ...] = (
    CustomProperty(
        "reason",
        "hs_lead_disqualification_reason",
        "Reason__c",
        "Disqualification Reason",
        (
            ("NO_BUDGET", "No budget"),
            ("NO_RESPONSE", "No response"),
            ("WRONG_CONTACT", "Wrong contact"),
            ("COMPETITOR", "Went with a competitor"),
        ),
    ),
    CustomProperty(
        "tier",
        "tier",
        "Tier__c",
        "Tier",
        (("enterprise", "Enterprise"), ("mid_market", "Mid-market"), ("smb", "SMB")),
    ),
    CustomProperty(
        "segment",
        "segment",
        "Segment__c",
        "Segment",
        (("tech", "Technology"), ("other", "Other industries")),
    ),
)
BY_HUBSPOT = {p.hubspot: p for p in PROPERTIES}
BY_SALESFORCE = {p.salesforce: p for p in PROPERTIES}

HIDDEN_SALESFORCE_FIELD = "Score__c"
"""A Lead field the org has but the integration user cannot see (field-level security):
absent from describe, refused in SOQL with INVALID_FIELD — as Salesforce does."""


def history(lead: Lead, prop: CustomProperty) -> list[tuple[datetime, str | None]]:
    """The property's values on ``lead``, oldest first: the test's, else the derived ones."""
    if prop.key in lead.custom:
        return list(lead.custom[prop.key])
    if prop.key == "tier":
        return [(lead.created_at, TIERS[lead.key % len(TIERS)])]
    if prop.key == "segment":
        tech = lead.industry == "COMPUTER_SOFTWARE"
        return [(lead.created_at, "tech" if tech else "other")]
    return _derived_reasons(lead)


def current(lead: Lead, prop: CustomProperty) -> str | None:
    """The property's value now (None: empty)."""
    values = history(lead, prop)
    return values[-1][1] if values else None


def _derived_reasons(lead: Lead) -> list[tuple[datetime, str | None]]:
    if lead.key % 5 == 0:
        return []
    out: list[tuple[datetime, str | None]] = []
    for entry in lead.history:
        if entry.field == "status" and entry.value in RECYCLED_STATUSES:
            out.append((entry.at, REASONS[lead.key % len(REASONS)]))
    return out


def set_value(crm: CRM, lead_key: int, key: str, value: str | None, at: datetime) -> Lead:
    """Set a custom property on a lead at ``at`` (a rep's edit): its history grows by one
    entry and the lead counts as modified, so an incremental sync sees it."""
    prop = next(p for p in PROPERTIES if p.key == key)
    with crm.lock:
        lead = crm.lead(lead_key)
        values = history(lead, prop)
        lead.custom[key] = sorted([*values, (at, value)], key=lambda pair: pair[0])
        lead.updated_at = max(lead.updated_at, at)
        crm.version += 1
        return lead
