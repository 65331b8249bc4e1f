"""A Salesforce org's own values, read for ``inspect``: the Lead ``Status`` picklist (value
and label, from describe), which statuses convert (``LeadStatus.IsConverted``), the Task
``CallDisposition`` picklist when the org made it one, the users, and every Lead field
the integration user can see with its type and how many leads fill it (one aggregate
query, ``SELECT COUNT(Id), COUNT(F1) … FROM Lead``, over the aggregatable fields).

The login and the first request are the sync's own (:meth:`SalesforceConnector.prepare`:
a refused login or an expired session is one clear line before anything else is asked).
A describe answer without the documented fields is named, not read as "no statuses".
"""

from __future__ import annotations

from typing import Any

from connectors.core import Api
from connectors.core.metadata import (
    Choice,
    PortalMetadata,
    PortalUser,
    PropertyInfo,
    malformed,
    text_of,
)
from connectors.salesforce.connector import SalesforceConnector
from connectors.salesforce.extra_fields import lead_describe
from connectors.salesforce.specs import SObjectSpec

SOURCE = "salesforce"

LEAD_STATUS = SObjectSpec(
    stream="lead statuses",
    sobject="LeadStatus",
    kinds={"ApiName": "text", "MasterLabel": "text", "IsConverted": "bool", "SortOrder": "int"},
    include_deleted=False,
)
LEAD_STATS = SObjectSpec(
    stream="Lead fill counts", sobject="Lead", kinds={"Id": "text"}, include_deleted=False
)
USER = SObjectSpec(
    stream="users",
    sobject="User",
    kinds={"Id": "text", "Name": "text", "Email": "text", "IsActive": "bool"},
    include_deleted=False,
)


def read_metadata(connector: SalesforceConnector, api: Api) -> PortalMetadata:
    """Statuses (with conversion), call dispositions and users of the connector's org."""
    connector.prepare(api)
    converted = converted_statuses(connector, api)
    statuses = tuple(
        Choice(c.value, c.label, c.hidden, converted=c.value in converted)
        for c in picklist(connector, api, "Lead", "Status")
    )
    dispositions = picklist(connector, api, "Task", "CallDisposition", optional=True)
    return PortalMetadata(
        source=SOURCE,
        stages=(),
        statuses=statuses,
        outcomes=dispositions or None,
        users=users(connector, api),
        properties=lead_fields(connector, api),
        sample="every live lead (one COUNT query)",
    )


def lead_fields(connector: SalesforceConnector, api: Api) -> tuple[PropertyInfo, ...]:
    """Every Lead field the integration user can see, custom (``__c``) first, with how
    many live leads fill it; a field Salesforce cannot count (long text) is not sampled."""
    fields = lead_describe(api, connector.transport)
    counted = [str(f["name"]) for f in fields if f.get("aggregatable") and f["name"] != "Id"]
    soql = "SELECT " + ", ".join(f"COUNT({n})" for n in ["Id", *counted]) + " FROM Lead"
    api.stream = "Lead fill counts"
    reply = connector.reader.query(api, LEAD_STATS, soql)
    row = (reply.data.get("records") or [{}])[0]
    total = row.get("expr0")
    filled = {name: row.get(f"expr{n}") for n, name in enumerate(counted, start=1)}
    out = [
        PropertyInfo(
            name=str(f["name"]),
            label=text_of(f.get("label")) or str(f["name"]),
            type=str(f.get("type") or ""),
            custom=bool(f.get("custom")),
            calculated=bool(f.get("calculated")),
            filled=filled.get(str(f["name"])) if isinstance(total, int) else None,
            sampled=total if isinstance(total, int) and str(f["name"]) in filled else None,
        )
        for f in fields
    ]
    return tuple(sorted(out, key=lambda p: (not p.custom, p.name)))


def picklist(
    connector: SalesforceConnector, api: Api, sobject: str, field: str, *, optional: bool = False
) -> tuple[Choice, ...]:
    """A field's picklist values in the org's order; inactive ones kept, and marked.

    ``optional``: a field the org does not have, or keeps as text, gives ``()``.
    """
    endpoint = f"GET /sobjects/{sobject}/describe"
    api.stream = f"{sobject} describe"
    reply = api.call(
        endpoint,
        lambda: connector.transport.describe(sobject),
        expect=lambda d: isinstance(d, dict),
    )
    fields = reply.data.get("fields")
    if not isinstance(fields, list):
        raise malformed(api, endpoint, "a fields list")
    found = next((f for f in fields if isinstance(f, dict) and f.get("name") == field), None)
    if found is None:
        if optional:
            return ()
        raise api.fail(
            f"{endpoint} lists no {sobject}.{field} field: the integration user cannot see it "
            "(field-level security); grant it read access to the field"
        )
    values = found.get("picklistValues")
    if found.get("type") not in ("picklist", "multipicklist") and not values:
        return ()
    if not isinstance(values, list):
        raise malformed(api, endpoint, f"fields[{field}].picklistValues")
    return tuple(_choice(api, endpoint, field, n, item) for n, item in enumerate(values))


def _choice(api: Api, endpoint: str, field: str, n: int, item: Any) -> Choice:
    value = item.get("value") if isinstance(item, dict) else None
    if not isinstance(value, str) or not value:
        raise malformed(api, endpoint, f"fields[{field}].picklistValues[{n}].value")
    return Choice(value, text_of(item.get("label")) or value, hidden=item.get("active") is False)


def converted_statuses(connector: SalesforceConnector, api: Api) -> set[str]:
    """The statuses a conversion sets (``LeadStatus`` rows with ``IsConverted``)."""
    api.stream = "lead statuses"
    rows = connector.reader.records(
        api, LEAD_STATUS, "SELECT ApiName, MasterLabel, IsConverted, SortOrder FROM LeadStatus"
    )
    return {
        str(row.get("ApiName") or row.get("MasterLabel"))
        for row in rows
        if row.get("IsConverted") is True
    }


def users(connector: SalesforceConnector, api: Api) -> tuple[PortalUser, ...]:
    """Every user of the org, active or not, by name."""
    api.stream = "users"
    rows = connector.reader.records(
        api, USER, "SELECT Id, Name, Email, IsActive FROM User ORDER BY Name"
    )
    return tuple(
        PortalUser(
            str(row.get("Id")),
            text_of(row.get("Name")),
            text_of(row.get("Email")),
            row.get("IsActive") is True,
        )
        for row in rows
    )
