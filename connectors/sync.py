"""``sync_source``: the one entry point the CLI (and the demo, and the tests) call.

Which sources exist, what settings each needs and the hint when they are missing come from
the registry in :mod:`config.sources`; the connector is built by ``connectors.<name>``'s
``build_connector(settings, options, clock)``, imported only when that source syncs. A new
CRM is a registry entry and a connector package; nothing here changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from config.redact import Redactor, redacting_logs
from config.settings import Settings
from config.sources import SOURCES, source_names
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
    "connector_spec",
    "known_sources",
    "sync_source",
]

Builder = Callable[[Settings, SyncOptions, Clock], Connector]


@dataclass(frozen=True)
class ConnectorSpec:
    """How to check settings for, and build, one source's connector."""

    name: str
    configured: Callable[[Settings], bool]
    missing_hint: str
    build: Builder


def known_sources() -> list[str]:
    return source_names()


def connector_spec(source: str) -> ConnectorSpec | None:
    """The registered source ``source`` as a connector to check and build, or None."""
    spec = SOURCES.get(source)
    if spec is None:
        return None
    return ConnectorSpec(
        name=source,
        configured=partial(Settings.source_configured, source=source),
        missing_hint=spec.missing_hint,
        build=partial(_build, source),
    )


def _build(source: str, settings: Settings, options: SyncOptions, clock: Clock) -> Connector:
    """Import ``connectors.<source>`` and call its ``build_connector``."""
    module = importlib.import_module(f"connectors.{source}")
    build: Builder | None = getattr(module, "build_connector", None)
    if build is None:
        raise TypeError(f"connectors.{source} has no build_connector(settings, options, clock)")
    return build(settings, options, clock)


def start_connector(
    source: str, settings: Settings, options: SyncOptions, clock: Clock, redactor: Redactor
) -> Connector:
    """Check and build ``source``'s connector (call it inside ``redacting_logs``).

    An unknown or unconfigured source, or a connector that fails to start, is one
    :class:`SyncError` line with every secret masked: ``sync`` and ``inspect`` alike.
    """
    spec = connector_spec(source)
    if spec is None:
        raise SyncError(
            f"unknown source {source!r}: use one of {', '.join(known_sources()) or 'none'}"
        )
    if not spec.configured(settings):
        raise SyncError(f"{source} is not configured: {spec.missing_hint}")
    try:
        return spec.build(settings, options, clock)
    except SyncError:
        raise
    except Exception as exc:
        raise SyncError(
            redactor(f"{source} connector could not start: {type(exc).__name__}: {exc}")
        ) from None


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
    redactor = Redactor(settings.secrets())
    clock = clock or SystemClock()
    options = options or SyncOptions()
    with redacting_logs(redactor):
        connector = start_connector(source, settings, options, clock, redactor)
        api = Api(
            connector.dialect,
            clock=clock,
            redactor=redactor,
            retry=options.retry,
            throttle=options.throttle,
            max_daily_share=settings.max_daily_share,
            min_free_share=settings.min_free_share,
        )
        return run_sync(connector, store, api, full=full, progress=progress)
