"""``watch``: breaches since the last run and leads about to breach, delivered exactly once.

The base test SLA (tests/tiny_crm.py): America/Sao_Paulo (UTC-3, no daylight saving in
2026), open mon-fri 09:00-12:00 and 13:00-18:00, first touch within 5m of business time,
``alerts.at_risk_within`` 30m by default. Wednesday 2026-10-14:

* 101 (ana): MQL 10:00, never called → deadline 10:05 → breached.
* 102 (ana): MQL 10:12, never called → deadline 10:17 → breached.
* 103 (ana): MQL 10:18, never called → deadline 10:23: at 10:20 it is 3 business minutes
  away (within 30m) → at risk; at 10:30 it has breached.
* 104 (bruno, in no team): MQL 10:00, never called → breached, alerted nowhere.
* 105 (ana): MQL 10:00, called 10:03 → in time.
* 106 (ana): MQL Thursday 2026-10-15 09:08, never called → deadline 09:13: at risk at 09:10.

The first watch run (as of 10:20) looks back 24 hours: breaches 101, 102 (ana) and 104.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from app.alerts_delivery import apprise_send
from app.watch import WatchOptions, WatchResult, run_watch
from audit.engine import open_snapshot
from audit.period import parse_as_of
from config.settings import Settings
from snapshot.store import SnapshotStore
from tests.tiny_crm import BASE_SLA, TinyCRM, audit_snapshot, make_sla
from tests.watch_helpers import (
    SMTP_PASSWORD,
    WEBHOOK_TOKEN,
    parts,
    smtp_server,
    webhook_server,
)

TEAMS = {
    "inbound": {
        "manager": "maria@acme.example",
        "reps": ["ana@acme.example"],
        "notify": ["inbound-mail", "inbound-hook"],
    }
}
CHANNELS = {
    "inbound-mail": {"url_env": "SLA_AUDIT_INBOUND_MAIL"},
    "inbound-hook": {"url_env": "SLA_AUDIT_INBOUND_HOOK"},
}


def sla_file(tmp_path: Path, **changes: object) -> Path:
    """The base SLA with the inbound team, written as YAML (what ``--sla`` reads)."""
    data = {**copy.deepcopy(BASE_SLA), "teams": TEAMS, "channels": CHANNELS, **changes}
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def build_crm(path: Path) -> TinyCRM:
    crm = TinyCRM(path)
    ana = crm.owner("1", "ana@acme.example")
    bruno = crm.owner("2", "bruno@acme.example")
    crm.owner("9", "maria@acme.example")  # the inbound team's manager is a CRM user
    for crm_id, owner, mql_at, call_at in (
        ("101", ana, "2026-10-14 10:00", None),
        ("102", ana, "2026-10-14 10:12", None),
        ("103", ana, "2026-10-14 10:18", None),
        ("104", bruno, "2026-10-14 10:00", None),
        ("105", ana, "2026-10-14 10:00", "2026-10-14 10:03"),
        ("106", ana, "2026-10-15 09:08", None),
    ):
        lead = crm.lead(crm_id, owner=owner, created="2026-01-02 08:00")
        crm.event(lead, "owner", owner, "2026-01-02 08:00")
        crm.mql(lead, mql_at)
        if call_at:
            crm.activity(lead, "call", call_at)
    crm.save()
    return crm


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return build_crm(tmp_path / "s.db").path


@pytest.fixture(autouse=True)
def one_try_per_run(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """One delivery try per run unless a test says otherwise (the in-run backoff has a test
    of its own); waits are recorded, not slept."""
    waits: list[float] = []
    monkeypatch.setattr("app.alerts_delivery.RETRY_WAITS_S", ())
    monkeypatch.setattr("app.alerts_delivery.sleep", waits.append)
    return waits


def watch(
    sla: Path,
    db: Path,
    as_of: str,
    environ: dict[str, str],
    *,
    dry_run: bool = False,
    digest: bool = False,
    send=apprise_send,
) -> WatchResult:
    options = WatchOptions(
        sync=False,
        dry_run=dry_run,
        as_of=parse_as_of(as_of, make_sla().tz),
        digest=digest,
    )
    settings = Settings.from_env(environ={}, dotenv=None)
    return run_watch(
        str(sla),
        str(db),
        settings,
        options,
        sync=None,
        send=send,
        environ=environ,  # type: ignore[arg-type]
    )


def outbox(db: Path) -> list[dict[str, object]]:
    store = SnapshotStore(db, create=False)
    try:
        cursor = store.db.execute("select * from alerts_sent order by kind, subject, channel")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        store.close()


def test_breaches_are_the_audits_violations_for_the_same_as_of(tmp_path, snapshot):
    from app.watch_findings import evaluate

    sla = make_sla(teams=TEAMS, channels=CHANNELS)
    as_of = parse_as_of("2026-10-14T10:30:00-03:00", sla.tz)
    conn = open_snapshot(snapshot)
    try:
        findings = evaluate(conn, sla, as_of)
    finally:
        conn.close()
    audited = {
        (v.lead, v.rule, v.reason)
        for period in ("2026-10", "2026-09")
        for rule in audit_snapshot(snapshot, sla, "2026-10-14T13:30:00Z", period).rules
        for v in rule.violations
    }
    found = {(f.lead, f.rule, f.missing) for f in findings.breaches}
    assert found <= audited
    assert {lead for lead, rule, _ in found if rule == "speed_to_lead"} == {
        "hubspot:101",
        "hubspot:102",
        "hubspot:103",
        "hubspot:104",
    }
    assert [f.lead for f in findings.at_risk] == []  # 103 breached at 10:23


def test_dry_run_lists_the_alerts_and_records_nothing(tmp_path, snapshot):
    result = watch(sla_file(tmp_path), snapshot, "2026-10-14T10:20:00-03:00", {}, dry_run=True)
    titles = sorted((a.kind, a.channel, a.subject.split("@")[0]) for a in result.planned)
    assert titles == sorted(
        (kind, channel, lead)
        for kind, lead in (
            ("breach", "hubspot:101"),
            ("breach", "hubspot:102"),
            ("at_risk", "hubspot:103"),
            ("digest", "inbound"),  # the first run after Wednesday's opening
        )
        for channel in ("inbound-mail", "inbound-hook")
    )
    assert (result.breaches, result.at_risk, result.no_team) == (3, 1, 1)
    assert "dry run: 8 alert(s) would be sent, nothing recorded" in result.line()
    assert outbox(snapshot) == []
    assert result.exit_code() == 0


LINK = "https://app.hubspot.com/contacts/1/record/0-1/"


def env_of(box, hook) -> dict[str, str]:
    return {"SLA_AUDIT_INBOUND_MAIL": box.url(), "SLA_AUDIT_INBOUND_HOOK": hook.url()}


def test_alerts_reach_the_mailbox_and_the_webhook_exactly_once(tmp_path, snapshot):
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server() as hook:
        first = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert first.exit_code() == 0
        # Per channel: the digest, and one message with the three per-lead alerts.
        assert (len(box.mails), len(hook.payloads)) == (2, 2)
        recipients, mail = next((r, m) for r, m in box.mails if "3 SLA alerts" in m["subject"])
        assert recipients == ["maria@acme.example"]
        assert mail["subject"] == "3 SLA alerts for team inbound"
        body = parts(mail)
        for text in (body["text/plain"], body["text/html"]):
            assert f"{LINK}101" in text and f"{LINK}102" in text and f"{LINK}103" in text
            assert "2026-10-14 10:05 -03:00" in text  # 101's deadline, local with offset
            assert "Company 101" in text
            assert "no attempt by the deadline" in text
            assert f"{LINK}104" not in text  # bruno is in no team
        assert f'<a href="{LINK}101">' in body["text/html"]
        [payload] = [p for p in hook.payloads if p["title"].startswith("3 SLA alerts")]
        assert "101@lead.example (Company 101)" in payload["message"]
        assert (
            f"{LINK}103" in payload["message"]
            and "Due by: 2026-10-14 10:23 -03:00" in (payload["message"])
        )

        again = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert (again.queued, again.delivery.delivered) == (0, 0)
        later = watch(sla, snapshot, "2026-10-14T10:30:00-03:00", env_of(box, hook))
        assert (later.breaches, later.queued, later.delivery.delivered) == (1, 2, 2)
        assert (len(box.mails), len(hook.payloads)) == (3, 3)  # 103's breach; no 2nd digest
        assert box.mails[-1][1]["subject"].startswith("SLA breached: Speed to lead — 103@")
    assert {row["status"] for row in outbox(snapshot)} == {"delivered"}


def test_a_webhook_answering_500_is_retried_next_run_and_delivered_once(tmp_path, snapshot):
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server(codes=[500, 500]) as hook:
        first = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert first.exit_code() == 2
        [line] = first.failure_lines()
        assert line.startswith("delivery to channel inbound-hook failed: ")
        assert "retried on the next run" in line
        assert (len(box.mails), hook.refused, len(hook.payloads)) == (2, 2, 0)
        failed = [row for row in outbox(snapshot) if row["channel"] == "inbound-hook"]
        assert {(row["status"], row["attempts"]) for row in failed} == {("failed", 1)}
        assert all("500" in str(row["error"]) for row in failed)

        second = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert second.exit_code() == 0
        assert (len(box.mails), len(hook.payloads)) == (2, 2)
        third = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert (third.delivery.delivered, len(box.mails), len(hook.payloads)) == (0, 2, 2)
    delivered = [row for row in outbox(snapshot) if row["channel"] == "inbound-hook"]
    assert {(row["status"], row["attempts"]) for row in delivered} == {("delivered", 2)}


def test_a_run_killed_after_sending_never_sends_twice(tmp_path, snapshot):
    sla = sla_file(tmp_path)

    def send_then_die(url, message):
        apprise_send(url, message)  # delivered, but the process dies before recording it
        raise SystemExit("killed")

    with smtp_server() as box, webhook_server() as hook:
        with pytest.raises(SystemExit):
            watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook), send=send_then_die)
        assert len(box.mails) + len(hook.payloads) == 1
        after = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert after.interrupted == 1
        assert "1 left unsent by a stopped run (not resent)" in after.line()
        # Everything else arrives, the first message does not arrive a second time.
        assert len(box.mails) + len(hook.payloads) == 4
        titles = [m["subject"] for _, m in box.mails] + [p["title"] for p in hook.payloads]
        assert len(titles) == len(set((t, i < len(box.mails)) for i, t in enumerate(titles)))


def test_a_run_stopped_before_delivering_leaves_its_alerts_for_the_next(
    tmp_path, snapshot, monkeypatch
):
    import app.watch

    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server() as hook:

        def stop(*args, **kwargs):
            raise SystemExit("killed after queueing")

        monkeypatch.setattr(app.watch, "_deliver", stop)
        with pytest.raises(SystemExit):
            watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert {row["status"] for row in outbox(snapshot)} == {"queued"}
        monkeypatch.undo()
        watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert (len(box.mails), len(hook.payloads)) == (2, 2)


def test_per_lead_alerts_wait_for_opening_hours_but_the_digest_does_not(tmp_path, snapshot):
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server() as hook:
        evening = watch(sla, snapshot, "2026-10-14T19:00:00-03:00", env_of(box, hook))
        assert evening.quiet and evening.queued == 8  # 4 breaches + 1 digest, two channels
        assert [m["subject"] for _, m in box.mails] == ["SLA digest 2026-10-14 — team inbound"]
        night = watch(sla, snapshot, "2026-10-15T08:00:00-03:00", env_of(box, hook))
        assert (night.queued, night.delivery.delivered) == (0, 0)
        morning = watch(sla, snapshot, "2026-10-15T09:10:00-03:00", env_of(box, hook))
        subjects = sorted(m["subject"] for _, m in box.mails)
    # The three breaches waited for the morning; they go out with 106's warning.
    assert subjects == [
        "4 SLA alerts for team inbound",
        "SLA digest 2026-10-14 — team inbound",
        "SLA digest 2026-10-15 — team inbound",
    ]
    assert not morning.quiet and morning.exit_code() == 0


def test_the_digest_reads_yesterday_by_rep_today_at_risk_and_the_month(tmp_path, snapshot):
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server() as hook:
        watch(sla, snapshot, "2026-10-15T09:10:00-03:00", env_of(box, hook))
    [mail] = [m for _, m in box.mails if m["subject"].startswith("SLA digest")]
    assert mail["subject"] == "SLA digest 2026-10-15 — team inbound"
    text, html = parts(mail)["text/plain"], parts(mail)["text/html"]
    assert "For maria@acme.example" in text
    assert "Yesterday's breaches: 3" in text and "ana@acme.example: 3" in text
    assert "bruno" not in text  # his breach is not this team's
    assert "At risk today: 1" in text and f"{LINK}106" in text
    assert "2026-10-15 09:13 -03:00" in text  # 106's deadline
    assert "Speed to lead: FAIL" in text and "this team's violations: 3" in text
    assert "<ul>" in html and f'<a href="{LINK}102">' in html


def cli(capsys, *args: str) -> tuple[int, str, str]:
    from run_audit import main

    code = main(["watch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_channel_without_its_variable_is_one_line_naming_the_key(
    tmp_path, snapshot, capsys, monkeypatch
):
    monkeypatch.delenv("SLA_AUDIT_INBOUND_MAIL", raising=False)
    monkeypatch.setenv("SLA_AUDIT_INBOUND_HOOK", "json://127.0.0.1:9/hooks/" + WEBHOOK_TOKEN)
    args = ("--sla", str(sla_file(tmp_path)), "--db", str(snapshot), "--no-sync")
    code, out, err = cli(capsys, *args, "--as-of", "2026-10-14T10:20:00-03:00")
    assert code == 2 and out == ""
    assert err == "error: channels.inbound-mail.url_env: SLA_AUDIT_INBOUND_MAIL is not set\n"
    assert outbox(snapshot) == []


def test_a_url_apprise_cannot_use_names_the_key_never_the_url(
    tmp_path, snapshot, capsys, monkeypatch
):
    monkeypatch.setenv("SLA_AUDIT_INBOUND_MAIL", f"nosuchservice://alerts:{SMTP_PASSWORD}@x")
    monkeypatch.setenv("SLA_AUDIT_INBOUND_HOOK", "json://127.0.0.1:9/hooks/" + WEBHOOK_TOKEN)
    args = ("--sla", str(sla_file(tmp_path)), "--db", str(snapshot), "--no-sync")
    code, out, err = cli(capsys, *args, "--verbose")
    assert code == 2 and out == ""
    assert err.startswith(
        "error: channels.inbound-mail.url_env: the URL in SLA_AUDIT_INBOUND_MAIL is not one "
        "apprise can send to"
    )
    assert SMTP_PASSWORD not in err and WEBHOOK_TOKEN not in err


def test_the_command_delivers_and_no_output_or_snapshot_holds_a_secret(
    tmp_path, snapshot, capsys, monkeypatch
):
    args = ("--sla", str(sla_file(tmp_path)), "--db", str(snapshot), "--no-sync", "--verbose")
    as_of = ("--as-of", "2026-10-14T10:20:00-03:00")
    outputs = []
    with smtp_server() as box, webhook_server(codes=[500]) as hook:
        for name, value in env_of(box, hook).items():
            monkeypatch.setenv(name, value)
        code, out, err = cli(capsys, *args, *as_of, "--dry-run")
        assert code == 0 and "would send breach to inbound-mail (team inbound)" in out
        outputs += [out, err]
        code, out, err = cli(capsys, *args, *as_of)
        assert code == 2
        assert "error: delivery to channel inbound-hook failed: " in err
        assert out.startswith("watch as of 2026-10-14 10:20 -03:00; 3 breaches since ")
        outputs += [out, err]
        code, out, err = cli(capsys, *args, *as_of, "--log-json")
        assert code == 0
        outputs += [out, err]
    assert (len(box.mails), len(hook.payloads)) == (2, 2)
    files = [snapshot, *snapshot.parent.glob("s.db-*")]
    stored = b"".join(path.read_bytes() for path in files if path.is_file())
    for secret in (SMTP_PASSWORD, WEBHOOK_TOKEN):
        assert all(secret not in text for text in outputs)
        assert secret.encode() not in stored


def test_a_manager_who_is_no_crm_user_is_one_line_naming_the_key(tmp_path, snapshot, capsys):
    teams = {**TEAMS, "inbound": {**TEAMS["inbound"], "manager": "mario@acme.example"}}
    args = ("--sla", str(sla_file(tmp_path, teams=teams)), "--db", str(snapshot), "--no-sync")
    code, out, err = cli(capsys, *args, "--dry-run", "--as-of", "2026-10-14T10:20:00-03:00")
    assert code == 2 and out == ""
    assert err == (
        "error: teams.inbound.manager: mario@acme.example is no user of the synced CRMs; "
        "name the manager by the email of their CRM user\n"
    )


def test_a_webhook_that_hangs_times_out_and_is_delivered_once_next_run(tmp_path, snapshot):
    """apprise's read timeout (rto=1 s in the URL) ends the hung request: a failure, kept
    for the next run, which delivers once."""
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server(hangs=2) as hook:
        environ = {**env_of(box, hook), "SLA_AUDIT_INBOUND_HOOK": hook.url() + "?rto=1"}
        first = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", environ)
        assert first.exit_code() == 2
        assert first.failure_lines()[0].startswith("delivery to channel inbound-hook failed: ")
        assert (len(box.mails), len(hook.payloads)) == (2, 0)
        second = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", environ)
        assert second.exit_code() == 0
        third = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", environ)
        assert (third.delivery.delivered, len(box.mails), len(hook.payloads)) == (0, 2, 2)


def test_a_reps_own_channel_gets_their_leads_alerts_but_not_the_digest(tmp_path, snapshot):
    teams = {
        "inbound": {**TEAMS["inbound"], "rep_notify": {"ana@acme.example": ["ana-hook"]}},
    }
    channels = {**CHANNELS, "ana-hook": {"url_env": "SLA_AUDIT_ANA_HOOK"}}
    sla = sla_file(tmp_path, teams=teams, channels=channels)
    with smtp_server() as box, webhook_server() as hook, webhook_server() as ana:
        environ = {**env_of(box, hook), "SLA_AUDIT_ANA_HOOK": ana.url()}
        result = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", environ)
        assert result.exit_code() == 0
        # the team's channels: digest + alerts each; ana's own: her leads' alerts only
        assert (len(box.mails), len(hook.payloads), len(ana.payloads)) == (2, 2, 1)
        assert "3 SLA alerts" in json.dumps(ana.payloads[0])


def test_a_failed_delivery_is_tried_again_in_the_run_after_growing_waits(
    tmp_path, snapshot, monkeypatch, one_try_per_run
):
    """Two 500s, then the webhook is back: the third try of the run delivers it, after waits
    of 2 s and 8 s (recorded here, not slept); nothing is left for the next run."""
    monkeypatch.setattr("app.alerts_delivery.RETRY_WAITS_S", (2.0, 8.0))
    sla = sla_file(tmp_path)
    with smtp_server() as box, webhook_server(codes=[500, 500]) as hook:
        result = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", env_of(box, hook))
        assert result.exit_code() == 0
        assert (hook.refused, len(hook.payloads), len(box.mails)) == (2, 2, 2)
    assert one_try_per_run == [2.0, 8.0]
    hooked = [row for row in outbox(snapshot) if row["channel"] == "inbound-hook"]
    assert {row["status"] for row in hooked} == {"delivered"}


def test_a_team_without_channels_is_said_apart_from_reps_in_no_team(tmp_path, snapshot):
    teams = {"inbound": {**TEAMS["inbound"], "notify": []}}
    sla = sla_file(tmp_path, teams=teams)
    result = watch(sla, snapshot, "2026-10-14T10:20:00-03:00", {}, dry_run=True)
    assert (result.no_team, result.no_channel) == (1, 3)
    assert "(1 for reps in no team, 3 for teams with no channel: not alerted)" in result.line()
