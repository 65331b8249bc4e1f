"""Salesforce's labels of the funnel values: the Lead ``Status`` picklist (value and label)
from one describe of Lead (``GET /sobjects/Lead/describe``), in the generic
:class:`~connectors.core.labels.LabelsStream` — 1 request when labels are read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.core.labels import LabelRead, LabelsStream, option_labels
from connectors.salesforce.specs import SOURCE
from connectors.salesforce.transport import SalesforceTransport

LABELLED = {"Status": "status"}
"""Lead fields whose values the audit maps to funnel stages → the snapshot's field."""


def lead_labels(data: Any) -> list[tuple[str, str, str, str]]:
    """The labelled fields' picklist values from a describe of Lead."""
    out: list[tuple[str, str, str, str]] = []
    for described in data.get("fields") or []:
        name = described.get("name") if isinstance(described, dict) else None
        if name in LABELLED:
            out += option_labels(described.get("picklistValues"), LABELLED[name], name, "value")
    return out


def labels_stream(transport: SalesforceTransport, now: Callable[[], str]) -> LabelsStream:
    """The stream reading the Lead ``Status`` labels."""
    read = LabelRead(
        endpoint="GET /sobjects/Lead/describe",
        call=lambda: transport.describe("Lead"),
        labels=lead_labels,
    )
    return LabelsStream(SOURCE, [read], now)
