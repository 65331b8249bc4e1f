"""The HubSpot source as the sync engine sees it: :class:`HubSpotConnector` (dialect,
streams in sync order, the portal lookup) and :func:`build_connector`, the registry's
builder (``connectors.sync``), which picks the one credential kind set
(:func:`~connectors.hubspot.auth.credential_from`)."""

from __future__ import annotations

import os

from config.settings import Settings
from connectors.core import (
    Api,
    Clock,
    Stream,
    SyncOptions,
    SystemClock,
)
from connectors.core.optional import optional_call
from connectors.hubspot.auth import Attachable, OAuthClient, StaticToken, credential_from
from connectors.hubspot.backfill import HubSpotBackfill
from connectors.hubspot.extra_fields import check_fields
from connectors.hubspot.labels import labels_stream
from connectors.hubspot.lead_objects import LeadObjectStream
from connectors.hubspot.links import LinksStream
from connectors.hubspot.mapping import MappingContext
from connectors.hubspot.reader import HubSpotReader
from connectors.hubspot.specs import CONTACTS, ENGAGEMENTS, with_fields
from connectors.hubspot.streams import ArchivedStream, ObjectStream, OwnersStream
from connectors.hubspot.transport import HubSpotDialect, HubSpotTransport
from snapshot.instants import format_instant


class HubSpotConnector:
    """The HubSpot source: its dialect, its streams in sync order, and the portal lookup."""

    def __init__(
        self,
        credential: str | StaticToken | OAuthClient,
        base_url: str,
        *,
        portal_id: str | None = None,
        options: SyncOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``credential``: a bare string is a private-app token (``HUBSPOT_ACCESS_TOKEN``)."""
        self.options = options or SyncOptions()
        self.clock = clock or SystemClock()
        self.transport = HubSpotTransport(
            credential,
            base_url,
            connect_timeout_s=self.options.connect_timeout_s,
            read_timeout_s=self.options.read_timeout_s,
            ssl_ca_cert=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE"),
            monotonic=self.clock.monotonic,
        )
        self.dialect = HubSpotDialect(base_url, self.transport.auth.kind)
        self.reader = HubSpotReader(self.transport)
        self.ctx = MappingContext(portal_id=portal_id)
        self.contacts = with_fields(CONTACTS, self.options.fields or ())

    def now(self) -> str:
        return format_instant(self.clock.now())

    def streams(self) -> list[Stream]:
        """Owners, then — with an SLA — the backfill of properties it newly names, then each
        object type followed by its deletions (and, for engagements, the re-read of changed
        and recent engagements' contact links), then the Leads object (after the contacts,
        whose history its stage changes join), then the funnel values' labels."""
        streams: list[Stream] = [OwnersStream(self.reader)]
        if self.options.fields is not None:
            streams.append(HubSpotBackfill(self.options.fields, self.reader, self.ctx))
        for spec in (self.contacts, *ENGAGEMENTS):
            streams.append(
                ObjectStream(
                    spec, self.reader, self.ctx, lookback=self.options.lookback, now=self.now
                )
            )
            streams.append(ArchivedStream(spec, self.reader, self.ctx))
            if not spec.is_contact:
                streams.append(LinksStream(spec, self.reader, now=self.now))
        streams.append(
            LeadObjectStream(self.reader, self.ctx, lookback=self.options.lookback, now=self.now)
        )
        streams.append(labels_stream(self.transport, self.now))
        return streams

    def attach(self, api: Attachable) -> None:
        """Report to ``api``: OAuth tokens obtained go into its redactor, a refused refresh
        becomes its one error line. Called before the first request (sync and inspect)."""
        self.transport.auth.attach(api)

    def prepare(self, api: Api) -> None:
        """Attach to ``api``, check the SLA's properties exist (one request), then learn
        the portal id (for record URLs) unless HUBSPOT_PORTAL_ID gave it.

        A token without access to account details (403/404) costs the URLs, not the sync.
        """
        self.attach(api)
        check_fields(api, self.transport, self.options.fields or ())
        if self.ctx.portal_id:
            return
        api.stream = "account"
        reply = optional_call(
            api,
            "GET /account-info/v3/details",
            self.transport.account_details,
            expect=lambda d: isinstance(d, dict) and "portalId" in d,
            lost="leads get no record URL: set HUBSPOT_PORTAL_ID to have them",
        )
        if reply is None:
            return
        self.ctx.portal_id = str(reply.data["portalId"])
        self.ctx.ui_domain = str(reply.data.get("uiDomain") or self.ctx.ui_domain)


def build_connector(settings: Settings, options: SyncOptions, clock: Clock) -> HubSpotConnector:
    """The registry's builder (``connectors.sync``): one credential kind, or one line."""
    return HubSpotConnector(
        credential_from(settings),
        settings.hubspot_base_url,
        portal_id=settings.hubspot_portal_id,
        options=options,
        clock=clock,
    )
