"""``read_metadata``: a CRM's own values and users, for ``run_audit.py inspect``.

The source is built as for a sync (the registry in :mod:`config.sources`, the same
settings, the same client library and retries), then ``connectors.<name>.metadata``
reads what that CRM says about itself. Retries are fewer and shorter than a sync's: a
person is waiting at a terminal, and nothing is lost by asking again.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from config.redact import Redactor, redacting_logs
from config.settings import Settings
from connectors.core import Clock, RetryPolicy, SyncError, SyncOptions, SystemClock
from connectors.core.metadata import MetadataApi, PortalMetadata
from connectors.sync import start_connector

__all__ = ["INSPECT_RETRY", "PortalMetadata", "read_metadata"]

INSPECT_RETRY = RetryPolicy(attempts=3, max_total_wait_s=15.0, max_wait_s=5.0)
"""Three attempts, at most 15 s of waiting in all."""


def read_metadata(
    source: str,
    settings: Settings,
    *,
    options: SyncOptions | None = None,
    clock: Clock | None = None,
) -> PortalMetadata:
    """What ``source`` says about its values; :class:`SyncError` (one redacted line) if not."""
    redactor = Redactor(settings.secrets())
    clock = clock or SystemClock()
    options = options or SyncOptions(retry=INSPECT_RETRY)
    with redacting_logs(redactor):
        connector = start_connector(source, settings, options, clock, redactor)
        api = MetadataApi(
            connector.dialect,
            clock=clock,
            redactor=redactor,
            retry=options.retry,
            throttle=options.throttle,
        )
        metadata: PortalMetadata = _metadata_reader(source)(connector, api)
        return metadata


def _metadata_reader(source: str) -> Callable[[Any, MetadataApi], PortalMetadata]:
    """``connectors.<source>.metadata.read_metadata``, or one line saying there is none."""
    try:
        module = importlib.import_module(f"connectors.{source}.metadata")
        reader: Callable[[Any, MetadataApi], PortalMetadata] = module.read_metadata
    except (ImportError, AttributeError):
        raise SyncError(f"inspect cannot read {source}'s metadata yet") from None
    return reader
