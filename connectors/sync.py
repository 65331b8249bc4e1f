"""``sync_source``: the one entry point the CLI (and the demo, and the tests) call.

A registry maps a source name to a :class:`ConnectorSpec`: which settings it needs, which
environment variables to name when they are missing, and how to build the connector.
Salesforce plugs in with one :func:`register_source` call; nothing here changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config.redact import Redactor, redacting_logs
from config.settings import Settings
from connectors.core import (
    Api,
    Clock,
    Connector,
    ProgressCallback,
    StreamStats,
    SyncError,
    SyncOptions,
    SyncSummary,
    SystemClock,
    run_sync,
)
from snapshot.store import SnapshotStore

__all__ = [
    "ConnectorSpec",
    "StreamStats",
    "SyncError",
    "SyncOptions",
    "SyncSummary",
    "known_sources",
    "register_source",
    "sync_source",
]


@dataclass(frozen=True)
class ConnectorSpec:
    """How to check settings for, and build, one source's connector."""

    name: str
    configured: Callable[[Settings], bool]
    missing_hint: str
    build: Callable[[Settings, SyncOptions, Clock], Connector]


_REGISTRY: dict[str, ConnectorSpec] = {}


def register_source(spec: ConnectorSpec) -> None:
    _REGISTRY[spec.name] = spec


def known_sources() -> list[str]:
    return sorted(_REGISTRY)


def _build_hubspot(settings: Settings, options: SyncOptions, clock: Clock) -> Connector:
    from connectors.hubspot import build_connector

    return build_connector(settings, options, clock)


register_source(
    ConnectorSpec(
        name="hubspot",
        configured=Settings.hubspot_configured,
        missing_hint=(
            "set HUBSPOT_ACCESS_TOKEN to a private-app access token (and HUBSPOT_BASE_URL "
            "if not https://api.hubapi.com), in the environment or in .env"
        ),
        build=_build_hubspot,
    )
)


def _build_salesforce(settings: Settings, options: SyncOptions, clock: Clock) -> Connector:
    from connectors.salesforce import build_connector

    return build_connector(settings, options, clock)


register_source(
    ConnectorSpec(
        name="salesforce",
        configured=Settings.salesforce_configured,
        missing_hint=(
            "set SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN (a session id), or "
            "SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN (and "
            "SALESFORCE_DOMAIN, e.g. 'test' for a sandbox org), in the environment or in .env"
        ),
        build=_build_salesforce,
    )
)


def sync_source(
    source: str,
    store: SnapshotStore,
    settings: Settings,
    *,
    full: bool = False,
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
    options: SyncOptions | None = None,
) -> SyncSummary:
    """Sync ``source`` into ``store``: incremental when a previous run left cursors.

    ``full=True`` re-reads everything from scratch. ``progress(stream, done, total)`` is
    called after each committed page. Anything that stops the sync raises
    :class:`SyncError` with one redacted line (what, where, how to fix); pages committed
    before it stay, and the next call resumes from them.
    """
    spec = _REGISTRY.get(source)
    if spec is None:
        raise SyncError(
            f"unknown source {source!r}: use one of {', '.join(known_sources()) or 'none'}"
        )
    if not spec.configured(settings):
        raise SyncError(f"{source} is not configured: {spec.missing_hint}")
    redactor = Redactor(settings.secrets())
    clock = clock or SystemClock()
    options = options or SyncOptions()
    with redacting_logs(redactor):
        try:
            connector = spec.build(settings, options, clock)
        except SyncError:
            raise
        except Exception as exc:
            raise SyncError(
                redactor(f"{source} connector could not start: {type(exc).__name__}: {exc}")
            ) from None
        api = Api(
            connector.dialect,
            clock=clock,
            redactor=redactor,
            retry=options.retry,
            throttle=options.throttle,
            max_daily_share=settings.max_daily_share,
        )
        return run_sync(connector, store, api, full=full, progress=progress)
