"""Incremental HubSpot syncs against the fewest requests HubSpot's documented caps allow.

``python -m benchmarks.incremental_bench --leads 20000 --ks 200,11759 --rounds 3``
generates a portal (seed 5, ending 1 Nov 2026), syncs it in full, then for each k runs
``rounds`` incremental syncs, each after k fresh edits (60 % contact status changes, 40 %
call edits, as :mod:`benchmarks.sync_bench` makes them), and prints each run's requests
against two minima:

* **changes only** — what a sync that reads each change once needs: the account lookup,
  both owner lists, one search page per 200 changes of each type (at least one, for the
  six engagement types including communications, and the Leads object), one history
  batch read per 50 changed contacts, each type's archived list (100 a page), and one v4
  association read per 1,000 changed engagements of a type;
* **with late links** — the same, but the association reads cover the changed engagements
  *and* those created in the late-link window (30 days), ⌈(changed ∪ recent) / 1,000⌉ a
  type: HubSpot has no query for changed associations, so this is the least any sync that
  sees a contact added to an existing engagement can ask.

Runs are nightly: the sync's clock is fixed (``SYNC_END`` + 1 h, then one day later per
round), so the window holds the portal's last month as on a live portal, and each
round's edits are spread evenly over the day before its sync — the look-back (10 min)
then re-reads the last 10 minutes' edits of the round before, as a nightly run does.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.sync_bench import SEARCH_PAUSE_S, SYNC_END, TOKEN, UNLIMITED_DAY, _settings
from connectors.core import SyncOptions, SystemClock, ThrottlePolicy
from connectors.hubspot.specs import (
    ASSOCIATION_BATCH_LIMIT,
    BATCH_HISTORY_LIMIT,
    LATE_LINK_WINDOW,
    LIST_LIMIT,
    OWNERS_LIMIT,
    SEARCH_LIMIT,
)
from connectors.sync import sync_source
from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import ENGAGEMENT_TYPES, HubSpotSandbox
from snapshot.store import SnapshotStore

KIND_TYPE = {kind: otype for otype, kind in ENGAGEMENT_TYPES.items()}
DAY = timedelta(days=1)


class SetClock(SystemClock):
    """Real monotonic time and sleeps; ``now()`` is whatever the benchmark sets."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _pages(count: int, cap: int) -> int:
    return max(1, math.ceil(count / cap))


@dataclass
class Changes:
    """What one round changed: contact keys and engagement keys per object type."""

    contacts: set[int] = field(default_factory=set)
    engagements: dict[str, set[int]] = field(default_factory=dict)


def change(crm: CRM, k: int, at: datetime, round_no: int, span: timedelta) -> Changes:
    """k edits on k distinct records spread evenly over ``span`` from ``at``: 60 % contacts
    (status), 40 % calls (title), interleaved as a working day makes them."""
    done = Changes(engagements={otype: set() for otype in ENGAGEMENT_TYPES})
    live = [lead for lead in crm.leads if not lead.archived]
    calls = [a for a in crm.activities if a.kind == "call" and not a.archived]
    contacts = (k * 3) // 5
    step = span / k
    lead_start = (round_no * 7919) % len(live)
    call_start = (round_no * 104_729) % len(calls)
    for i in range(k):
        stamp = at + step * i
        if i * 3 % 5 < 3 and len(done.contacts) < contacts:
            lead = live[(lead_start + len(done.contacts)) % len(live)]
            crm.touch_lead(lead.key, stamp, status="CONNECTED")
            done.contacts.add(lead.key)
        else:
            call = calls[(call_start + len(done.engagements["calls"])) % len(calls)]
            crm.edit_activity(call.key, stamp, title="Edited")
            done.engagements["calls"].add(call.key)
    return done


def minimum(crm: CRM, done: Changes, now: datetime, *, late_links: bool) -> int:
    """The fewest requests an incremental sync reading ``done`` can make (see module)."""
    active = sum(rep.active for rep in crm.reps)
    total = 1 + _pages(active, OWNERS_LIMIT) + _pages(len(crm.reps) - active, OWNERS_LIMIT)
    archived = Counter("contacts" for lead in crm.leads if lead.archived)
    archived.update(KIND_TYPE[a.kind] for a in crm.activities if a.archived)
    total += _pages(len(done.contacts), SEARCH_LIMIT)
    total += math.ceil(len(done.contacts) / BATCH_HISTORY_LIMIT)
    total += _pages(archived["contacts"], LIST_LIMIT)
    window = now - LATE_LINK_WINDOW
    for otype, kind in ENGAGEMENT_TYPES.items():
        changed = done.engagements.get(otype, set())
        total += _pages(len(changed), SEARCH_LIMIT) + _pages(archived[otype], LIST_LIMIT)
        due = set(changed)
        if late_links:
            due |= {
                a.key
                for a in crm.activities
                if a.kind == kind and not a.archived and a.created_at >= window
            }
        total += math.ceil(len(due) / ASSOCIATION_BATCH_LIMIT)
    # The Leads object (0-136): one search page per run, even when nothing changed (the
    # benchmark's edits leave it alone); its changed records' history and contacts would
    # cost one batch read and one association read more each.
    total += 1
    return total


@dataclass
class Run:
    k: int
    requests: int
    minimum_changes: int
    minimum_late_links: int
    by_endpoint: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "requests": self.requests,
            "minimum_changes_only": self.minimum_changes,
            "minimum_with_late_links": self.minimum_late_links,
            "ratio_changes_only": round(self.requests / self.minimum_changes, 3),
            "ratio_with_late_links": round(self.requests / self.minimum_late_links, 3),
            "by_endpoint": self.by_endpoint,
        }


def measure(leads: int, ks: Sequence[int], rounds: int, *, seed: int = 5) -> list[Run]:
    """A full sync, then ``rounds`` incremental syncs after each k changes."""
    crm = generate_crm(size=leads, seed=seed, end=SYNC_END)
    clock = SetClock(SYNC_END + timedelta(hours=1))
    options = SyncOptions(throttle=ThrottlePolicy(window_max=UNLIMITED_DAY))
    runs: list[Run] = []
    with (
        HubSpotSandbox(
            crm, token=TOKEN, ten_second_budget=None, daily_budget=UNLIMITED_DAY
        ) as sandbox,
        tempfile.TemporaryDirectory() as folder,
    ):
        store = SnapshotStore(Path(folder) / "incremental.db")
        settings = _settings(sandbox.base_url)
        sync_source("hubspot", store, settings, full=True, options=options, clock=clock)
        round_no = 0
        for k in ks:
            for _ in range(rounds):
                round_no += 1
                day_start = clock.at + timedelta(minutes=1)
                done = change(crm, k, day_start, round_no, DAY - timedelta(minutes=2))
                clock.at += DAY
                time.sleep(SEARCH_PAUSE_S)
                sandbox.reset_counters()
                summary = sync_source("hubspot", store, settings, options=options, clock=clock)
                runs.append(
                    Run(
                        k=k,
                        requests=summary.requests,
                        minimum_changes=minimum(crm, done, clock.at, late_links=False),
                        minimum_late_links=minimum(crm, done, clock.at, late_links=True),
                        by_endpoint=dict(Counter(sandbox.requests)),
                    )
                )
        store.close()
    return runs


def summarise(runs: Sequence[Run]) -> list[str]:
    """One line per k: medians and ranges of requests and both ratios."""
    lines = []
    for k in dict.fromkeys(r.k for r in runs):
        mine = [r for r in runs if r.k == k]

        def span(values: list[float], fmt: str) -> str:
            return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"

        lines.append(
            f"k={k:,}: requests {span([r.requests for r in mine], '.0f')}; "
            f"minimum changes only {span([r.minimum_changes for r in mine], '.0f')}, "
            f"ratio {span([r.requests / r.minimum_changes for r in mine], '.3f')}; "
            f"minimum with late links {span([r.minimum_late_links for r in mine], '.0f')}, "
            f"ratio {span([r.requests / r.minimum_late_links for r in mine], '.3f')}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--ks", default="200,11759", help="changes per round, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write every run here")
    args = parser.parse_args(argv)
    runs = measure(args.leads, [int(k) for k in args.ks.split(",")], args.rounds)
    for line in summarise(runs):
        print(line)
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in runs], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
