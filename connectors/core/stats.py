"""What a sync did, counted: per stream while it runs, and for the whole run at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StreamStats:
    """What one stream did in one run."""

    records: int = 0
    requests: int = 0
    retries: int = 0
    pages: int = 0
    expected: int | None = None
    gaps: int = 0
    """Records kept with a field left empty because the CRM's value was unusable."""
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    """What the run's summary line says of this stream (a backfill's cost)."""


@dataclass
class SyncSummary:
    """The outcome of a finished sync (also written to ``sync_runs``)."""

    source: str
    run_id: int
    records: int
    requests: int
    retries: int
    duration_s: float
    streams: dict[str, StreamStats] = field(default_factory=dict)

    def line(self) -> str:
        """The one-line summary a cron log shows."""
        notes = [note for stats in self.streams.values() for note in stats.notes]
        return (
            f"{self.source}: {self.records} records in {self.requests} requests "
            f"({self.retries} retries) in {self.duration_s:.1f}s"
        ) + "".join(f"; {note}" for note in notes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
