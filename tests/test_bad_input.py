"""The bad-input matrix: every way a cron line or an SLA file can be wrong → one clear line
on stderr, nothing on stdout, exit 2, never a traceback.

The README's table "Bad input" lists the same cases; each row here is one of them.
"""

from __future__ import annotations

import copy
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from snapshot.schema import SCHEMA_VERSION
from snapshot.store import SnapshotStore
from tests.cli_helpers import run
from tests.tiny_crm import TinyCRM

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SLA = REPO / "config" / "sla.example.yaml"
EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_SLA.read_text(encoding="utf-8"))
AS_OF = "2026-11-01T03:00:00Z"


def one_line(code: int, out: str, err: str) -> str:
    assert code == 2, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CRM credentials, no .env, no SLA_AUDIT_DB from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_", "SLA_AUDIT_")):
            monkeypatch.delenv(name)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """October: one lead handed off and touched in time."""
    crm = TinyCRM(tmp_path / "snapshot.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.mql(lead, "2026-10-06 10:00")
    crm.activity(lead, "call", "2026-10-06 10:01")
    return crm.save()


# ------------------------------------------------------------------------ SLA keys


def changed(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set (or with ``...`` remove) the dotted key ``path`` of the SLA data."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is ...:
            node.pop(last, None)
        else:
            node[last] = value

    return change


SLA_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("unknown top-level key", changed("salse", {"first_touch": {}}), "salse"),
    ("empty name", changed("name", ""), "name"),
    ("unknown time zone", changed("timezone", "Mars/Olympus"), "Mars/Olympus"),
    ("hours without minutes", changed("business_hours", {"mon-fri": "9-5"}), "business_hours"),
    ("unknown weekday", changed("business_hours", {"funday": "09:00-17:00"}), "funday"),
    ("overlapping hours", changed("business_hours", {"mon": "09:00-12:00,11:00-13:00"}), "mon"),
    ("impossible holiday", changed("holidays", ["2026-13-01"]), "holidays"),
    ("funnel without mql", changed("funnel.hubspot.mql", ...), "mql"),
    ("unknown funnel stage", changed("funnel.hubspot.lead", {"stage": ["lead"]}), "lead"),
    ("mql matching nothing", changed("funnel.hubspot.mql", {}), "funnel.hubspot.mql"),
    ("negative revenue", changed("goals.revenue_per_month", -5), "revenue_per_month"),
    ("share written as percent", changed("goals.marketing_share", 60), "marketing_share"),
    ("derived without goals", changed("goals", ...), "goals"),
    ("mqls not a number", changed("marketing.mqls_per_month", "lots"), "mqls_per_month"),
    ("per-rep min above max", changed("marketing.per_rep", {"min": 80, "max": 40}), "per_rep"),
    ("conversion above 1", changed("marketing.mql_to_sql", 30), "mql_to_sql"),
    ("negative warn margin", changed("marketing.warn_margin", -0.1), "warn_margin"),
    ("duration without unit", changed("sales.first_touch.within", 5), "first_touch.within"),
    ("target above 1", changed("sales.first_touch.target", 1.5), "first_touch.target"),
    ("zero attempts", changed("sales.attempts.min", 0), "attempts.min"),
    ("duration in words", changed("sales.attempts.window", "2 weeks"), "attempts.window"),
    ("gap in words", changed("sales.attempts.min_gap", "4 hours"), "attempts.min_gap"),
    ("unknown channel", changed("sales.attempts.channels", ["fax"]), "fax"),
    ("no channels", changed("sales.attempts.channels", []), "channels"),
    (
        "channel minimum above the total",
        changed("sales.attempts.per_channel", {"call": 6}),
        "sales.attempts.per_channel.call",
    ),
    (
        "unknown channel in per_channel",
        changed("sales.attempts.per_channel", {"emails": 1}),
        "per_channel.emails",
    ),
    ("target not a number", changed("sales.coverage.target", "high"), "coverage.target"),
    ("grace in words", changed("sales.recycle.grace", "3 days"), "recycle.grace"),
    ("empty reason field", changed("sales.recycle.reason_field", ""), "reason_field"),
    ("empty reasons list", changed("sales.recycle.reasons", []), "reasons"),
    ("unknown outcome", changed("sales.outcomes", {"answered": ["x"]}), "answered"),
    ("unknown rule key", changed("sales.first_touch.whithin", "5m"), "whithin"),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [pytest.param(c, e, id=i) for i, c, e in SLA_CASES],
)
@pytest.mark.parametrize("command", ["check", "audit", "nightly"])
def test_a_malformed_sla_key_is_one_line_naming_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    snapshot: Path,
    change: Callable[[dict[str, Any]], None],
    expected: str,
    command: str,
) -> None:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    sla = tmp_path / "sla.yaml"
    sla.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    args = {
        "check": ["check"],
        "audit": ["audit", "--period", "2026-10", "--db", str(snapshot), "--as-of", AS_OF],
        "nightly": ["nightly", "--db", str(snapshot), "--out-root", str(tmp_path / "r")],
    }[command]
    line = one_line(*run(capsys, *args, "--sla", str(sla)))
    assert line.startswith(f"error: {sla}: ")
    assert expected in line


SLA_FILES: list[tuple[str, bytes | None, str]] = [
    ("missing file", None, "no such file"),
    ("empty file", b"", "is empty"),
    ("a list, not keys", b"- name\n- timezone\n", "not a block of keys"),
    ("syntax error", b"name: x\n  timezone: [\n", "YAML syntax error at line"),
    ("tab indentation", b"name: x\nsales:\n\tfirst_touch: {}\n", "YAML syntax error"),
    ("duplicate block", b"name: a\ntimezone: UTC\nname: b\n", "name"),
    ("not UTF-8", "name: Açaí\n".encode("latin-1"), "not UTF-8"),
    ("python tag", b"name: !!python/object/apply:os.system [ls]\n", "python/"),
]


@pytest.mark.parametrize(
    ("content", "expected"), [pytest.param(c, e, id=i) for i, c, e in SLA_FILES]
)
def test_an_unusable_sla_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, expected: str
) -> None:
    sla = tmp_path / "sla.yaml"
    if content is not None:
        sla.write_bytes(content)
    line = one_line(*run(capsys, "check", "--sla", str(sla)))
    assert str(sla) in line and expected in line


def test_an_sla_path_that_is_a_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "is a folder" in one_line(*run(capsys, "check", "--sla", str(tmp_path)))


# ------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sync", "--source", "pipedrive"], "invalid choice: 'pipedrive'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["audit", "--period", "2026-10"], "--sla"),
        (["audit", "--sla", "x", "--period", "2026-10", "--format", "pdf"], "invalid choice"),
        (["nightly", "--sla", "x", "--wait", "-5"], "must be zero or more seconds"),
        (["sync", "--wait", "soon"], "is not a number of seconds"),
        (["audit", "--sla", "x", "--period", "2026-10", "--trend", "-1"], "must be zero or more"),
        (["plan", "--sla", "x", "--from-history", "three"], "is not a whole number"),
        (["status", "--format", "xml"], "invalid choice"),
        ([], "required"),
    ],
    ids=[
        "unknown-source", "unknown-command", "missing-sla", "unknown-format", "negative-wait",
        "wait-in-words", "negative-trend", "history-in-words", "status-format", "no-command",
    ],
)  # fmt: skip
def test_a_malformed_command_line_is_one_line_with_where_to_look(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    line = one_line(*run(capsys, *args))
    assert expected in line and "--help" in line


@pytest.mark.parametrize(
    ("environ", "args", "expected"),
    [
        ({}, ["sync"], "no CRM credentials"),
        ({}, ["nightly", "--sla", str(EXAMPLE_SLA)], "no CRM credentials"),
        ({"HUBSPOT_ACCESS_TOKEN": "x" * 12}, ["sync", "--source", "nosuch"], "invalid choice"),
        (
            {"HUBSPOT_ACCESS_TOKEN": "x" * 12, "HUBSPOT_PORTAL_ID": "acme"},
            ["sync"],
            "HUBSPOT_PORTAL_ID='acme' is not a portal id",
        ),
        (
            {"HUBSPOT_ACCESS_TOKEN": "x" * 12, "SLA_AUDIT_MAX_DAILY_SHARE": "2"},
            ["sync"],
            "SLA_AUDIT_MAX_DAILY_SHARE='2' is not a share",
        ),
    ],
    ids=["sync-no-credentials", "nightly-no-credentials", "unknown-source", "portal", "share"],
)
def test_missing_or_bad_settings_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    environ: dict[str, str],
    args: list[str],
    expected: str,
) -> None:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    line = one_line(*run(capsys, *args, "--db", str(tmp_path / "s.db")))
    assert expected in line


# --------------------------------------------------------------- period and as-of


@pytest.mark.parametrize(
    ("period", "as_of", "expected"),
    [
        ("2026-13", AS_OF, "YYYY-MM"),
        ("2026-00", AS_OF, "YYYY-MM"),
        ("October", AS_OF, "YYYY-MM"),
        ("2026-1", AS_OF, "YYYY-MM"),
        ("26-10", AS_OF, "YYYY-MM"),
        ("", AS_OF, "YYYY-MM"),
        ("2026-10", "yesterday", "ISO-8601"),
        ("2026-10", "2026-10-32T00:00:00Z", "ISO-8601"),
        ("2026-10", "2026-09-30T12:00:00Z", "before the period"),
        ("2026-10", "2026-09-30T23:59:00", "before the period"),  # local time: 02:59Z
    ],
)
def test_a_bad_period_or_as_of_is_one_line(
    snapshot: Path, capsys: pytest.CaptureFixture[str], period: str, as_of: str, expected: str
) -> None:
    line = one_line(
        *run(
            capsys,
            "audit",
            "--sla",
            str(EXAMPLE_SLA),
            "--db",
            str(snapshot),
            "--period",
            period,
            "--as-of",
            as_of,
        )
    )
    assert expected in line


def test_an_as_of_exactly_at_the_period_start_is_accepted(
    snapshot: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "audit", "--sla", str(EXAMPLE_SLA), "--db", str(snapshot),
        "--period", "2026-10", "--as-of", "2026-10-01T03:00:00Z",
    )  # fmt: skip
    assert code in (0, 1), err


# ---------------------------------------------------------------------- snapshots


def _junk(path: Path) -> None:
    path.write_bytes(b"this is not sqlite" * 100)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _folder(path: Path) -> None:
    path.mkdir()


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("create table invoices (id integer primary key, total real)")
    conn.commit()
    conn.close()


def _newer(path: Path) -> None:
    SnapshotStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("update meta set value = ? where key = 'schema_version'", [SCHEMA_VERSION + 1])
    conn.commit()
    conn.close()


def _bad_version(path: Path) -> None:
    SnapshotStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("update meta set value = 'two' where key = 'schema_version'")
    conn.commit()
    conn.close()


def _truncated(path: Path) -> None:
    crm = TinyCRM(path)
    owner = crm.owner("1", "ana@acme.example")
    for n in range(400):
        crm.mql(crm.lead(str(1000 + n), owner=owner), "2026-10-06 10:00")
    crm.save()
    conn = sqlite3.connect(path)
    conn.execute("pragma wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


SNAPSHOTS: list[tuple[str, Callable[[Path], None] | None, str]] = [
    ("missing", None, "does not exist"),
    ("not sqlite", _junk, "not an sla-audit snapshot"),
    ("empty file", _empty, "is empty"),
    ("a folder", _folder, "is a folder"),
    ("another program's database", _foreign, "not an sla-audit snapshot"),
    ("newer schema", _newer, f"schema version {SCHEMA_VERSION + 1}, newer"),
    ("unreadable schema version", _bad_version, "unreadable schema version"),
    ("truncated file", _truncated, "is damaged"),
]


@pytest.mark.parametrize(("make", "expected"), [pytest.param(m, e, id=i) for i, m, e in SNAPSHOTS])
@pytest.mark.parametrize("command", ["audit", "plan", "status"])
def test_a_missing_or_unusable_snapshot_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], None] | None,
    expected: str,
    command: str,
) -> None:
    db = tmp_path / "snapshot.db"
    if make is not None:
        make(db)
    args = {
        "audit": ["audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--as-of", AS_OF],
        "plan": ["plan", "--sla", str(EXAMPLE_SLA), "--from-history", "2"],
        "status": ["status"],
    }[command]
    line = one_line(*run(capsys, *args, "--db", str(db)))
    assert expected in line and "unexpected" not in line


@pytest.mark.parametrize(
    ("make", "expected"), [pytest.param(m, e, id=i) for i, m, e in SNAPSHOTS[3:7]]
)
def test_sync_refuses_a_snapshot_it_must_not_write(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], None],
    expected: str,
) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-never-used-000000")
    monkeypatch.setenv("HUBSPOT_BASE_URL", "http://127.0.0.1:9")
    db = tmp_path / "snapshot.db"
    make(db)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("snapshot.db*") if p.is_file()}
    line = one_line(*run(capsys, "sync", "--db", str(db)))
    assert expected in line
    after = {p.name: p.read_bytes() for p in tmp_path.glob("snapshot.db*") if p.is_file()}
    assert {k: v for k, v in after.items() if not k.endswith(".lock")} == before


# ------------------------------------------------------------- older snapshots


def old_snapshot(path: Path) -> None:
    """A snapshot as the first release wrote it: no meta, no data_issues, fewer columns."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        create table owners (id text primary key, source text, crm_id text, email text,
            name text, team text, active integer, updated_at text, raw text);
        create table leads (id text primary key, source text, crm_id text, email text,
            company text, owner_id text, segment text, lead_source text, created_at text,
            stage text, status text, is_deleted integer, updated_at text, url text, raw text);
        create table lead_history (lead_id text, field text, value text, changed_at text,
            primary key (lead_id, field, changed_at));
        create table activities (id text primary key, source text, crm_id text, kind text,
            direction text, outcome text, occurred_at text, owner_id text, duration_s real,
            raw text);
        create table activity_leads (activity_id text, lead_id text,
            primary key (activity_id, lead_id));
        create table sync_state (source text, stream text, cursor text, updated_at text,
            primary key (source, stream));
        create table sync_runs (id integer primary key, source text, started_at text,
            finished_at text, status text, records integer, requests integer,
            retries integer, error text);
        insert into owners (id, source, crm_id, email, active)
            values ('hubspot:1', 'hubspot', '1', 'ana@acme.example', 1);
        insert into leads (id, source, crm_id, owner_id, created_at, stage, is_deleted)
            values ('hubspot:101', 'hubspot', '101', 'hubspot:1', '2026-10-01T12:00:00.000Z',
                    'marketingqualifiedlead', 0);
        insert into lead_history values
            ('hubspot:101', 'stage', 'marketingqualifiedlead', '2026-10-06T13:00:00.000Z');
        insert into activities (id, source, crm_id, kind, direction, occurred_at, owner_id)
            values ('hubspot:9', 'hubspot', '9', 'call', 'outbound',
                    '2026-10-06T13:01:00.000Z', 'hubspot:1');
        insert into activity_leads values ('hubspot:9', 'hubspot:101');
        insert into sync_runs (source, started_at, finished_at, status)
            values ('hubspot', '2026-11-01T02:59:00.000Z', '2026-11-01T03:00:00.000Z', 'ok');
        """
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("command", ["audit", "status", "plan"])
def test_a_snapshot_from_an_older_version_is_upgraded_and_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    db = tmp_path / "old.db"
    old_snapshot(db)
    args = {
        "audit": ["audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--format", "json"],
        "status": ["status"],
        "plan": ["plan", "--sla", str(EXAMPLE_SLA), "--from-history", "1"],
    }[command]

    code, out, err = run(capsys, *args, "--db", str(db))

    assert code in (0, 1), err
    if command == "audit":
        assert '"speed_to_lead"' in out  # the one lead, touched a minute after its handoff
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    lead_columns = {r[1] for r in conn.execute("pragma table_info(leads)")}
    version = conn.execute("select value from meta").fetchone()[0]
    conn.close()
    assert {"meta", "data_issues"} <= tables and "deleted_at" in lead_columns
    assert version == str(SCHEMA_VERSION)


def test_an_older_snapshot_that_cannot_be_upgraded_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "old.db"
    old_snapshot(db)
    real = sqlite3.connect

    def read_only(target: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if Path(str(target)) != db:
            return real(target, *args, **kwargs)
        kwargs.pop("uri", None)
        return real(f"{db.resolve().as_uri()}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr("snapshot.store.sqlite3.connect", read_only)  # as on a read-only disk
    line = one_line(
        *run(capsys, "audit", "--sla", str(EXAMPLE_SLA), "--period", "2026-10", "--db", str(db))
    )
    assert "written by an older sla-audit and lacks" in line and "read-only" in line


# ------------------------------------------------------------------------ reports


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "csv"], "--format csv writes a folder: pass --out DIR"),
        (["--format", "json", "--out", "{folder}"], "is a folder"),
        (["--format", "csv", "--out", "{file}"], "is a file, not a folder"),
    ],
    ids=["csv-without-out", "json-into-a-folder", "csv-into-a-file"],
)
def test_a_report_that_cannot_be_written_as_asked_is_one_line(
    snapshot: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    filled = [a.format(folder=tmp_path, file=a_file) for a in args]
    line = one_line(
        *run(
            capsys,
            "audit",
            "--sla",
            str(EXAMPLE_SLA),
            "--period",
            "2026-10",
            "--db",
            str(snapshot),
            "--as-of",
            AS_OF,
            *filled,
        )
    )
    assert expected in line
