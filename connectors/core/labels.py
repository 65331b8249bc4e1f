"""The ``value labels`` stream: the CRM's display label of each funnel value, into the
snapshot's ``value_labels`` table, so reports show "Marketing Qualified Lead
(marketingqualifiedlead)" instead of the bare internal value (issue 15, item 7).

Labels are the CRM's metadata, not records: a handful of requests (HubSpot: one property
definition per funnel field; Salesforce: one describe of Lead), made on a full sync, when
the snapshot has none yet, and then at most once a week — ``watch`` syncs every few
minutes, the nightly sync every day, and an admin renaming a value is rare (the value,
never the label, is what the audit compares; a renamed label shows within a week, or at
once with ``sync --full``). A refusal (a token without the schema scope, 403)
costs the labels, never the sync: reports then show the values alone, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connectors.core.answers import HttpAnswer
from connectors.core.http import Api
from connectors.core.optional import optional_call
from connectors.core.stats import StreamStats
from connectors.core.stream import Advance, Batch, Cursor, Stream
from snapshot.instants import format_instant, parse_instant
from snapshot.store import Page, SnapshotStore

REFRESH = timedelta(days=7)
"""How long labels read by a sync are trusted before an incremental sync reads them again."""

Label = tuple[str, str, str, str]
"""``(field, property, value, label)``: the snapshot's field, the CRM's name for it."""


@dataclass(frozen=True)
class LabelRead:
    """One request that yields labels: what it is called, how to make it, how to read it."""

    endpoint: str
    call: Callable[[], HttpAnswer]
    labels: Callable[[Any], list[Label]]
    """The answer's data → its labels; values without a usable label are left out."""


def option_labels(options: Any, field: str, prop: str, value_key: str) -> list[Label]:
    """Labels from a list of ``{value_key: …, "label": …}`` options (HubSpot options,
    Salesforce picklist values); a value whose label is empty or missing is left out."""
    out: list[Label] = []
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, dict):
            continue
        value, label = option.get(value_key), option.get("label")
        if isinstance(value, str) and value and isinstance(label, str) and label.strip():
            out.append((field, prop, value, label.strip()))
    return out


class LabelsStream(Stream):
    """Each :class:`LabelRead` once, one per page; skipped while the last read is fresh.

    The cursor's ``started`` is when the labels were last read; ``phase`` is the index of
    the next read while reading, ``"fresh"`` for a run that reads nothing.
    """

    name = "value labels"

    def __init__(self, source: str, reads: Sequence[LabelRead], now: Callable[[], str]) -> None:
        self.source = source
        self.reads = list(reads)
        self.now = now

    def open(self, cursor: Cursor | None, *, full: bool, api: Api, store: SnapshotStore) -> Cursor:
        now = self.now()
        fresh = (
            not full
            and cursor is not None
            and cursor.mode == "complete"
            and cursor.started is not None
            and parse_instant(now) - parse_instant(cursor.started) < REFRESH
        )
        if fresh and cursor is not None:
            return Cursor("complete", started=cursor.started, phase="fresh")
        return Cursor("full", started=now, phase="0", scanning=True)

    def fetch(self, api: Api, cursor: Cursor) -> Batch:
        if cursor.phase == "fresh" or not self.reads:
            return Batch([])
        read = self.reads[int(cursor.phase or 0)]
        reply = optional_call(
            api,
            read.endpoint,
            read.call,
            expect=lambda d: isinstance(d, dict),
            lost="reports show this field's values without their labels (grant the token "
            "read access to the CRM's schema to have them)",
        )
        if reply is None:
            return Batch([], extra={"at": cursor.started})
        labels = read.labels(reply.data)
        return Batch([{"labels": labels}], extra={"at": cursor.started})

    def to_page(self, batch: Batch, stats: StreamStats) -> Page:
        at = batch.extra.get("at") or format_instant(parse_instant(self.now()))
        rows = [
            {
                "source": self.source,
                "field": field,
                "value": value,
                "label": label,
                "property": prop,
                "read_at": at,
            }
            for record in batch.records
            for field, prop, value, label in record["labels"]
        ]
        return Page(labels=rows)

    def advance(self, cursor: Cursor, batch: Batch) -> Advance:
        if cursor.phase == "fresh":
            return Advance(Cursor("complete", started=cursor.started), True)
        following = int(cursor.phase or 0) + 1
        if following < len(self.reads):
            return Advance(
                Cursor("full", started=cursor.started, phase=str(following), scanning=True), False
            )
        return Advance(Cursor("complete", started=cursor.started), True)
