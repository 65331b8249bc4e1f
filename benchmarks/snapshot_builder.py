"""Audit-benchmark snapshots written straight from a generated CRM, without HTTP.

Syncing a million contacts through the sandbox would take hours at HubSpot's page caps,
and the audit benchmarks measure the audit, not the sync. So the builder produces the
rows a full HubSpot sync would commit, by the connector's own code path minus the wire:

* every generated owner, contact and engagement is rendered by the sandbox's serializer
  (the JSON the fake HubSpot would send) and mapped by ``connectors.hubspot``
  (``map_owner``, ``contact_page``, ``activity_page``) — the same functions a sync calls;
  links follow the sandbox's association rule (live engagement ↔ live contact);
* ``activities_per_lead`` scales activities up to what large portals hold (the generator
  gives about three per lead). The extra ones are *stamped*: for each kind the connector
  maps one sample record once, and each extra is that row with its id, instants and owner
  substituted — the only way to write ten million rows in about a minute. The smoke test
  checks that a stamped row equals what the connector maps for the same record.

Extras never change an audit's figures, only its load: they are notes and tasks (never
an attempt or a connection under the example SLA), plus outbound calls and emails before
the lead's first handoff, which no attempt window reaches. A real sync would also move
the contact's ``lastmodifieddate`` with each logged activity; the audit does not read it.

Rows go in with plain ``executemany`` under one SnapshotStore schema; the store's
secondary indexes are dropped during the load and re-created by reopening the store,
which is how SQLite bulk-loads fastest. The file is built under a temporary name and
renamed when complete, so a killed build never leaves a half snapshot in the cache.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from connectors.core import StreamStats
from connectors.hubspot import (
    CONTACTS,
    ENGAGEMENTS,
    MappingContext,
    ObjectSpec,
    activity_page,
    contact_page,
    map_owner,
)
from sandbox.generator import CRM, Activity, generate_crm
from sandbox.hubspot_server import (
    ENGAGEMENT_TYPES,
    HubSpotSandbox,
    contact_id,
    engagement_id,
    owner_id,
)
from snapshot.derived import DERIVED_TABLES
from snapshot.instants import format_instant
from snapshot.schema import INDEXES, TABLES, Row
from snapshot.store import SnapshotStore

BUILDER_VERSION = 1
"""Part of every cached file name: bump it when the rows a build writes change."""

SOURCE = "hubspot"
PORTAL_ID = 4_242_424
"""The sandbox's default portal id, so record URLs equal those a sandbox sync stores."""

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
DEFAULT_MONTHS = 7
"""Seven months before ``end``: the audited month and the six months ``--trend 6`` reads
all hold data, so the trend ratio is measured on real months, not empty ones."""

SYNCED_AT = DEFAULT_END + timedelta(hours=3)
"""When the build's ``sync_runs`` row says the snapshot was synced (the audits' as-of)."""

MQL_STAGE = "marketingqualifiedlead"
SPEC_BY_KIND: dict[str, ObjectSpec] = {spec.kind or spec.object_type: spec for spec in ENGAGEMENTS}
TYPE_BY_KIND: dict[str, str] = {kind: otype for otype, kind in ENGAGEMENT_TYPES.items()}
CHUNK = 5_000
"""Records per worker task: large enough to amortise pickling, small enough to stream."""


@dataclass(frozen=True)
class SnapshotSpec:
    """What a benchmark snapshot holds; equal specs give byte-identical rows."""

    leads: int
    seed: int = 7
    months: int = DEFAULT_MONTHS
    activities_per_lead: float = 10.0
    """Average activities per lead after stamping extras; 0 keeps the generator's own."""
    end: datetime = DEFAULT_END

    @property
    def name(self) -> str:
        apl = f"{self.activities_per_lead:g}".replace(".", "p")
        return (
            f"hubspot-{self.leads}-s{self.seed}-m{self.months}-a{apl}-"
            f"{self.end:%Y%m%d}-v{BUILDER_VERSION}.db"
        )

    def path(self, cache_dir: Path) -> Path:
        return cache_dir / self.name


@dataclass
class BuildStats:
    """What a build wrote and how long it took (reported in RESULTS.md)."""

    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    cached: bool = False

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


def ensure_snapshot(spec: SnapshotSpec, cache_dir: Path, *, workers: int = 2) -> BuildStats:
    """The cached snapshot for ``spec``, built first if it is not there yet."""
    path = spec.path(cache_dir)
    if path.exists():
        return BuildStats(path=path, rows=table_counts(path), cached=True)
    return build_snapshot(spec, path, workers=workers)


def table_counts(path: Path) -> dict[str, int]:
    store = SnapshotStore(path, create=False)
    try:
        return {
            t: store.count(t) for t in ("leads", "lead_history", "activities", "activity_leads")
        }
    finally:
        store.close()


def build_snapshot(spec: SnapshotSpec, path: Path, *, workers: int = 2) -> BuildStats:
    """Generate the CRM of ``spec`` and write its snapshot to ``path`` (replacing it)."""
    stats = BuildStats(path=path)
    clock = time.perf_counter()
    crm = generate_crm(size=spec.leads, seed=spec.seed, end=spec.end, months=spec.months)
    stats.seconds["generate"] = time.perf_counter() - clock

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    for leftover in _sidecars(partial):
        leftover.unlink(missing_ok=True)
    store = SnapshotStore(partial)
    try:
        _prepare_bulk_load(store)
        writer = _Writer(store)
        clock = time.perf_counter()
        extras = plan_extras(crm, _extra_count(spec, crm), seed=spec.seed)
        stats.seconds["plan extras"] = time.perf_counter() - clock
        clock = time.perf_counter()
        _write_owners(crm, writer)
        _write_mapped(crm, extras, writer, workers=workers)
        stats.seconds["map+write"] = time.perf_counter() - clock
        _record_sync_run(store, crm)
        writer.close()
        stats.rows = {t: n for t, n in writer.rows.items() if n}
    finally:
        store.close()
    clock = time.perf_counter()
    _finish_bulk_load(partial)
    stats.seconds["indexes"] = time.perf_counter() - clock
    os.replace(partial, path)
    return stats


def _sidecars(path: Path) -> list[Path]:
    return [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]


# ------------------------------------------------------------------------ bulk loading


def _prepare_bulk_load(store: SnapshotStore) -> None:
    """No journal, no fsync, no secondary indexes: the file is thrown away if killed.

    The store creates its indexes with the tables; they are re-created at the end.
    """
    conn = store.db.conn
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    for name in _secondary_indexes(store):
        conn.execute(f"DROP INDEX [{name}]")
    # Triggers would maintain the derived tables row by row; they are built in one pass.
    for table in DERIVED_TABLES:
        for trigger in table.triggers:
            conn.execute(f"DROP TRIGGER [{trigger}]")
        conn.execute(f"DROP TABLE [{table.name}]")


def _secondary_indexes(store: SnapshotStore) -> list[str]:
    names = []
    for table in INDEXES:
        names += [i.name for i in store.db[table].indexes if not i.name.startswith("sqlite_")]
    return names


def _finish_bulk_load(path: Path) -> None:
    """Reopen the file: the store creates the indexes and derived tables a file lacks.

    That is the very code that upgrades a user's older snapshot. WAL is what a synced
    snapshot uses.
    """
    store = SnapshotStore(path)
    try:
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()


class _Writer:
    """Inserts rows in the store's column order, committing every ``batch`` rows."""

    def __init__(self, store: SnapshotStore, batch: int = 200_000) -> None:
        self.conn = store.db.conn
        self.batch = batch
        self.pending = 0
        self.rows: dict[str, int] = {t: 0 for t in TABLES}
        self.sql = {
            table: (
                f"insert into [{table}] ({', '.join(f'[{c}]' for c in spec['columns'])}) "
                f"values ({', '.join('?' * len(spec['columns']))})"
            )
            for table, spec in TABLES.items()
        }
        self.conn.execute("BEGIN")

    def insert(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.conn.executemany(self.sql[table], rows)
        self.rows[table] += len(rows)
        self.pending += len(rows)
        if self.pending >= self.batch:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
            self.pending = 0

    def close(self) -> None:
        self.conn.execute("COMMIT")


def as_tuples(table: str, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """Mapped row dicts → tuples in the table's column order (missing columns are NULL)."""
    columns = tuple(TABLES[table]["columns"])
    return [tuple(row.get(c) for c in columns) for row in rows]


# ------------------------------------------------------------------- mapped by connector

_SHARED: dict[str, Any] = {}
"""What the forked mapping workers read: the CRM and the extras plan (copy-on-write)."""


def _sandbox_parts(crm: CRM) -> tuple[Any, dict[str, int]]:
    """The sandbox's serializer and team ids: the JSON the fake HubSpot would answer with.

    Taken from an unstarted sandbox so there is one definition of the wire format.
    """
    sandbox = HubSpotSandbox(crm, portal_id=PORTAL_ID)
    return sandbox._serializer, sandbox._teams


def _write_owners(crm: CRM, writer: _Writer) -> None:
    serializer, teams = _sandbox_parts(crm)
    rows = []
    for rep in crm.reps:
        record = serializer.owner_json(rep, teams)
        rows.append(map_owner(record, active=not record.get("archived")))
    writer.insert("owners", as_tuples("owners", rows))


def map_leads(crm: CRM, start: int, stop: int) -> tuple[list[tuple[Any, ...]], ...]:
    """Contacts ``crm.leads[start:stop]`` as a sync maps them: leads and history rows."""
    serializer, _ = _sandbox_parts(crm)
    records = [
        serializer.to_json("contacts", lead, list(CONTACTS.properties), list(CONTACTS.history))
        for lead in crm.leads[start:stop]
    ]
    page = contact_page(records, MappingContext(portal_id=str(PORTAL_ID)))
    return as_tuples("leads", page.leads), as_tuples("lead_history", page.history)


def map_activities(crm: CRM, start: int, stop: int) -> tuple[list[tuple[Any, ...]], ...]:
    """Engagements ``crm.activities[start:stop]`` as a sync maps them, with their links."""
    serializer, _ = _sandbox_parts(crm)
    activities: list[Row] = []
    links: list[Row] = []
    stats = StreamStats()
    for act in crm.activities[start:stop]:
        spec = SPEC_BY_KIND[act.kind]
        record = serializer.to_json(spec.object_type, act, list(spec.properties))
        page = activity_page([record], spec, {record["id"]: _linked_contacts(crm, act)}, stats)
        activities += page.activities
        links += page.links
    return as_tuples("activities", activities), as_tuples("activity_leads", links)


def _linked_contacts(crm: CRM, act: Activity) -> list[str]:
    """Contacts HubSpot lists with an engagement: only while both are live."""
    if act.archived:
        return []
    keys = (k for k in dict.fromkeys(act.lead_keys) if not crm.lead(k).archived)
    return sorted(contact_id(k) for k in keys)


Task = tuple[str, int, int]
Tables = tuple[list[tuple[Any, ...]], ...]
TASK_TABLES = {
    "leads": ("leads", "lead_history"),
    "activities": ("activities", "activity_leads"),
    "extras": ("activities", "activity_leads"),
}


def _run_task(task: Task) -> tuple[str, Tables]:
    kind, start, stop = task
    crm: CRM = _SHARED["crm"]
    if kind == "leads":
        return kind, map_leads(crm, start, stop)
    if kind == "activities":
        return kind, map_activities(crm, start, stop)
    return kind, _SHARED["extras"].rows(crm, start, stop)


def _tasks(crm: CRM, extras: ExtrasPlan) -> Iterator[Task]:
    for kind, total in (
        ("leads", len(crm.leads)),
        ("activities", len(crm.activities)),
        ("extras", len(extras)),
    ):
        step = CHUNK if kind != "extras" else 8 * CHUNK
        for start in range(0, total, step):
            yield kind, start, min(start + step, total)


def _write_mapped(crm: CRM, extras: ExtrasPlan, writer: _Writer, *, workers: int) -> None:
    """Map in forked workers (sharing the CRM copy-on-write) while this process writes."""
    _SHARED.update(crm=crm, extras=extras)
    try:
        if workers <= 1:
            results: Iterator[tuple[str, Tables]] = map(_run_task, _tasks(crm, extras))
            for kind, parts in results:
                for table, rows in zip(TASK_TABLES[kind], parts, strict=True):
                    writer.insert(table, rows)
            return
        context = multiprocessing.get_context("fork")
        with context.Pool(workers) as pool:
            for kind, parts in pool.imap(_run_task, _tasks(crm, extras), chunksize=1):
                for table, rows in zip(TASK_TABLES[kind], parts, strict=True):
                    writer.insert(table, rows)
    finally:
        _SHARED.clear()


def _record_sync_run(store: SnapshotStore, crm: CRM) -> None:
    synced = format_instant(SYNCED_AT if crm.end == DEFAULT_END else crm.end + timedelta(hours=3))
    store.db.conn.execute(
        "insert into sync_runs (source, started_at, finished_at, status, records, requests, "
        "retries) values (?, ?, ?, 'ok', ?, 0, 0)",
        [SOURCE, synced, synced, len(crm.leads) + len(crm.activities) + len(crm.reps)],
    )


# ------------------------------------------------------------------------ stamped extras

EXTRA_BEFORE_HANDOFF = (("email", 0.40), ("call", 0.10), ("note", 0.25), ("task", 0.25))
EXTRA_AFTER_HANDOFF = (("note", 0.5), ("task", 0.5))

_SAMPLE_KEY = 9_999_999_999
_SAMPLE_TIMES = {
    "occurred": datetime(1999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
    "created": datetime(1999, 2, 3, 4, 5, 6, 7000, tzinfo=UTC),
}
_SAMPLE_OWNER = 99


def sample_extra(
    kind: str, key: int, occurred: datetime, created: datetime, owner: int
) -> Activity:
    """The CRM record an extra of ``kind`` stands for (what the smoke test maps to compare)."""
    base: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "occurred_at": occurred,
        "created_at": created,
        "updated_at": created,
        "owner_key": owner,
        "lead_keys": [],
    }
    if kind == "email":
        return Activity(**base, direction="EMAIL", status="SENT", title="Product newsletter")
    if kind == "call":
        return Activity(
            **base,
            direction="OUTBOUND",
            disposition="73a0d17f-1163-4015-bdd5-ec830791da20",
            status="NO_ANSWER",
            duration_ms=0,
            title="Outbound call",
        )
    if kind == "task":
        return Activity(**base, status="COMPLETED", title="Update the account record")
    return Activity(**base, title="Visited the pricing page")


class _Stamp:
    """One kind's mapped sample row, its variable values turned into ``%`` fields."""

    def __init__(self, kind: str, serializer: Any) -> None:
        spec = SPEC_BY_KIND[kind]
        act = sample_extra(
            kind, _SAMPLE_KEY, _SAMPLE_TIMES["occurred"], _SAMPLE_TIMES["created"], _SAMPLE_OWNER
        )
        record = serializer.to_json(spec.object_type, act, list(spec.properties))
        row = activity_page([record], spec, {}, StreamStats()).activities[0]
        swaps = {
            engagement_id(_SAMPLE_KEY): "%(id)s",
            format_instant(_SAMPLE_TIMES["occurred"]): "%(occurred)s",
            format_instant(_SAMPLE_TIMES["created"]): "%(created)s",
            owner_id(_SAMPLE_OWNER): "%(owner)s",
        }
        self.constants: list[Any] = []
        self.templates: list[tuple[int, str]] = []
        for i, column in enumerate(TABLES["activities"]["columns"]):
            value = row.get(column)
            self.constants.append(value)
            if isinstance(value, str):
                stamped = value.replace("%", "%%")
                for old, new in swaps.items():
                    stamped = stamped.replace(old, new)
                if stamped != value.replace("%", "%%"):
                    self.templates.append((i, stamped))

    def row(self, values: dict[str, str]) -> tuple[Any, ...]:
        out = self.constants.copy()
        for i, template in self.templates:
            out[i] = template % values
        return tuple(out)


def _extra_count(spec: SnapshotSpec, crm: CRM) -> int:
    return max(0, round(spec.activities_per_lead * len(crm.leads)) - len(crm.activities))


def _first_handoff_ms(crm: CRM) -> np.ndarray:
    """Per lead, its first entry into the MQL stage (epoch ms); int64 max if it has none."""
    never = np.iinfo(np.int64).max
    out = np.full(len(crm.leads), never, dtype=np.int64)
    for i, lead in enumerate(crm.leads):
        for entry in lead.history:
            if entry.field == "stage" and entry.value == MQL_STAGE:
                out[i] = _epoch_ms(entry.at)
                break
    return out


def _epoch_ms(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1))


def _ms_text(ms: np.ndarray) -> list[str]:
    """Epoch ms → the snapshot's instant text, vectorised (equals ``format_instant``)."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [f"{t}Z" for t in text.tolist()]


@dataclass
class ExtrasPlan:
    """Every random draw of the extras, made once in the parent so workers only format.

    Extra ``j`` is engagement key ``first_key + j`` on lead ``crm.leads[lead[j]]``.
    """

    first_key: int
    lead: np.ndarray
    occurred: np.ndarray
    created: np.ndarray
    kind: np.ndarray
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.lead)

    def rows(self, crm: CRM, start: int, stop: int) -> Tables:
        serializer, _ = _sandbox_parts(crm)
        stamps = {kind: _Stamp(kind, serializer) for kind in SPEC_BY_KIND}
        occurred = _ms_text(self.occurred[start:stop])
        created = _ms_text(self.created[start:stop])
        activities = []
        links = []
        for j, (index, kind, owner) in enumerate(
            zip(
                self.lead[start:stop].tolist(),
                self.kind[start:stop].tolist(),
                self.owner[start:stop].tolist(),
                strict=True,
            )
        ):
            eid = engagement_id(self.first_key + start + j)
            values = {
                "id": eid,
                "occurred": occurred[j],
                "created": created[j],
                "owner": owner_id(owner),
            }
            activities.append(stamps[kind].row(values))
            links.append((f"{SOURCE}:{eid}", f"{SOURCE}:{contact_id(crm.leads[index].key)}"))
        return activities, links


def plan_extras(crm: CRM, total: int, *, seed: int) -> ExtrasPlan:
    """Draw ``total`` extra activities over the live leads (see the module docstring)."""
    rng = np.random.default_rng([seed, 7_000_007])
    leads = crm.leads
    live = np.array([not lead.archived for lead in leads], dtype=bool)
    created = np.array([_epoch_ms(lead.created_at) for lead in leads], dtype=np.int64)
    owners = np.array([lead.owner_key or 0 for lead in leads], dtype=np.int64)
    spare = np.array([rep.key for rep in crm.reps if rep.active], dtype=np.int64)
    end_ms = _epoch_ms(crm.end)
    lam = total / max(1, int(live.sum())) if total else 0.0
    counts = np.where(live, rng.poisson(lam, len(leads)), 0)
    lead = np.repeat(np.arange(len(leads)), counts)
    n = len(lead)
    span = np.maximum(end_ms - 120_000 - created[lead], 1)
    occurred = created[lead] + (rng.random(n) * span).astype(np.int64)
    stamped = np.minimum(occurred + rng.integers(1_000, 60_000, n), end_ms - 1)
    before = occurred < _first_handoff_ms(crm)[lead]
    kind = np.where(
        before, _choose(rng, EXTRA_BEFORE_HANDOFF, n), _choose(rng, EXTRA_AFTER_HANDOFF, n)
    )
    owner = np.where(owners[lead] > 0, owners[lead], spare[rng.integers(0, len(spare), n)])
    first_key = max((a.key for a in crm.activities), default=0) + 1
    return ExtrasPlan(first_key, lead, occurred, stamped, kind, owner)


def _choose(rng: np.random.Generator, weighted: Sequence[tuple[str, float]], n: int) -> np.ndarray:
    names = np.array([name for name, _ in weighted], dtype=object)
    weights = np.array([w for _, w in weighted], dtype=float)
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]
