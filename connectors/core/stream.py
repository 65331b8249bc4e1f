"""Streams as data (singer-sdk style): each CRM object a connector syncs is a declaration
of how to fetch one page for a cursor, how to map it to snapshot rows and what the cursor
becomes; the core's run does paging, throttling, retry, commit and cursor once for all.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from config.sla_fields import NamedField
from connectors.core.answers import CrmDialect
from connectors.core.http import Api, RetryPolicy
from connectors.core.stats import StreamStats
from connectors.core.throttle import ThrottlePolicy
from snapshot.store import Page, SnapshotStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncOptions:
    """Knobs a caller may turn; the defaults are what a nightly production sync uses.

    ``lookback`` is how far before its high-water mark an incremental run starts again:
    it covers the CRM's search index lagging behind writes and small clock skew, at the
    price of re-reading the last few minutes of changes.
    """

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    lookback: timedelta = timedelta(minutes=10)
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    fields: tuple[NamedField, ...] | None = None
    """CRM properties the SLA names beyond the connector's fixed list (``sync --sla``):
    synced with the leads, with history where a rule reads it, backfilled when new.
    None (no SLA given) leaves the snapshot's record of filled properties alone; ``()``
    (an SLA naming none) forgets it, so a property named again later is filled again."""


@dataclass(frozen=True)
class Cursor:
    """A stream's position, stored as JSON in ``sync_state.cursor``.

    ``mode`` is ``"full"`` (a list scan: ``after`` is the CRM's paging token and
    ``started`` the scan's start instant), ``"incremental"`` (``since`` is the lower bound
    of the next change query and ``ties`` how many records *at* ``since`` were already
    taken), or ``"complete"`` (a scan that runs from scratch every time has finished).
    ``scanning`` tells a resumed run whether it is in the middle of a scan; ``floor`` is
    the ``since`` a running incremental scan began from; ``phase`` is the part of a
    multi-part stream (e.g. active, then archived owners); ``job`` names a server-side
    job whose result pages ``after`` walks (a Salesforce Bulk API query job).
    """

    mode: str
    after: str | None = None
    started: str | None = None
    since: str | None = None
    ties: int = 0
    phase: str | None = None
    scanning: bool = False
    floor: str | None = None
    job: str | None = None
    fields: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # JSON gives a list back; the cursor stays hashable and comparable.
        object.__setattr__(self, "fields", tuple(self.fields))

    def encode(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, 0, False, ())}
        data["mode"] = self.mode
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError):
            # An unreadable cursor (older format, hand edit) restarts the stream with a
            # full scan: slower, never wrong.
            log.warning("unreadable cursor %r: the stream restarts with a full scan", text[:80])
            return None


@dataclass
class Batch:
    """What one ``fetch`` brought back: the records and anything ``advance`` needs."""

    records: list[dict[str, Any]]
    next_after: str | None = None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Advance:
    """The cursor after a page and whether the stream is finished for this run."""

    cursor: Cursor
    done: bool


class Stream(ABC):
    """One CRM object as a declaration (singer-sdk style): fetch, map, advance.

    The engine calls ``open`` once, then ``fetch`` → ``to_page`` → ``advance`` per page
    and commits each page with its new cursor before fetching the next.
    """

    name: str

    @abstractmethod
    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        """Where this run starts, given the stored cursor (None the first time).

        ``store`` is for reading only (e.g. which records are already marked deleted);
        rows reach the snapshot solely through the engine's ``write_page``.
        """

    @abstractmethod
    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        """One page from the CRM (with any follow-up reads the page needs)."""

    @abstractmethod
    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        """Snapshot rows for the batch; raise :class:`RecordError` for a record to refuse."""

    @abstractmethod
    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        """The cursor to commit with this page."""

    def can_prefetch(self, cursor: Cursor) -> bool:
        """Whether this run of the stream (from ``cursor``, as ``open`` returned it) may
        be read one page ahead, in a worker thread, while the engine writes.

        Only if ``fetch``, ``to_page`` and ``advance`` never read the snapshot (the
        store's connection belongs to the engine's thread, and the page before may not
        be committed yet) nor touch state the engine's thread uses. They still run in
        their usual order, one page at a time. Off unless a stream says so.
        """
        return False


class Connector(Protocol):
    """A CRM: the dialect of its answers, its streams, and a setup step."""

    dialect: CrmDialect

    def streams(self) -> list[Stream]: ...

    def prepare(self, api: Api) -> None:
        """Anything to learn once per run before the streams (e.g. the portal id)."""
        ...
