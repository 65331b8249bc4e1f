"""A HubSpot portal's own values, read for ``inspect``: lifecycle stages and lead statuses
(the properties API's options, value and label), call dispositions, owners, and every
contact property with its type and how often the most recently changed contacts fill it.

Each call goes through the sync's :class:`~connectors.core.Api` (throttle, retries, one
clear line on a refusal). A 2xx answer without the documented fields is named — which
call, what was missing — rather than shown as an empty list, since an empty list would
read as "this portal has no lead statuses".
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
from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.extra_fields import contact_properties
from connectors.hubspot.reader import has_results, next_after
from connectors.hubspot.specs import SEARCH_LIMIT, SOURCE
from connectors.hubspot.transport import HubSpotTransport

OWNERS_PAGE = 500
"""HubSpot's cap on ``limit`` for ``GET /crm/v3/owners/``."""


def read_metadata(connector: HubSpotConnector, api: Api) -> PortalMetadata:
    """Stages, statuses, dispositions and owners of the connector's portal."""
    connector.attach(api)
    transport = connector.transport
    return PortalMetadata(
        source=SOURCE,
        stages=property_options(transport, api, "lifecyclestage"),
        statuses=property_options(transport, api, "hs_lead_status"),
        outcomes=dispositions(transport, api),
        users=owners(transport, api),
        properties=properties(transport, api),
        sample=f"the {SEARCH_LIMIT} most recently modified contacts",
    )


def properties(transport: HubSpotTransport, api: Api) -> tuple[PropertyInfo, ...]:
    """Every contact property (one request), custom ones first, with how many of the
    :data:`SEARCH_LIMIT` most recently modified contacts fill it (one search)."""
    api.stream = "contact properties"
    listed = contact_properties(api, transport)
    names = [str(p["name"]) for p in listed]
    body = {
        "filterGroups": [],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        "properties": names,
        "limit": SEARCH_LIMIT,
    }
    reply = api.call(
        "POST /crm/v3/objects/contacts/search",
        lambda: transport.search_page("contacts", body),
        lanes=("app", "search"),
        expect=has_results,
    )
    sample = [r.get("properties") or {} for r in reply.data["results"] if isinstance(r, dict)]
    out = [
        PropertyInfo(
            name=str(p["name"]),
            label=text_of(p.get("label")) or str(p["name"]),
            type=str(p.get("type") or ""),
            custom=p.get("hubspotDefined") is not True,
            hidden=bool(p.get("hidden")),
            calculated=bool(p.get("calculated")),
            filled=sum(props.get(p["name"]) not in (None, "") for props in sample),
            sampled=len(sample),
        )
        for p in listed
    ]
    return tuple(sorted(out, key=lambda p: (not p.custom, p.name)))


def property_options(transport: HubSpotTransport, api: Api, name: str) -> tuple[Choice, ...]:
    """A contact property's options in display order (hidden ones kept, and marked)."""
    endpoint = f"GET /crm/v3/properties/contacts/{name}"
    api.stream = f"property {name}"
    reply = api.call(
        endpoint,
        lambda: transport.property_definition("contacts", name),
        expect=lambda d: isinstance(d, dict),
    )
    options = reply.data.get("options")
    if not isinstance(options, list):
        raise malformed(api, endpoint, "an options list")
    choices = []
    for n, option in enumerate(options):
        value = option.get("value") if isinstance(option, dict) else None
        if not isinstance(value, str) or not value:
            raise malformed(api, endpoint, f"options[{n}].value")
        order = option.get("displayOrder")
        choice = Choice(value, text_of(option.get("label")) or value, bool(option.get("hidden")))
        choices.append((order if isinstance(order, int) and order >= 0 else 10**6 + n, choice))
    return tuple(choice for _, choice in sorted(choices, key=lambda pair: pair[0]))


def dispositions(transport: HubSpotTransport, api: Api) -> tuple[Choice, ...]:
    """The call outcomes reps pick from: HubSpot's six and the portal's own (GUID, label)."""
    endpoint = "GET /calling/v1/dispositions"
    api.stream = "call dispositions"
    reply = api.call(endpoint, transport.dispositions, expect=lambda d: isinstance(d, list))
    out = []
    for n, item in enumerate(reply.data):
        guid = item.get("id") if isinstance(item, dict) else None
        if not isinstance(guid, str) or not guid:
            raise malformed(api, endpoint, f"[{n}].id")
        out.append(Choice(guid, text_of(item.get("label")) or guid))
    return tuple(out)


def owners(transport: HubSpotTransport, api: Api) -> tuple[PortalUser, ...]:
    """Every owner: active ones, then deactivated ones (``archived=true``)."""
    users: list[PortalUser] = []
    for archived in (False, True):
        endpoint = "GET /crm/v3/owners/" + ("?archived=true" if archived else "")
        api.stream = "owners"
        after: str | None = None
        while True:
            reply = api.call(
                endpoint,
                lambda a=after, x=archived: transport.owners_page(  # type: ignore[misc]
                    limit=OWNERS_PAGE, after=a, archived=x
                ),
                expect=lambda d: isinstance(d, dict) and isinstance(d.get("results"), list),
            )
            users.extend(
                _owner(api, endpoint, record, archived) for record in reply.data["results"]
            )
            after = next_after(reply.data)
            if after is None:
                break
    return tuple(users)


def _owner(api: Api, endpoint: str, record: Any, archived: bool) -> PortalUser:
    crm_id = record.get("id") if isinstance(record, dict) else None
    if crm_id in (None, ""):
        raise malformed(api, endpoint, "results[].id")
    first, last = text_of(record.get("firstName")), text_of(record.get("lastName"))
    name = " ".join(part for part in (first, last) if part) or None
    active = not archived and not record.get("archived")
    return PortalUser(str(crm_id), name, text_of(record.get("email")), active)
