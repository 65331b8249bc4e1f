"""The Salesforce source as the engine sees it: its dialect, its streams in sync order, the
login and the ``/limits/`` check before any data is read, and the registry's builder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from config.settings import Settings
from connectors.core import (
    Api,
    Clock,
    ConfigTrouble,
    ConnectionTrouble,
    Stream,
    SyncError,
    SyncOptions,
    SystemClock,
)
from connectors.salesforce.auth import login_from_settings
from connectors.salesforce.backfill import SalesforceBackfill
from connectors.salesforce.dialect import SESSION_FIX, SalesforceDialect, renewed_session_fix
from connectors.salesforce.extra_fields import check_fields
from connectors.salesforce.labels import labels_stream
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.reader import SalesforceReader
from connectors.salesforce.specs import (
    CONVERSIONS,
    EVENTS,
    LEAD_HISTORY,
    LEADS,
    OPPORTUNITIES,
    TASKS,
    USERS,
    whole_second,
    with_fields,
)
from connectors.salesforce.streams import (
    ActivitiesStream,
    ConversionsStream,
    LeadHistoryStream,
    LeadsStream,
    OpportunitiesStream,
    UsersStream,
)
from connectors.salesforce.transport import LoginRefused, SalesforceTransport
from snapshot.instants import format_instant


class SalesforceConnector:
    """The Salesforce source: its dialect, its streams in sync order, and the login."""

    def __init__(
        self,
        transport: SalesforceTransport,
        *,
        options: SyncOptions | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.options = SalesforceOptions.of(options)
        self.clock = clock or SystemClock()
        self.transport = transport
        login = transport.login
        self.dialect = SalesforceDialect(
            transport.instance_url or "the instance",
            session_fix=renewed_session_fix(login.flow) if login.repeatable else SESSION_FIX,
        )
        self.reader = SalesforceReader(transport, self.options)
        self._history_stream: LeadHistoryStream | None = None
        self.fields = self.options.fields
        self.leads, self.lead_history = with_fields(LEADS, LEAD_HISTORY, self.fields or ())

    @classmethod
    def from_settings(
        cls, settings: Settings, *, options: SyncOptions | None = None, clock: Clock | None = None
    ) -> SalesforceConnector:
        """The login the settings choose (:mod:`connectors.salesforce.auth` says which)."""
        opts = SalesforceOptions.of(options)
        transport = SalesforceTransport(
            login_from_settings(settings),
            version=opts.api_version,
            ca_bundle=opts.ca_bundle,
            timeout=(opts.connect_timeout_s, opts.read_timeout_s),
        )
        return cls(transport, options=opts, clock=clock)

    def now(self) -> datetime:
        return self.clock.now()

    def _history_ceiling(self) -> str | None:
        """Conversions are read up to a look-back before the history stream began."""
        if self._history_stream is None:
            return None
        return whole_second(self._history_stream.opened - self.options.lookback)

    def streams(self) -> list[Stream]:
        """Users, leads, their history, conversions, won opportunities, tasks, events,
        then the Lead status labels."""
        common: dict[str, Any] = {"options": self.options, "now": self.now}
        history = LeadHistoryStream(self.lead_history, self.reader, **common)
        self._history_stream = history
        backfill: list[Stream] = []
        if self.fields is not None:
            backfill.append(SalesforceBackfill(self.fields, self.reader))
        return [
            UsersStream(USERS, self.reader, **common),
            *backfill,
            LeadsStream(
                self.leads, self.reader, base_url=lambda: self.transport.base_url, **common
            ),
            history,
            ConversionsStream(CONVERSIONS, self.reader, ceiling=self._history_ceiling, **common),
            OpportunitiesStream(OPPORTUNITIES, self.reader, **common),
            ActivitiesStream(TASKS, self.reader, **common),
            ActivitiesStream(EVENTS, self.reader, **common),
            labels_stream(self.transport, lambda: format_instant(self.now())),
        ]

    def prepare(self, api: Api) -> None:
        """Log in, then read ``/limits/``: it checks the session before any data is asked
        for, and its ``Sforce-Limit-Info`` tells the engine how much of the org's daily
        allowance is already spent — a sync that would pass its share stops here, having
        spent one request.

        Every session id a login hands back — now, and again when a session expires
        mid-sync — is a credential nobody listed: it is masked in every message and log
        line from then on (the redactor is shared with both)."""

        def mask(session_id: str) -> None:
            api.redactor.secrets = api.redactor.with_secrets([session_id]).secrets

        self.transport.on_session = mask
        try:
            self.transport.connect()
        except LoginRefused as exc:
            raise api.fail(str(exc)) from None
        except ConnectionTrouble as exc:
            raise api.fail(f"the Salesforce login could not be reached: {exc}") from None
        except ConfigTrouble as exc:
            raise api.fail(f"the Salesforce login could not start: {exc}") from None
        # A login names the instance only now; error lines and fixes name it from here on.
        self.dialect.instance_url = self.transport.instance_url or self.dialect.instance_url
        api.call("GET /limits", self.transport.limits, expect=lambda d: isinstance(d, dict))
        check_fields(api, self.transport, self.fields or ())


def build_connector(settings: Settings, options: SyncOptions, clock: Clock) -> SalesforceConnector:
    """The registry's builder (``connectors.sync``)."""
    if not settings.source_configured("salesforce"):  # pragma: no cover - sync_source checks first
        raise SyncError("salesforce is not configured")
    return SalesforceConnector.from_settings(settings, options=options, clock=clock)
