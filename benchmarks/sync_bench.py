"""Sync measurements against the HubSpot sandbox: write throughput, requests, rate budget.

Every sync here is the real one — ``connectors.sync.sync_source`` through
``hubspot-api-client`` over HTTP to the sandbox — into a fresh snapshot file.

* :func:`measure_writes` serves the sandbox from a *forked process* so that its CPU
  (serialising pages) neither shares the client's interpreter lock nor hides inside the
  client's CPU time: the split client / server / store is then three honest numbers
  (plus the split of the client's CPU between the engine's thread, which writes, and
  the workers that fetch and map pages ahead of it).
* :func:`measure_requests` counts what a full sync asks for against the fewest requests
  HubSpot's page caps allow, then what incremental syncs ask for after k changes.
* :func:`measure_rate` runs a sync long enough to span several ten-second windows with
  the sandbox enforcing HubSpot's 190-per-10-seconds budget and the client's default
  throttle, and reports the rate it sustained and the 429s it met.
"""

from __future__ import annotations

import math
import multiprocessing
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config.settings import Settings
from connectors.core import SyncOptions, ThrottlePolicy
from connectors.hubspot import HubSpotTransport
from connectors.sync import sync_source
from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import ENGAGEMENT_TYPES, HubSpotSandbox
from snapshot.schema import DATA_TABLES
from snapshot.store import SnapshotStore

TOKEN = "pat-na1-00000000-benchmark-0000-000000000000"
SYNC_END = datetime(2026, 11, 1, tzinfo=UTC)
UNLIMITED_DAY = 10**9
SEARCH_PAUSE_S = 1.1
"""Between back-to-back syncs: each run's throttle starts empty, but the sandbox still
counts the previous run's last searches in its one-second window (nightly runs are
hours apart)."""

OWNERS_CAP = 500
HISTORY_CAP = 50
LIST_CAP = 100


def _settings(base_url: str) -> Settings:
    return Settings.from_env(
        {"HUBSPOT_ACCESS_TOKEN": TOKEN, "HUBSPOT_BASE_URL": base_url}, dotenv=None
    )


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def snapshot_rows(store: SnapshotStore) -> int:
    """Rows of CRM data in the snapshot (owners, leads, history, activities, links)."""
    return sum(store.count(table) for table in DATA_TABLES)


# ------------------------------------------------------------------------------ writes

_SERVED: dict[str, Any] = {}
"""The CRM the forked sandbox process serves (set before forking; copy-on-write)."""


def _serve(conn: Any, kwargs: dict[str, Any]) -> None:
    """Child process: serve ``_SERVED['crm']`` until told to stop, answering marks."""
    with HubSpotSandbox(_SERVED["crm"], token=TOKEN, **kwargs) as sandbox:
        conn.send(sandbox.base_url)
        while True:
            message = conn.recv()
            conn.send(
                {
                    "cpu_s": _cpu_s(),
                    "requests": sandbox.total_requests,
                    "count_429": sandbox.count_429,
                }
            )
            if message != "mark":
                return


@contextmanager
def sandbox_process(crm: CRM, **kwargs: Any) -> Iterator[tuple[str, Any]]:
    """A sandbox serving ``crm`` from a forked process: yields (base_url, control pipe).

    Send ``"mark"`` on the pipe to get the process's CPU seconds, the requests it served
    and the 429s it answered.
    """
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    _SERVED["crm"] = crm
    process = context.Process(target=_serve, args=(child, kwargs), daemon=True)
    process.start()
    _SERVED.clear()
    try:
        yield parent.recv(), parent
    finally:
        parent.send("stop")
        parent.recv()
        process.join(timeout=10)


@dataclass
class WriteRun:
    """One full sync with the rate limit off."""

    seconds: float
    rows: int
    records: int
    requests: int
    client_cpu_s: float
    store_s: float
    store_cpu_s: float
    server_cpu_s: float
    engine_thread_cpu_s: float = 0.0
    """CPU of the thread that called ``sync_source`` (the writes, and any page it reads
    itself); the rest of the process's CPU is the prefetching workers'."""
    process_cpu_s: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "rows": self.rows,
            "records": self.records,
            "requests": self.requests,
            "rows_per_s": self.rows_per_s,
            "client_cpu_s": self.client_cpu_s,
            "store_s": self.store_s,
            "store_cpu_s": self.store_cpu_s,
            "server_cpu_s": self.server_cpu_s,
            "engine_thread_cpu_s": self.engine_thread_cpu_s,
            "worker_cpu_s": self.process_cpu_s - self.engine_thread_cpu_s,
        }


def measure_writes(leads: int, repeats: int, *, seed: int = 11) -> list[WriteRun]:
    """Full syncs of a ``leads``-lead CRM with no rate limit on either side.

    ``store_s`` is the wall time inside ``SnapshotStore.write_page`` and ``store_cpu_s``
    the CPU it used (SQLite; the difference is waiting on the disk, and — since the
    engine writes while a worker thread fetches and maps the next page — on the
    interpreter lock and for a core); ``client_cpu_s`` is the rest of the syncing
    process's CPU (HTTP, JSON, mapping, engine, in whichever thread); ``server_cpu_s``
    is the sandbox process's CPU. Without the worker these add up to the wall time plus
    the sockets; with it they overlap, so the wall time is less than their sum (on two
    cores, no less than their sum halved).
    """
    crm = generate_crm(size=leads, seed=seed, end=SYNC_END)
    runs = []
    options = SyncOptions(throttle=ThrottlePolicy(enabled=False))
    with (
        sandbox_process(
            crm,
            ten_second_budget=None,
            search_per_second=None,
            daily_budget=UNLIMITED_DAY,
        ) as (base_url, control),
        tempfile.TemporaryDirectory() as folder,
    ):
        settings = _settings(base_url)
        for n in range(repeats):
            store = SnapshotStore(Path(folder) / f"writes-{n}.db")
            spent = _time_writes(store)
            control.send("mark")
            before = control.recv()
            cpu_before, thread_before = _cpu_s(), time.thread_time()
            started = time.perf_counter()
            summary = sync_source("hubspot", store, settings, full=True, options=options)
            seconds = time.perf_counter() - started
            cpu = _cpu_s() - cpu_before
            engine_thread_cpu = time.thread_time() - thread_before
            control.send("mark")
            after = control.recv()
            runs.append(
                WriteRun(
                    seconds=seconds,
                    rows=snapshot_rows(store),
                    records=summary.records,
                    requests=after["requests"] - before["requests"],
                    client_cpu_s=cpu - spent[1],
                    store_s=spent[0],
                    store_cpu_s=spent[1],
                    server_cpu_s=after["cpu_s"] - before["cpu_s"],
                    engine_thread_cpu_s=engine_thread_cpu,
                    process_cpu_s=cpu,
                )
            )
            store.close()
    return runs


def _time_writes(store: SnapshotStore) -> list[float]:
    """Accumulate wall and CPU time spent in ``store.write_page``: [wall, cpu]."""
    spent = [0.0, 0.0]
    write_page = store.write_page

    def timed(*args: Any, **kwargs: Any) -> int:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return write_page(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started
            spent[1] += time.thread_time() - cpu

    store.write_page = timed  # type: ignore[method-assign]
    return spent


# ---------------------------------------------------------------------------- requests


def _pages(count: int, cap: int) -> int:
    """Requests to list ``count`` records at ``cap`` a page: an empty list still costs one."""
    return max(1, math.ceil(count / cap))


def minimum_full_sync_requests(crm: CRM) -> int:
    """The fewest requests a full sync of ``crm`` can make under HubSpot's page caps.

    Owners 500 a page (active, then archived), contacts 50 a page (the cap with property
    history; live, then archived), each engagement type 100 a page (live, then archived),
    the Leads object's live records 50 a page (with their stage history), one
    account-details call for the portal id that record URLs need, and one property
    definition per funnel field for the values' labels (2; issue 15, item 7).
    """
    live: Counter[str] = Counter()
    for lead in crm.leads:
        live["contacts_archived" if lead.archived else "contacts"] += 1
    kind_type = {kind: otype for otype, kind in ENGAGEMENT_TYPES.items()}
    for act in crm.activities:
        otype = kind_type[act.kind]
        live[f"{otype}_archived" if act.archived else otype] += 1
    active = sum(rep.active for rep in crm.reps)
    total = 1 + 2 + _pages(active, OWNERS_CAP) + _pages(len(crm.reps) - active, OWNERS_CAP)
    total += _pages(live["contacts"], HISTORY_CAP) + _pages(live["contacts_archived"], HISTORY_CAP)
    for otype in ENGAGEMENT_TYPES:
        total += _pages(live[otype], LIST_CAP) + _pages(live[f"{otype}_archived"], LIST_CAP)
    total += _pages(sum(not obj.archived for obj in crm.lead_objects), HISTORY_CAP)
    return total


@dataclass
class RequestReport:
    """Full-sync requests against the minimum, and incremental requests per k changes."""

    leads: int
    activities: int
    full_requests: int
    full_minimum: int
    incremental: dict[int, int] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def full_ratio(self) -> float:
        return self.full_requests / self.full_minimum

    def as_dict(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "activities": self.activities,
            "full_requests": self.full_requests,
            "full_minimum": self.full_minimum,
            "full_ratio": self.full_ratio,
            "unchanged": self.unchanged,
            "incremental": self.incremental,
        }


def _change(crm: CRM, k: int, at: datetime, round_no: int) -> None:
    """k edits as a working day makes them: 60 % contacts (status), 40 % calls (outcome).

    Each edit lands on a different record, a millisecond apart, so k edits are k changed
    records for the next incremental sync.
    """
    tick = iter(range(1, 10 * k + 10))
    live = [lead for lead in crm.leads if not lead.archived]
    calls = [a for a in crm.activities if a.kind == "call" and not a.archived]
    contacts = (k * 3) // 5
    start = (round_no * 7919) % len(live)
    for i in range(contacts):
        lead = live[(start + i) % len(live)]
        crm.touch_lead(lead.key, at + timedelta(milliseconds=next(tick)), status="CONNECTED")
    start = (round_no * 104_729) % len(calls)
    for i in range(k - contacts):
        call = calls[(start + i) % len(calls)]
        crm.edit_activity(
            call.key, at + timedelta(milliseconds=next(tick)), status="COMPLETED", title="Edited"
        )


def measure_requests(leads: int, ks: tuple[int, ...], *, seed: int = 5) -> RequestReport:
    """Full sync, an incremental sync with nothing changed, then one after each k changes.

    The sandbox serves in this process (request counts do not depend on CPU) without a
    ten-second budget, and the client's ten-second lane is opened as wide, so the
    measurement takes seconds, not minutes; the search lane keeps its production pace
    (4 a second), as HubSpot answers faster searches with 429s that would count.
    """
    crm = generate_crm(size=leads, seed=seed, end=SYNC_END)
    options = SyncOptions(throttle=ThrottlePolicy(window_max=UNLIMITED_DAY))
    with (
        HubSpotSandbox(
            crm, token=TOKEN, ten_second_budget=None, daily_budget=UNLIMITED_DAY
        ) as sandbox,
        tempfile.TemporaryDirectory() as folder,
    ):
        store = SnapshotStore(Path(folder) / "requests.db")
        settings = _settings(sandbox.base_url)
        minimum = minimum_full_sync_requests(crm)
        full = sync_source("hubspot", store, settings, full=True, options=options)
        report = RequestReport(
            leads=len(crm.leads),
            activities=len(crm.activities),
            full_requests=full.requests,
            full_minimum=minimum,
        )
        time.sleep(SEARCH_PAUSE_S)
        report.unchanged = sync_source("hubspot", store, settings, options=options).requests
        for round_no, k in enumerate(ks, start=1):
            time.sleep(SEARCH_PAUSE_S)
            _change(crm, k, datetime.now(UTC), round_no)
            summary = sync_source("hubspot", store, settings, options=options)
            report.incremental[k] = summary.requests
        store.close()
    return report


# -------------------------------------------------------------------------------- rate


@dataclass
class RateRun:
    """A full sync under the sandbox's ten-second budget and the client's throttle.

    ``sent`` holds each request's send time (monotonic seconds from the first). The first
    ten seconds are a burst any client may spend at once; the *sustained* rate is the
    one after them, which is what a long sync lives on.
    """

    seconds: float
    requests: int
    count_429: int
    budget: int
    sent: list[float] = field(default_factory=list, repr=False)

    @property
    def window_s(self) -> float:
        return 10.0

    @property
    def sustained_rate(self) -> float:
        """Requests per second over the whole ten-second windows after the first one.

        A rolling-window throttle sends in bursts (the window's budget, then a wait until
        the oldest request leaves it), so the rate is only meaningful per whole window.
        """
        if not self.sent:
            return float("nan")
        windows = math.floor((self.sent[-1] - self.window_s) / self.window_s)
        if windows < 1:
            return float("nan")
        end = self.window_s * (1 + windows)
        inside = sum(1 for t in self.sent if self.window_s <= t < end)
        return inside / (end - self.window_s)

    @property
    def share(self) -> float:
        """The sustained rate as a share of the budget's (``budget`` per 10 s)."""
        return self.sustained_rate / (self.budget / self.window_s)

    @property
    def busiest_window(self) -> int:
        """Most requests sent in any ten seconds (the sandbox allows ``budget``)."""
        most, first = 0, 0
        for last, t in enumerate(self.sent):
            while t - self.sent[first] >= self.window_s:
                first += 1
            most = max(most, last - first + 1)
        return most

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "requests": self.requests,
            "count_429": self.count_429,
            "budget_per_10s": self.budget,
            "overall_rate_per_s": self.requests / self.seconds,
            "sustained_rate_per_s": self.sustained_rate,
            "share_of_budget": self.share,
            "busiest_10s": self.busiest_window,
        }


def measure_rate(leads: int, *, budget: int = 190, seed: int = 13) -> RateRun:
    """One full sync of ``leads`` leads against a sandbox enforcing ``budget`` per 10 s.

    The sync runs with the production defaults (client throttle on); send times are
    taken where the connector hands each request to the HTTP client.
    """
    crm = generate_crm(size=leads, seed=seed, end=SYNC_END)
    sent: list[float] = []
    exchange = HubSpotTransport.exchange

    def stamped(self: HubSpotTransport, *args: Any, **kwargs: Any) -> Any:
        sent.append(time.monotonic())
        return exchange(self, *args, **kwargs)

    with (
        sandbox_process(crm, ten_second_budget=budget, daily_budget=UNLIMITED_DAY) as (
            base_url,
            control,
        ),
        tempfile.TemporaryDirectory() as folder,
    ):
        store = SnapshotStore(Path(folder) / "rate.db")
        HubSpotTransport.exchange = stamped  # type: ignore[method-assign]
        try:
            started = time.perf_counter()
            summary = sync_source("hubspot", store, _settings(base_url), full=True)
            seconds = time.perf_counter() - started
        finally:
            HubSpotTransport.exchange = exchange  # type: ignore[method-assign]
        store.close()
        control.send("mark")
        served = control.recv()
    origin = sent[0] if sent else 0.0
    return RateRun(
        seconds=seconds,
        requests=summary.requests,
        count_429=served["count_429"],
        budget=budget,
        sent=[t - origin for t in sent],
    )
