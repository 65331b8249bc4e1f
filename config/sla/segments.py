"""Which lead fields split every rule's figures: the segment, the lead source, the tier.

```yaml
segments:
  segment_field: segment        # default: HubSpot industry, Salesforce Industry
  source_field: lead_source     # default: HubSpot hs_analytics_source, Salesforce LeadSource
  tier_field: source            # optional: a third field tiers may match (``when: {tier: …}``)
```

A field is one of the snapshot's lead columns (:data:`LEAD_FIELDS`) or a CRM property's
internal name (``customer_tier``, ``Tier__c``): ``sync --sla`` then reads that property for
every lead (``lead_fields``), and an audit of a snapshot never synced with it stops with
the fix rather than put every handoff in one "(none)" group where every tier matches
nothing. A display label ("Customer Tier") names nothing the CRM can be asked for and is
refused here.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

from config.sla.sales import PROPERTY_NAME
from config.sla.wording import as_written

LEAD_FIELDS: dict[str, str] = {
    "segment": "HubSpot industry, Salesforce Industry",
    "lead_source": "HubSpot hs_analytics_source, Salesforce LeadSource",
    "source": "the CRM the lead lives in: hubspot or salesforce",
}
"""The lead columns a split or a tier can read, with what each holds."""

NO_VALUE = "(none)"
"""The group of handoffs whose lead has no value in the field."""


def lead_field(name: str) -> str:
    """``name`` stripped, or a ValueError naming the fields that can be used."""
    field = name.strip()
    if field in LEAD_FIELDS or PROPERTY_NAME.match(field):
        return field
    known = "; ".join(f"{column} ({holds})" for column, holds in LEAD_FIELDS.items())
    raise ValueError(
        f"{as_written(name)} is not a field name: use one of {known}, or a CRM property's "
        "internal name (run_audit.py inspect lists them; sync --sla then reads it)"
    )


class Segments(BaseModel):
    """The lead fields that split every rule (``by_segment``, ``by_lead_source``) and that
    tiers match (``when: {segment: …, source: …, tier: …}``)."""

    model_config = ConfigDict(extra="forbid")

    segment_field: str = "segment"
    source_field: str = "lead_source"
    tier_field: str | None = None

    @field_validator("segment_field", "source_field", "tier_field")
    @classmethod
    def _synced(cls, name: str | None) -> str | None:
        return None if name is None else lead_field(name)

    def field_for(self, key: str) -> str | None:
        """The lead column a tier's ``when`` key reads (None: ``tier`` with no tier field)."""
        return {
            "segment": self.segment_field,
            "source": self.source_field,
            "tier": self.tier_field,
        }[key]
