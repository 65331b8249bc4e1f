"""Month to date vs closed month (issue 16, item 2; docs/SEMANTICS.md "Month to date and
closed months"): an open period is provisional, a closed one is audited as of its close by
default so ``audit`` and a later ``--trend`` agree, ``--period last-month|this-month``.

Base test SLA: America/Sao_Paulo (−03:00, no daylight saving in 2026); October 2026 is
[2026-10-01T03:00Z, 2026-11-01T03:00Z); per_rep {min: 1, max: 2}; mqls_per_month 3.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import yaml

from audit.engine import open_snapshot, period_as_of, run_audit, run_trend
from audit.instants_ns import NAT, local_texts
from audit.period import AuditInputError, parse_as_of, resolve_period
from audit.rules import RULES_BY_ID
from run_audit import main
from tests.test_audit_as_of import add_sync_runs, build_october
from tests.tiny_crm import BASE_SLA, TinyCRM, audit_snapshot, make_sla

SAO_PAULO = make_sla().tz


def test_a_closed_month_is_audited_as_of_its_close_by_default(tmp_path):
    # December's snapshot (last sync 1 Dec 03:00Z) of October: as-of defaults to October's
    # end, 1 Nov 00:00 local, not to the sync; the figures equal the explicit as-of's.
    path = tmp_path / "dec.db"
    build_october(path, later=True)
    add_sync_runs(path, [("2026-12-01T03:00:00.000Z", "ok")])
    default = audit_snapshot(path, None, None)
    explicit = audit_snapshot(path, None, "2026-11-01T03:00:00Z")
    assert default.as_of == "2026-11-01T03:00:00.000Z"
    assert default.provisional is False
    assert default.to_dict() == explicit.to_dict()


def test_audit_and_a_later_trend_give_the_same_figures_for_a_month(tmp_path):
    path = tmp_path / "dec.db"
    build_october(path, later=True)
    add_sync_runs(path, [("2026-12-01T03:00:00.000Z", "ok")])
    sla = make_sla()
    conn = open_snapshot(path)
    try:
        october = run_audit(conn, sla, "2026-10")
        [point] = run_trend(conn, sla, "2026-11", 1)
    finally:
        conn.close()
    assert (point.period, point.as_of, point.provisional) == ("2026-10", october.as_of, False)
    for rule in october.rules:
        assert point.rules[rule.id] == {
            "status": rule.status,
            "measured": rule.measured,
            "target": rule.target,
            "judged": rule.judged,
            "pending": rule.pending,
        }


def test_an_open_month_is_provisional_with_pro_rated_minimums_in_words(tmp_path):
    # As of Sat 2026-10-10 12:00 local: 9 days 12 hours of 31 days = 228 / 744 h elapsed.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.event(lead, "owner", ana, "2026-09-01 08:00")
    crm.mql(lead, "2026-10-05 10:00")
    crm.save()
    result = audit_snapshot(crm.path, make_sla(), "2026-10-10 12:00")
    elapsed = 228 / 744
    assert result.provisional is True
    per_rep = result.rule("mql_per_rep")
    assert per_rep.details["min"] == pytest.approx(elapsed)
    assert per_rep.details["elapsed_share"] == pytest.approx(elapsed)
    words = RULES_BY_ID["mql_per_rep"].sentence(per_rep, per_rep.details, "")
    assert "so far (1 a month pro-rated to the 30.6% of it elapsed)" in words
    assert any(
        note.startswith("provisional: period 2026-10 is still open as of 2026-10-10 12:00 -03:00")
        for note in result.data_notes
    )
    assert result.to_dict()["provisional"] is True


def test_period_as_of_is_the_earlier_of_the_last_sync_and_the_period_end(tmp_path):
    path = tmp_path / "s.db"
    build_october(path, later=False)
    add_sync_runs(path, [("2026-10-20T12:00:00.000Z", "ok")])
    conn = open_snapshot(path)
    try:
        october = resolve_period("2026-10", SAO_PAULO, datetime(2026, 10, 20, 12, tzinfo=UTC))
        assert period_as_of(conn, october) == datetime(2026, 10, 20, 12, tzinfo=UTC)
        assert period_as_of(conn, october.previous()) == datetime(2026, 10, 1, 3, tzinfo=UTC)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("word", "reference", "label"),
    [
        ("this-month", "2026-11-01T02:59:00Z", "2026-10"),  # still 31 Oct 23:59 in São Paulo
        ("this-month", "2026-11-01T03:00:00Z", "2026-11"),
        ("last-month", "2026-11-01T03:00:00Z", "2026-10"),
        ("last-month", "2026-01-15T12:00:00Z", "2025-12"),
        ("Last-Month", "2026-03-01T12:00:00Z", "2026-02"),
        ("2026-07", "2026-03-01T12:00:00Z", "2026-07"),
    ],
)
def test_relative_periods_are_read_in_the_sla_zone(word, reference, label):
    assert resolve_period(word, SAO_PAULO, parse_as_of(reference, SAO_PAULO)).label == label


def test_a_mistyped_period_names_the_words_it_accepts():
    with pytest.raises(AuditInputError, match=r"YYYY-MM .*last-month or this-month"):
        resolve_period("lastmonth", SAO_PAULO, datetime(2026, 10, 1, tzinfo=UTC))


def test_local_texts_words_a_column_like_local_instant_across_daylight_saving():
    stamps = ["2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-03-29T01:00:00Z"]
    ns = np.array([pd.Timestamp(s).value for s in stamps] + [NAT], dtype=np.int64)
    assert local_texts(ns, "Europe/Paris") == [
        "2026-10-25 02:30 +02:00",
        "2026-10-25 02:30 +01:00",
        "2026-03-29 03:00 +02:00",
        None,
    ]


def test_audit_cli_takes_last_month(tmp_path, capsys):
    # Last sync Tue 3 Nov 03:00 local: last month is October, audited as of its close.
    path = tmp_path / "nov.db"
    build_october(path, later=False)
    add_sync_runs(path, [("2026-11-03T06:00:00.000Z", "ok")])
    sla_file = tmp_path / "sla.yaml"
    sla_file.write_text(yaml.safe_dump(BASE_SLA), encoding="utf-8")
    argv = ["audit", "--sla", str(sla_file), "--db", str(path), "--period", "last-month"]
    code = main([*argv, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert (doc["period"], doc["as_of"], doc["provisional"]) == (
        "2026-10",
        "2026-11-01T03:00:00.000Z",
        False,
    )
    assert code == (1 if doc["status"] == "fail" else 0)
    main([*argv[:-1], "this-month", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert (doc["period"], doc["as_of"], doc["provisional"]) == (
        "2026-11",
        "2026-11-03T06:00:00.000Z",
        True,
    )
