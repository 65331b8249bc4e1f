"""Scale benchmarks of issue 7: the audit, the pandas baseline, and the HubSpot sync.

    python benchmarks/run.py                 # default sizes (100k and 1M leads)
    python benchmarks/run.py --quick         # a tiny smoke version (seconds)
    python benchmarks/run.py --only audit,writes --json results.json

Prints one markdown table (paste it into benchmarks/RESULTS.md). Snapshots for the audit
benchmarks are built once per size into ``benchmarks/cache/`` (git-ignored) by
:mod:`benchmarks.snapshot_builder`; a first run at 1,000,000 leads spends about ten
minutes building, later runs reuse the file.

Timings are medians of repeated runs (the machine is shared and noisy); every audit and
baseline run is a fresh process (:mod:`benchmarks.probe`) so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.snapshot_builder import (  # noqa: E402
    SYNCED_AT,
    SnapshotSpec,
    ensure_snapshot,
)
from snapshot.instants import format_instant  # noqa: E402

SLA_FILE = REPO / "config" / "sla.example.yaml"
PERIOD = "2026-10"
AS_OF = format_instant(SYNCED_AT)
CACHE = REPO / "benchmarks" / "cache"
PARTS = ("audit", "baseline", "writes", "requests", "rate")

# Targets of issue 7.
AUDIT_1M_S = 5.0
AUDIT_1M_MB = 1536.0
AUDIT_100K_S = 1.0
TREND_RATIO = 4.0
WRITE_ROWS_PER_S = 50_000
FULL_REQUEST_RATIO = 1.02
RATE_SHARE = 0.90


@dataclass(frozen=True)
class Plan:
    """What one run measures, and how often."""

    sizes: tuple[int, ...] = (100_000, 1_000_000)
    activities_per_lead: float = 10.0
    repeats: int = 3
    """Runs of each one-month audit (the medians the targets are judged on)."""
    slow_repeats: int = 1
    """Runs of the trend and baseline at sizes above ``fast_size`` (each takes minutes)."""
    fast_size: int = 100_000
    trend: int = 6
    write_leads: int = 20_000
    write_repeats: int = 3
    request_leads: int = 5_000
    ks: tuple[int, ...] = (10, 100, 1000)
    rate_leads: int = 16_000
    parts: tuple[str, ...] = PARTS
    cache: Path = CACHE


QUICK = Plan(
    sizes=(2_000,),
    repeats=1,
    write_leads=1_500,
    write_repeats=1,
    request_leads=600,
    ks=(10, 100),
    parts=("audit", "baseline", "writes", "requests"),
)


@dataclass
class Line:
    """One row of the results table."""

    measure: str
    value: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ("met" if self.met else "**not met**")
        return [self.measure, self.value, self.target, verdict, self.note]


@dataclass
class Results:
    lines: list[Line] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.lines.append(Line(*args, **kwargs))

    def table(self) -> str:
        rows = [["measure", "median", "target", "", "details"]]
        rows += [line.cells() for line in self.lines]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        out = []
        for n, row in enumerate(rows):
            out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            out[-1] += " |"
            if n == 0:
                out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        return "\n".join(out)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    if len(values) == 1:
        return "n=1"
    return f"n={len(values)}, {min(values):.2f}–{max(values):.2f}"


# ------------------------------------------------------------------------------- audit


def probe(kind: str, db: Path, *, trend: int = 0) -> dict[str, Any]:
    """One measurement in a fresh interpreter (see :mod:`benchmarks.probe`)."""
    command = [sys.executable, "-m", "benchmarks.probe", kind, "--db", str(db)]
    command += ["--sla", str(SLA_FILE), "--period", PERIOD, "--as-of", AS_OF]
    if trend:
        command += ["--trend", str(trend)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"probe {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def repeat(runs: int, measure: Callable[[], dict[str, Any]]) -> list[dict[str, Any]]:
    return [measure() for _ in range(runs)]


def audit_part(plan: Plan, results: Results, dbs: dict[int, Path]) -> dict[int, dict[str, Any]]:
    """One month's audit and the trend at each size; returns the medians per size."""
    summary: dict[int, dict[str, Any]] = {}
    for size, db in dbs.items():
        log(f"audit {size:,} leads: {plan.repeats} one-month runs")
        months = repeat(plan.repeats, lambda db=db: probe("audit", db))
        slow = plan.repeats if size <= plan.fast_size else plan.slow_repeats
        log(f"audit {size:,} leads: {slow} runs with --trend {plan.trend}")
        trends = repeat(slow, lambda db=db: probe("audit", db, trend=plan.trend))
        seconds = [m["seconds"] for m in months]
        peaks = [m["peak_mb"] for m in months]
        trend_s = [t["seconds"] for t in trends]
        phases = {
            name: median([m["phases"].get(name, 0.0) for m in months])
            for name in ("engine", "quality_notes", "report")
        }
        summary[size] = {
            "seconds": median(seconds),
            "peak_mb": median(peaks),
            "trend_seconds": median(trend_s),
            "trend_peak_mb": median([t["peak_mb"] for t in trends]),
            "trend_tree_peak_mb": median([t.get("tree_peak_mb", 0.0) for t in trends]),
            "phases": phases,
            "handoffs": months[0]["handoffs"],
            "violations": months[0]["violations"],
            "json_bytes": months[0]["json_bytes"],
            "figures": months[0]["figures"],
            "runs": months,
            "trend_runs": trends,
        }
        row = summary[size]
        target_s = {100_000: AUDIT_100K_S, 1_000_000: AUDIT_1M_S}.get(size)
        results.add(
            f"audit, one month, JSON — {size:,} leads",
            f"{row['seconds']:.2f} s",
            f"≤ {target_s:g} s" if target_s else "",
            row["seconds"] <= target_s if target_s else None,
            f"{spread(seconds)}; {row['handoffs']:,} handoffs, {row['violations']:,} violations, "
            f"{row['json_bytes'] / 1e6:.1f} MB JSON; engine {phases['engine']:.2f} s, data "
            f"notes {phases['quality_notes']:.2f} s, report {phases['report']:.2f} s",
        )
        results.add(
            f"audit peak memory — {size:,} leads",
            f"{row['peak_mb']:.0f} MB",
            "≤ 1.5 GB" if size == 1_000_000 else "",
            row["peak_mb"] <= AUDIT_1M_MB if size == 1_000_000 else None,
            f"{spread(peaks)} (ru_maxrss of a fresh process)",
        )
        ratio = row["trend_seconds"] / row["seconds"]
        results.add(
            f"--trend {plan.trend} ÷ one month — {size:,} leads",
            f"{ratio:.2f}×",
            f"≤ {TREND_RATIO:g}×",
            ratio <= TREND_RATIO,
            f"{row['trend_seconds']:.2f} s ({spread(trend_s)}); peak {row['trend_peak_mb']:.0f} MB "
            f"(with the month workers: {row['trend_tree_peak_mb']:.0f} MB all together)",
        )
    sizes = sorted(summary)
    for small, big in itertools.pairwise(sizes):
        growth = summary[big]["seconds"] / summary[small]["seconds"]
        scale = big / small
        handoff_scale = summary[big]["handoffs"] / summary[small]["handoffs"]
        engine = summary[big]["phases"]["engine"] / summary[small]["phases"]["engine"]
        results.add(
            f"growth {small:,} → {big:,} leads",
            f"{growth:.2f}×",
            f"≤ {scale:g}× (linear)",
            growth <= scale,
            f"handoffs ×{handoff_scale:.2f}; engine alone ×{engine:.2f}; "
            f"memory ×{summary[big]['peak_mb'] / summary[small]['peak_mb']:.2f}",
        )
    return summary


# ---------------------------------------------------------------------------- baseline


def baseline_part(
    plan: Plan, results: Results, dbs: dict[int, Path], ours: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """The analyst's pandas version on the same snapshots, and our ratios to it."""
    summary: dict[int, dict[str, Any]] = {}
    for size, db in dbs.items():
        runs_n = plan.repeats if size <= plan.fast_size else plan.slow_repeats
        log(f"baseline {size:,} leads: {runs_n} runs")
        runs = repeat(runs_n, lambda db=db: probe("baseline", db))
        seconds = median([r["seconds"] for r in runs])
        peak = median([r["peak_mb"] for r in runs])
        figures = runs[0]["figures"]
        summary[size] = {"seconds": seconds, "peak_mb": peak, "figures": figures, "runs": runs}
        if size not in ours:
            ours[size] = {"runs": [probe("audit", db)]}
            ours[size]["seconds"] = ours[size]["runs"][0]["seconds"]
            ours[size]["peak_mb"] = ours[size]["runs"][0]["peak_mb"]
            ours[size]["figures"] = ours[size]["runs"][0]["figures"]
            ours[size]["phases"] = ours[size]["runs"][0]["phases"]
        mine = ours[size]
        same = _same_figures(mine["figures"], figures)
        engine = mine["phases"]["engine"]
        results.add(
            f"pandas baseline (speed-to-lead + attempts) — {size:,} leads",
            f"{seconds:.2f} s, {peak:.0f} MB",
            "",
            None,
            f"{spread([r['seconds'] for r in runs])}; loads whole tables, merges, groups",
        )
        results.add(
            f"ours ÷ baseline — {size:,} leads",
            f"time {mine['seconds'] / seconds:.2f}×, memory {mine['peak_mb'] / peak:.2f}×",
            "same numbers",
            same,
            f"ours: all seven rules + data notes + JSON ({mine['seconds']:.2f} s); engine "
            f"alone {engine / seconds:.2f}×; speed-to-lead "
            f"{_fmt_share(figures['speed_to_lead']['measured'])}, median "
            f"{figures['speed_to_lead']['median_minutes']:.4f} min, attempts "
            f"{_fmt_share(figures['attempts']['measured'])} — "
            + ("equal in both" if same else f"DIFFER: ours {mine['figures']}"),
        )
    return summary


def _fmt_share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4%}"


def _same_figures(ours: dict[str, Any], theirs: dict[str, Any]) -> bool:
    """Compliant shares, judged counts and the median, compared exactly."""
    return all(
        ours[rule][key] == theirs[rule][key]
        for rule, keys in (
            ("speed_to_lead", ("measured", "judged", "median_minutes")),
            ("attempts", ("measured", "judged")),
        )
        for key in keys
    )


# -------------------------------------------------------------------------------- sync


def writes_part(plan: Plan, results: Results) -> dict[str, Any]:
    from benchmarks.sync_bench import measure_writes

    log(f"writes: {plan.write_repeats} full syncs of {plan.write_leads:,} leads, no rate limit")
    runs = measure_writes(plan.write_leads, plan.write_repeats)
    rate = median([r.rows_per_s for r in runs])
    mid = sorted(runs, key=lambda r: r.rows_per_s)[len(runs) // 2]
    results.add(
        f"snapshot writes during a sync — {plan.write_leads:,} leads",
        f"{rate:,.0f} rows/s",
        f"≥ {WRITE_ROWS_PER_S:,} rows/s",
        rate >= WRITE_ROWS_PER_S,
        f"{spread([r.rows_per_s for r in runs])}; {mid.rows:,} rows ({mid.records:,} records) "
        f"in {mid.seconds:.1f} s over {mid.requests} requests; store.write_page "
        f"{mid.store_s:.1f} s ({mid.store_cpu_s:.1f} s CPU), rest of the sync's CPU "
        f"{mid.client_cpu_s:.1f} s, sandbox CPU {mid.server_cpu_s:.1f} s",
    )
    return {"runs": [r.as_dict() for r in runs], "rows_per_s": rate}


def requests_part(plan: Plan, results: Results) -> dict[str, Any]:
    from benchmarks.sync_bench import measure_requests

    log(f"requests: full + incremental syncs of {plan.request_leads:,} leads, k={plan.ks}")
    report = measure_requests(plan.request_leads, plan.ks)
    results.add(
        f"full sync requests — {report.leads:,} contacts, {report.activities:,} activities",
        f"{report.full_requests} (minimum {report.full_minimum})",
        f"≤ {FULL_REQUEST_RATIO}× minimum",
        report.full_ratio <= FULL_REQUEST_RATIO,
        f"{report.full_ratio:.3f}× the fewest the page caps allow",
    )
    base = report.unchanged
    steps = ", ".join(
        f"k={k}: {n} (+{n - base}, {(n - base) / k:.3f}/change)"
        for k, n in report.incremental.items()
    )
    # O(k): beyond the fixed cost, at most a few requests plus one per 20 changes (a
    # search page holds 200 changes, a history batch read 50).
    linear = all(n - base <= 5 + k / 20 for k, n in report.incremental.items())
    results.add(
        "incremental sync requests after k changes",
        steps,
        "O(k): ≤ 5 + k/20 extra",
        linear,
        f"{base} requests with nothing changed (owners, archived lists, one search per "
        "type); 60 % contact edits, 40 % call edits",
    )
    return report.as_dict()


def rate_part(plan: Plan, results: Results) -> dict[str, Any]:
    from benchmarks.sync_bench import measure_rate

    log(f"rate: full sync of {plan.rate_leads:,} leads under 190 requests / 10 s")
    run = measure_rate(plan.rate_leads)
    results.add(
        "sustained request rate under the 190 / 10 s budget",
        f"{run.sustained_rate:.2f} req/s ({run.share:.1%})",
        f"≥ {RATE_SHARE:.0%}, zero 429s, ≥ 30 s",
        run.share >= RATE_SHARE and run.count_429 == 0 and run.seconds >= 30,
        f"{run.requests} requests in {run.seconds:.1f} s ({run.requests / run.seconds:.2f}/s "
        f"overall; sustained = whole 10 s windows after the first); {run.count_429} answered "
        f"429; busiest 10 s: "
        f"{run.busiest_window}; the client keeps 10 of the 190 in reserve (5 %), so 18/s = "
        "94.7 % is its ceiling",
    )
    return run.as_dict()


# -------------------------------------------------------------------------------- main


def build_snapshots(plan: Plan, results: Results) -> dict[int, Path]:
    dbs = {}
    for size in plan.sizes:
        spec = SnapshotSpec(leads=size, activities_per_lead=plan.activities_per_lead)
        log(f"snapshot {size:,} leads: {spec.path(plan.cache)}")
        stats = ensure_snapshot(spec, plan.cache)
        dbs[size] = stats.path
        rows = stats.rows
        how = (
            "cached"
            if stats.cached
            else f"built in {stats.total_seconds:.0f} s ("
            + ", ".join(f"{k} {v:.0f} s" for k, v in stats.seconds.items())
            + ")"
        )
        results.add(
            f"snapshot — {size:,} leads",
            f"{stats.path.stat().st_size / 1e9:.2f} GB",
            "",
            None,
            f"{rows.get('lead_history', 0):,} history rows, {rows.get('activities', 0):,} "
            f"activities, {rows.get('activity_leads', 0):,} links; {how}",
        )
    return dbs


def parse_args(argv: Sequence[str] | None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--sizes", help="comma-separated lead counts (default 100000,1000000)")
    parser.add_argument("--repeats", type=int, help="runs per one-month audit (default 3)")
    parser.add_argument("--only", help=f"comma-separated parts of {','.join(PARTS)}")
    parser.add_argument("--cache", type=Path, help="snapshot folder (default benchmarks/cache)")
    parser.add_argument("--json", type=Path, help="also write every raw figure here")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.sizes:
        plan = replace(plan, sizes=tuple(int(s) for s in args.sizes.split(",")))
    if args.repeats:
        plan = replace(plan, repeats=args.repeats)
    if args.only:
        parts = tuple(p.strip() for p in args.only.split(","))
        unknown = set(parts) - set(PARTS)
        if unknown:
            parser.error(f"unknown part(s) {', '.join(sorted(unknown))}: use {', '.join(PARTS)}")
        plan = replace(plan, parts=parts)
    if args.cache:
        plan = replace(plan, cache=args.cache)
    return plan, args


def run(plan: Plan) -> Results:
    results = Results()
    started = time.perf_counter()
    dbs: dict[int, Path] = {}
    if {"audit", "baseline"} & set(plan.parts):
        dbs = build_snapshots(plan, results)
    ours: dict[int, dict[str, Any]] = {}
    if "audit" in plan.parts:
        ours = audit_part(plan, results, dbs)
        results.raw["audit"] = ours
    if "baseline" in plan.parts:
        results.raw["baseline"] = baseline_part(plan, results, dbs, ours)
    if "writes" in plan.parts:
        results.raw["writes"] = writes_part(plan, results)
    if "requests" in plan.parts:
        results.raw["requests"] = requests_part(plan, results)
    if "rate" in plan.parts:
        results.raw["rate"] = rate_part(plan, results)
    results.raw["total_seconds"] = time.perf_counter() - started
    return results


def main(argv: Sequence[str] | None = None) -> int:
    plan, args = parse_args(argv)
    command = " ".join(["python benchmarks/run.py", *(argv if argv is not None else sys.argv[1:])])
    results = run(plan)
    print(results.table())
    print(f"\n{command} — {results.raw['total_seconds'] / 60:.1f} min")
    if args.json:
        args.json.write_text(json.dumps(results.raw, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
