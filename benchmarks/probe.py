"""One measurement in a fresh process: ``python -m benchmarks.probe KIND ...`` → one JSON line.

Peak memory is the process's ``ru_maxrss``: numpy, pandas and SQLite allocate outside
Python's allocator, where ``tracemalloc`` cannot see, and a fresh process per measurement
keeps one run's peak from hiding the next one's. The figure includes the interpreter and
the imported libraries (about 100 MB), as a user's ``run_audit.py`` process would.

Kinds:

* ``audit`` — exactly ``run_audit.py audit --format json --out FILE [--trend N]``, called
  through ``run_audit.main`` in this process once every module it imports is loaded
  (imports are outside the clock, reported as ``import_s``). The library calls it makes
  are wrapped with timers, so one run also says where the time went: ``engine``
  (``run_audit``), ``quality_notes``, ``trend`` (``run_trend``) and ``report``
  (``write_report``). The rules' headline figures are read back from the JSON file.
* ``baseline`` — :mod:`benchmarks.baseline_pandas` on the same snapshot, same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

_STARTED = time.perf_counter()

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreePeak:
    """Peak resident memory of this process and all its descendants together, in MiB.

    ``--trend`` audits months in worker processes (grandchildren, through the
    forkserver), which ``ru_maxrss`` does not see: this samples ``/proc`` every 50 ms in
    a thread and keeps the largest sum.
    """

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(os.getpid()))

    @property
    def rounded(self) -> float:
        return round(self.peak_mb, 1)


def _tree_rss_mb(root: int) -> float:
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as file:
                fields = dict(line.split(":", 1) for line in file if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0.0) for pid in tree)


def _timed(module: Any, name: str, phases: dict[str, float], label: str) -> None:
    """Replace ``module.name`` by a wrapper adding its wall time to ``phases[label]``."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def probe_audit(args: argparse.Namespace) -> dict[str, Any]:
    import audit.data_quality
    import audit.engine
    import audit.reports
    import run_audit

    phases: dict[str, float] = {}
    _timed(audit.engine, "run_audit", phases, "engine")
    _timed(audit.engine, "run_trend", phases, "trend")
    _timed(audit.data_quality, "quality_notes", phases, "quality_notes")
    _timed(audit.engine, "quality_notes", phases, "quality_notes")  # imported by name there
    _timed(audit.reports, "write_report", phases, "report")
    out = args.out or os.path.join(os.path.dirname(args.db), "probe-report.json")
    argv = ["audit", "--sla", args.sla, "--period", args.period, "--db", args.db]
    argv += ["--as-of", args.as_of, "--format", "json", "--out", out]
    if args.trend:
        argv += ["--trend", str(args.trend)]
    imported = time.perf_counter()
    clock = time.perf_counter()
    with TreePeak() as tree:
        code = run_audit.main(argv)
    seconds = time.perf_counter() - clock
    peak = peak_rss_mb()
    if code not in (0, 1):
        raise SystemExit(f"run_audit.py audit exited {code}")
    with open(out, encoding="utf-8") as file:
        report = json.load(file)
    json_bytes = os.path.getsize(out)
    if not args.out:
        os.unlink(out)
    rules = {r["id"]: r for r in report["rules"]}
    speed, attempts = rules["speed_to_lead"], rules["attempts"]
    return {
        "seconds": seconds,
        "import_s": imported - _STARTED,
        "peak_mb": peak,
        "tree_peak_mb": tree.rounded,
        "phases": phases,
        "handoffs": int(rules["mql_volume"]["judged"]),
        "violations": len(report["violations"]),
        "json_bytes": json_bytes,
        "trend_points": len(report.get("trend", [])),
        "figures": {
            "speed_to_lead": {
                "measured": speed["measured"],
                "judged": speed["judged"],
                "median_minutes": speed["details"].get("median_minutes"),
            },
            "attempts": {"measured": attempts["measured"], "judged": attempts["judged"]},
        },
    }


def probe_baseline(args: argparse.Namespace) -> dict[str, Any]:
    from audit.period import parse_as_of
    from benchmarks.baseline_pandas import analyst_audit
    from config.sla import load_sla

    sla = load_sla(args.sla)
    as_of = parse_as_of(args.as_of, sla.tz)
    imported = time.perf_counter()
    clock = time.perf_counter()
    figures = analyst_audit(args.db, sla, args.period, as_of)
    seconds = time.perf_counter() - clock
    return {
        "seconds": seconds,
        "import_s": imported - _STARTED,
        "peak_mb": peak_rss_mb(),
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe")
    parser.add_argument("kind", choices=["audit", "baseline"])
    parser.add_argument("--db", required=True)
    parser.add_argument("--sla", required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--trend", type=int, default=0)
    parser.add_argument("--out", default=None, help="where the JSON report goes (default: null)")
    args = parser.parse_args(argv)
    probe = probe_audit if args.kind == "audit" else probe_baseline
    print(json.dumps(probe(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
