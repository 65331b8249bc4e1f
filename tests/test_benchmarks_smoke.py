"""The benchmarks stay runnable and honest: a tiny ``run.py --quick``, and the snapshot
builder writing exactly what a real sync would.

The audit benchmarks read snapshots that ``benchmarks.snapshot_builder`` writes without
HTTP; their figures mean something only if those rows are the rows a HubSpot sync of the
same CRM commits. The first two tests pin that down against the real connector.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks import run as bench
from benchmarks.snapshot_builder import (
    PORTAL_ID,
    SPEC_BY_KIND,
    SnapshotSpec,
    _sandbox_parts,
    _Stamp,
    build_snapshot,
    sample_extra,
)
from config.settings import Settings
from connectors.core import StreamStats
from connectors.hubspot import activity_page
from connectors.sync import sync_source
from sandbox.generator import generate_crm
from sandbox.hubspot_server import HubSpotSandbox, engagement_id, owner_id
from snapshot.instants import format_instant
from snapshot.schema import TABLES
from snapshot.store import SnapshotStore
from tests.conftest import FIXED_END, HUBSPOT_TOKEN, full_dump


def test_built_snapshot_holds_exactly_the_rows_a_sandbox_sync_commits(tmp_path: Path) -> None:
    spec = SnapshotSpec(leads=150, seed=3, months=4, activities_per_lead=0, end=FIXED_END)
    built = build_snapshot(spec, tmp_path / "built.db", workers=1).path
    crm = generate_crm(size=150, seed=3, end=FIXED_END, months=4)
    synced = SnapshotStore(tmp_path / "synced.db")
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        settings = Settings.from_env(
            {"HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN, "HUBSPOT_BASE_URL": sandbox.base_url},
            dotenv=None,
        )
        sync_source("hubspot", synced, settings)
    store = SnapshotStore(built, create=False)

    # Every data table, every column including the raw JSON evidence, row for row.
    assert full_dump(store) == full_dump(synced)
    assert store.count("leads") == 150
    store.close()
    synced.close()


def test_a_stamped_extra_activity_is_what_the_connector_maps_for_its_record() -> None:
    crm = generate_crm(size=60, seed=1, end=FIXED_END)
    serializer, _ = _sandbox_parts(crm)
    occurred = FIXED_END - timedelta(days=3, minutes=7, milliseconds=123)
    created = occurred + timedelta(seconds=41, milliseconds=5)
    for kind, spec in SPEC_BY_KIND.items():
        act = sample_extra(kind, 123_456, occurred, created, owner=4)
        record = serializer.to_json(spec.object_type, act, list(spec.properties))
        mapped = activity_page([record], spec, {}, StreamStats()).activities[0]
        expected = tuple(mapped.get(c) for c in TABLES["activities"]["columns"])
        values = {
            "id": engagement_id(123_456),
            "occurred": format_instant(occurred),
            "created": format_instant(created),
            "owner": owner_id(4),
        }
        assert _Stamp(kind, serializer).row(values) == expected, kind


def test_quick_benchmark_runs_and_the_pandas_baseline_agrees(tmp_path: Path) -> None:
    plan = replace(bench.QUICK, cache=tmp_path)

    results = bench.run(plan)

    lines = {line.measure.split(" — ")[0]: line for line in results.lines}
    assert lines["ours ÷ baseline"].met is True  # same shares, judged counts and median
    assert lines["full sync requests"].met is True  # ≤ 1.02 × the page-cap minimum
    assert lines["incremental sync requests after k changes"].met is True
    audit: dict[str, Any] = results.raw["audit"][2_000]
    assert audit["handoffs"] > 100
    assert audit["trend_runs"][0]["trend_points"] == 6
    assert results.raw["writes"]["runs"][0]["rows"] > 10_000
