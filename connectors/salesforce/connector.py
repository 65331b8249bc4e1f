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
from connectors.salesforce.dialect import SalesforceDialect
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
        self.dialect = SalesforceDialect(transport.instance_url or "the instance")
        self.reader = SalesforceReader(transport, self.options)
        self._history_stream: LeadHistoryStream | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, options: SyncOptions | None = None, clock: Clock | None = None
    ) -> SalesforceConnector:
        """Session id + instance URL when both are set, else username/password/token."""
        opts = SalesforceOptions.of(options)
        token = settings.salesforce_access_token
        transport_args: dict[str, Any]
        if settings.salesforce_instance_url and token is not None:
            transport_args = {
                "instance_url": settings.salesforce_instance_url.rstrip("/"),
                "session_id": token.reveal(),
            }
        else:
            password, security = settings.salesforce_password, settings.salesforce_security_token
            transport_args = {
                "username": settings.salesforce_username,
                "password": password.reveal() if password else None,
                "security_token": security.reveal() if security else None,
                "domain": settings.salesforce_domain,
                "instance_url": settings.salesforce_instance_url,
            }
        transport = SalesforceTransport(
            **transport_args,
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
        """Users, leads, their history, conversions, won opportunities, tasks, events."""
        common: dict[str, Any] = {"options": self.options, "now": self.now}
        history = LeadHistoryStream(LEAD_HISTORY, self.reader, **common)
        self._history_stream = history
        return [
            UsersStream(USERS, self.reader, **common),
            LeadsStream(LEADS, self.reader, base_url=lambda: self.transport.base_url, **common),
            history,
            ConversionsStream(CONVERSIONS, self.reader, ceiling=self._history_ceiling, **common),
            OpportunitiesStream(OPPORTUNITIES, self.reader, **common),
            ActivitiesStream(TASKS, self.reader, **common),
            ActivitiesStream(EVENTS, self.reader, **common),
        ]

    def prepare(self, api: Api) -> None:
        """Log in (password logins), then read ``/limits/``: it checks the session before
        any data is asked for, and its ``Sforce-Limit-Info`` tells the engine how much of
        the org's daily allowance is already spent — a sync that would pass its share
        stops here, having spent one request."""
        try:
            self.transport.connect()
        except LoginRefused as exc:
            raise api.fail(
                f"Salesforce refused the login ({exc}): check SALESFORCE_USERNAME, "
                "SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN, and SALESFORCE_DOMAIN "
                "('test' for a sandbox org, or your My Domain)"
            ) from None
        except (ConnectionTrouble, ConfigTrouble) as exc:
            raise api.fail(f"the Salesforce login could not be reached: {exc}") from None
        if self.transport.logs_in:
            # The session id a login hands back is a credential nobody listed: mask it in
            # every message and log line from here on (the redactor is shared with both).
            api.redactor.secrets = api.redactor.with_secrets([self.transport.session_id]).secrets
        api.call("GET /limits", self.transport.limits, expect=lambda d: isinstance(d, dict))


def build_connector(settings: Settings, options: SyncOptions, clock: Clock) -> SalesforceConnector:
    """The registry's builder (``connectors.sync``)."""
    if not settings.source_configured("salesforce"):  # pragma: no cover - sync_source checks first
        raise SyncError("salesforce is not configured")
    return SalesforceConnector.from_settings(settings, options=options, clock=clock)
