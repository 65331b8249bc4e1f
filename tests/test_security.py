"""Security: the token never leaks, files are owner-only, the SLA file is data, and the
command line's paths are the only places written.

Commands run as real processes, as cron runs them: stderr appended to a log file, an empty
working folder, an empty HOME. The sandbox (in this process) holds a distinctive token,
which is then searched for in every output, file and snapshot table.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from run_audit import main
from sandbox.generator import CRM
from sandbox.hubspot_server import HubSpotSandbox
from tests.conftest import PORTAL_ID

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SLA = REPO / "config" / "sla.example.yaml"
TOKEN = "pat-na1-5ec2e7a0-feed-4bad-beef-0123456789ab"
TOKEN_PARTS = (TOKEN, TOKEN.removeprefix("pat-na1-"), "0123456789ab")


@dataclass
class Cron:
    """Runs ``run_audit.py`` the way a crontab line does, and keeps everything it printed."""

    sandbox: HubSpotSandbox
    root: Path
    umask: int = 0o022
    outputs: list[str] = field(default_factory=list)

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "cron.log"

    def env(self) -> dict[str, str]:
        keep = {"PATH", "LANG", "LC_ALL", "SYSTEMROOT", "PYTHONHASHSEED"}
        env = {k: v for k, v in os.environ.items() if k in keep}
        env.update(
            HOME=str(self.home),
            TMPDIR=str(self.home),
            PYTHONPATH=str(REPO),
            PYTHONDONTWRITEBYTECODE="1",
            HUBSPOT_ACCESS_TOKEN=TOKEN,
            HUBSPOT_BASE_URL=self.sandbox.base_url,
        )
        return env

    def __call__(self, *args: str) -> tuple[int, str, str]:
        done = subprocess.run(
            [sys.executable, str(REPO / "run_audit.py"), *args],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            preexec_fn=lambda: os.umask(self.umask),
        )
        with self.log.open("a", encoding="utf-8") as log:
            log.write(done.stdout + done.stderr)
        self.outputs += [done.stdout, done.stderr]
        return done.returncode, done.stdout, done.stderr


@pytest.fixture
def sandbox(crm: CRM) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(crm, token=TOKEN, portal_id=PORTAL_ID) as running:
        yield running


@pytest.fixture
def cron(sandbox: HubSpotSandbox, tmp_path: Path) -> Cron:
    runner = Cron(sandbox, tmp_path)
    for folder in (runner.cwd, runner.home):
        folder.mkdir()
    return runner


def every_command(cron: Cron) -> None:
    """Each command, its verbose and JSON-log forms, retries, and failures."""
    db = str(cron.data / "snap" / "snapshot.db")
    reports = cron.data / "reports"
    cron.sandbox.inject("status", count=2, path_contains="/crm/v3/owners", status=502)
    cron.sandbox.inject("reset", count=1, path_contains="/objects/calls")
    audit = ["audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", db]
    where = ["--db", db, "--out-root", str(reports)]
    steps: list[tuple[list[str], set[int]]] = [
        (["check", "--sla", str(EXAMPLE_SLA)], {0}),
        (["--verbose", "sync", "--db", db], {0}),
        (["sync", "--db", db, "--log-json", "--verbose"], {0}),
        (["--verbose", "--log-json", "nightly", "--sla", str(EXAMPLE_SLA), *where], {0, 1}),
        (["status", "--db", db], {0}),
        (["status", "--db", db, "--format", "json"], {0}),
        ([*audit, "--as-of", "2026-11-01T03:00:00Z"], {0, 1}),
        ([*audit, "--format", "json", "--out", str(reports / "october.json")], {0, 1}),
        ([*audit, "--format", "csv", "--out", str(reports / "october")], {0, 1}),
        ([*audit, "--format", "html", "--out", str(reports / "october.html")], {0, 1}),
        (["plan", "--sla", str(EXAMPLE_SLA), "--db", db, "--from-history", "2"], {0}),
        (["--verbose", "audit", "--sla", str(EXAMPLE_SLA), "--period", "13"], {2}),
    ]
    for args, codes in steps:
        code, _, err = cron(*args)
        assert code in codes, (args, err)
    # The token is revoked: the failures must not echo it either.
    cron.sandbox.set_token("pat-na1-the-new-token-nobody-gave-us-0000")
    for args in (
        ["--verbose", "sync", "--db", db],
        ["--log-json", "sync", "--db", db],
        ["--verbose", "nightly", "--sla", str(EXAMPLE_SLA), "--db", db, "--out-root", str(reports)],
    ):
        code, _, err = cron(*args)
        assert code == 2 and "HTTP 401" in err, (args, err)


def test_every_command_keeps_the_token_out_and_writes_only_its_paths(cron: Cron) -> None:
    """One pass over every command (it takes a while), two findings checked after it."""
    every_command(cron)
    assert cron("demo", "--out", str(cron.data / "demo"), "--size", "200")[0] == 0
    token_is_nowhere(cron)
    only_the_command_lines_paths_were_written(cron)


def token_is_nowhere(cron: Cron) -> None:

    texts = [*cron.outputs, cron.log.read_text(encoding="utf-8")]
    assert any("retry" in t for t in texts)  # retries were logged: the search is not vacuous
    assert any('"event": "stream"' in t for t in texts)
    for text in texts:
        for part in TOKEN_PARTS:
            assert part not in text
    db = cron.data / "snap" / "snapshot.db"
    conn = sqlite3.connect(db)
    conn.execute("pragma wal_checkpoint(TRUNCATE)")
    errors = [r[0] for r in conn.execute("select error from sync_runs where error is not null")]
    assert errors and all("HTTP 401" in e for e in errors)
    for (table,) in conn.execute("select name from sqlite_master where type = 'table'").fetchall():
        for row in conn.execute(f"select * from [{table}]"):
            assert TOKEN not in repr(row), table
    conn.close()
    files = [p for p in cron.root.rglob("*") if p.is_file()]
    assert any(p.name == "report.html" for p in files)
    for path in files:
        content = path.read_bytes()
        for part in TOKEN_PARTS:
            assert part.encode() not in content, path


def test_a_token_inside_an_unexpected_error_is_redacted_on_every_path(
    sandbox: HubSpotSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A library that puts the Authorization header into its exception text.
    from connectors.hubspot import HubSpotTransport

    def leaky(self: HubSpotTransport, method: object, *args: object, **kwargs: object) -> object:
        raise RuntimeError(f"proxy refused 'Authorization: Bearer {TOKEN}' for {TOKEN}")

    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_BASE_URL", sandbox.base_url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(HubSpotTransport, "exchange", leaky)
    db = tmp_path / "s.db"

    code = main(["--verbose", "sync", "--db", str(db)])
    sync_out, sync_err = capsys.readouterr()
    assert code == 2 and "RuntimeError: proxy refused" in sync_err

    def crash(*args: object, **kwargs: object) -> object:
        raise ValueError(f"the token {TOKEN} was in a variable")

    monkeypatch.setattr("audit.engine.run_audit", crash)
    code = main(
        ["--verbose", "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", str(db),
         "--as-of", "2026-11-01T00:00:00Z"]
    )  # fmt: skip
    audit_out, audit_err = capsys.readouterr()
    assert code == 2 and "Traceback" in audit_err and "unexpected ValueError" in audit_err

    conn = sqlite3.connect(db)
    (error,) = conn.execute("select error from sync_runs").fetchone()
    conn.close()
    for text in (sync_out, sync_err, audit_out, audit_err, error):
        assert TOKEN not in text and TOKEN_PARTS[1] not in text
    assert "[REDACTED]" in sync_err and "[REDACTED]" in error and "[REDACTED]" in audit_err


# ----------------------------------------------------------------------- permissions


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_snapshot_lock_and_reports_are_owner_only_whatever_the_umask(
    cron: Cron, umask: int
) -> None:
    cron.umask = umask
    db = cron.data / "new" / "folder" / "snapshot.db"
    reports = cron.data / "reports"
    assert cron("sync", "--db", str(db))[0] == 0
    code, _, err = cron(
        "nightly", "--sla", str(EXAMPLE_SLA), "--db", str(db), "--out-root", str(reports)
    )
    assert code in (0, 1), err
    audit = ["audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", str(db)]
    assert cron(*audit, "--format", "json", "--out", str(cron.data / "out" / "oct.json"))[0] < 2
    assert cron(*audit, "--format", "csv", "--out", str(cron.data / "csv" / "oct"))[0] < 2
    if umask == 0:  # the demo's snapshot and reports too, under the loosest umask
        assert cron("demo", "--out", str(cron.data / "demo"), "--size", "200")[0] == 0

    created = list(cron.data.rglob("*"))
    folders = [cron.data / "new", *(p for p in created if p.is_dir())]
    files = [p for p in created if p.is_file()]
    names = {p.name for p in files}
    assert {"snapshot.db", "snapshot.db-wal", "snapshot.db-shm", "snapshot.db.lock"} <= names
    assert {"report.json", "report.html", "summary.csv", "oct.json"} <= names
    assert {mode(p) for p in folders} == {"0o700"}, [(p, mode(p)) for p in folders]
    assert {mode(p) for p in files} == {"0o600"}, [(p, mode(p)) for p in files]


# ------------------------------------------------------------------ the SLA is data


@pytest.mark.parametrize(
    "payload",
    [
        '!!python/object/apply:os.system ["touch {pwned}"]',
        "!!python/object/new:subprocess.Popen [[touch, {pwned}]]",
        '!!python/object:pathlib.Path {{"x": 1}}',
        "!!python/name:os.system",
    ],
)
@pytest.mark.parametrize("command", ["check", "audit", "nightly"])
def test_an_sla_file_with_python_tags_is_refused_and_nothing_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    payload: str,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    pwned = tmp_path / "PWNED"
    sla = tmp_path / "sla.yaml"
    text = EXAMPLE_SLA.read_text(encoding="utf-8")
    sla.write_text(text.replace("name: Acme", f"name: {payload.format(pwned=pwned)}\nx: Acme"))
    args = {
        "check": ["check", "--sla", str(sla)],
        "audit": ["audit", "--sla", str(sla), "--period", "2026-10", "--db", "x.db"],
        "nightly": ["nightly", "--sla", str(sla), "--db", "x.db", "--out-root", "r"],
    }[command]

    code = main(args)
    out, err = capsys.readouterr()

    assert (code, out) == (2, "")
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {sla}: YAML syntax error") and "python/" in line
    assert not pwned.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sla.yaml"]


# ---------------------------------------------------- only the command line's paths


def only_the_command_lines_paths_were_written(cron: Cron) -> None:
    # The working folder and HOME (also TMPDIR) stay empty: no caches, no stray files.
    assert list(cron.cwd.iterdir()) == []
    assert list(cron.home.iterdir()) == []
    written = sorted(p.relative_to(cron.data).as_posix() for p in cron.data.rglob("*"))
    snapshot = ["snap", "snap/snapshot.db", "snap/snapshot.db-shm", "snap/snapshot.db-wal"]
    allowed = {*snapshot, "snap/snapshot.db.lock", "reports", "demo"}
    allowed_prefixes = ("reports/2", "reports/october", "demo/")
    unexpected = [p for p in written if p not in allowed and not p.startswith(allowed_prefixes)]
    assert unexpected == []
    assert {"reports/october.json", "reports/october.html", "reports/october/summary.csv"} <= set(
        written
    )
    assert sorted(p.name for p in cron.root.iterdir()) == ["cron.log", "cwd", "data", "home"]
