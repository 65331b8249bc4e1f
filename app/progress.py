"""Sync with a progress bar per stream on a terminal, and silently otherwise (cron)."""

from __future__ import annotations

import sys

from config.settings import Settings
from connectors.core import SyncOptions, SyncSummary
from connectors.sync import sync_source
from snapshot.store import SnapshotStore


def sync_with_progress(
    source: str,
    store: SnapshotStore,
    settings: Settings,
    *,
    full: bool = False,
    options: SyncOptions | None = None,
) -> SyncSummary:
    """``sync_source`` with a rich progress bar on stderr when stderr is a terminal."""
    if not sys.stderr.isatty():
        return sync_source(source, store, settings, full=full, options=options)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stream: str, done: int, total: int | None = None) -> None:
            if stream not in tasks:
                tasks[stream] = bar.add_task(f"{source} {stream}", total=total)
            bar.update(tasks[stream], completed=done, total=total)

        return sync_source(source, store, settings, full=full, progress=progress, options=options)
