"""The shared sync core: streams as data, one engine to run them. CRM folders build on the
names re-exported here only (``from connectors.core import …``).

A connector (HubSpot now, Salesforce next) declares *streams*; each says how to fetch one
page for a cursor, how to map it to snapshot rows and what the cursor becomes. The core
does the rest, once, for all of them, one module per job:

* :mod:`~connectors.core.run` — the run: every page written with its cursor in one
  transaction (so a sync killed at any instant resumes from the last committed page),
  the ``sync_runs`` row, progress callbacks, and errors that are one redacted line
  naming what failed, where, and the fix;
* :mod:`~connectors.core.http` — every request: throttled, counted, and retried with
  backoff and jitter, bounded in attempts *and* in total waiting;
* :mod:`~connectors.core.throttle` — a rolling window per rate limit, sized from the
  CRM's limit headers, so a long sync never meets 429;
* :mod:`~connectors.core.prefetch` — a stream read one page ahead by a worker thread
  while the engine writes the page before;
* :mod:`~connectors.core.stream` — the declarations: stream, cursor, connector, options;
* :mod:`~connectors.core.answers`, :mod:`~connectors.core.errors`,
  :mod:`~connectors.core.stats` — HTTP answers and the CRM dialect that reads them, the
  exceptions, the counts of a run.
"""

from connectors.core.answers import HttpAnswer, RateLimits, Reply
from connectors.core.errors import (
    Cancelled,
    ConfigTrouble,
    ConnectionTrouble,
    RecordError,
    RefusedError,
    SyncError,
)
from connectors.core.http import Api, RetryPolicy, chunked
from connectors.core.prefetch import PREFETCH_PAGES
from connectors.core.run import ProgressCallback, run_sync
from connectors.core.stats import StreamStats, SyncSummary
from connectors.core.stream import Advance, Batch, Connector, Cursor, Stream, SyncOptions
from connectors.core.throttle import Clock, SystemClock, ThrottlePolicy
from connectors.core.values import read_flag

__all__ = [
    "PREFETCH_PAGES",
    "Advance",
    "Api",
    "Batch",
    "Cancelled",
    "Clock",
    "ConfigTrouble",
    "ConnectionTrouble",
    "Connector",
    "Cursor",
    "HttpAnswer",
    "ProgressCallback",
    "RateLimits",
    "RecordError",
    "RefusedError",
    "Reply",
    "RetryPolicy",
    "Stream",
    "StreamStats",
    "SyncError",
    "SyncOptions",
    "SyncSummary",
    "SystemClock",
    "ThrottlePolicy",
    "chunked",
    "read_flag",
    "run_sync",
]
