"""HubSpot → snapshot: owners, contacts with funnel history, engagements with contact links.

One module per job:

* ``specs`` — the object types synced, as data (properties, cursor fields, page caps);
* ``transport`` — the ``hubspot-api-client`` exchange and HubSpot's dialect (limits, fixes);
* ``reader`` — the list, search, batch and association calls, each through ``Api.call``;
* ``mapping`` — API records → snapshot rows (owners, leads and history, activities);
* ``streams`` — the streams: full lists, search windows, deletions, owners;
* ``links`` — the re-read of changed and recent engagements' contact links (late links);
* ``connector`` — :class:`HubSpotConnector` and :func:`build_connector` for the registry.

The names below are re-exported so ``from connectors.hubspot import X`` keeps working for
the sync registry, the tests and the benchmarks.
"""

from connectors.hubspot.connector import HubSpotConnector, build_connector
from connectors.hubspot.mapping import (
    MappingContext,
    activity_page,
    contact_page,
    map_activity,
    map_contact,
    map_owner,
)
from connectors.hubspot.specs import CONTACTS, ENGAGEMENTS, ObjectSpec
from connectors.hubspot.streams import ObjectStream
from connectors.hubspot.transport import NO_RETRIES, HubSpotDialect, HubSpotTransport

__all__ = [
    "CONTACTS",
    "ENGAGEMENTS",
    "NO_RETRIES",
    "HubSpotConnector",
    "HubSpotDialect",
    "HubSpotTransport",
    "MappingContext",
    "ObjectSpec",
    "ObjectStream",
    "activity_page",
    "build_connector",
    "contact_page",
    "map_activity",
    "map_contact",
    "map_owner",
]
