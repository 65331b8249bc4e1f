"""HubSpot's labels of the funnel values: one property definition read per funnel field
(``GET /crm/v3/properties/contacts/{name}``, whose ``options`` carry value and label), in
the generic :class:`~connectors.core.labels.LabelsStream` — 2 requests when labels are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.core.labels import LabelRead, LabelsStream, option_labels
from connectors.hubspot.specs import HISTORY_FIELDS, SOURCE
from connectors.hubspot.transport import HubSpotTransport

LABELLED = ("lifecyclestage", "hs_lead_status")
"""The contact properties whose values the audit maps to funnel stages."""


def _read(transport: HubSpotTransport, prop: str) -> LabelRead:
    field = HISTORY_FIELDS[prop]

    def labels(data: Any) -> list[tuple[str, str, str, str]]:
        return option_labels(data.get("options"), field, prop, "value")

    return LabelRead(
        endpoint=f"GET /crm/v3/properties/contacts/{prop}",
        call=lambda: transport.property_definition("contacts", prop),
        labels=labels,
    )


def labels_stream(transport: HubSpotTransport, now: Callable[[], str]) -> LabelsStream:
    """The stream reading the labels of ``lifecyclestage`` and ``hs_lead_status``."""
    return LabelsStream(SOURCE, [_read(transport, prop) for prop in LABELLED], now)
