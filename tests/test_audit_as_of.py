"""The as-of cut-off (docs/SEMANTICS.md §1 As-of): nothing recorded after as-of is seen,
and auditing October as of 2026-11-01 gives the same report from November's snapshot as
from December's.

Base test SLA: America/Sao_Paulo; 2026-11-01T03:00:00Z is 1 Nov 00:00 local, the end of
October. Mon 2026-11-02 is a holiday.
"""

from __future__ import annotations

import sqlite3

import pytest

from audit.period import AuditInputError, parse_as_of
from tests.tiny_crm import TinyCRM, audit_snapshot, make_sla

END_OF_OCTOBER = "2026-11-01T03:00:00Z"


def audit(path, sla=None, as_of=END_OF_OCTOBER, period="2026-10"):
    return audit_snapshot(path, sla, as_of, period)


def add_sync_runs(path, runs):
    """Record sync runs ``(finished_at UTC text, status)`` in a saved snapshot."""
    with sqlite3.connect(path) as db:
        db.executemany(
            "insert into sync_runs (source, started_at, finished_at, status, records, "
            "requests, retries) values ('hubspot', ?, ?, ?, 0, 0, 0)",
            [(finished, finished, status) for finished, status in runs],
        )
    db.close()


def build_october(path, *, later: bool):
    """October's CRM; with ``later``, also what happened in November (December's snapshot)."""
    crm = TinyCRM(path)
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")

    def lead(crm_id, owner, **kwargs):
        lead_id = crm.lead(crm_id, owner=owner, **kwargs)
        crm.event(lead_id, "owner", owner if crm_id != "104" else bob, "2026-09-01 08:00")
        return lead_id

    # 101: handled by the book in October.
    a = lead("101", ana)
    crm.mql(a, "2026-10-05 10:00")
    for t in ("2026-10-05 10:02", "2026-10-06 10:00", "2026-10-07 10:00"):
        crm.activity(a, "call", t)
    crm.event(a, "status", "UNQUALIFIED", "2026-10-08 10:00")

    # 102: late-October handoff, window open at as-of (until 11-10 10:00).
    b = lead("102", ana)
    crm.mql(b, "2026-10-27 10:00")
    crm.activity(b, "call", "2026-10-27 10:03")

    # 103: Fri 10-30 17:58, untouched by as-of (deadline: 2 min Fri, Mon 11-02 is a
    # holiday, 3 min Tue → Tue 11-03 09:03).
    c = lead("103", bob)
    crm.mql(c, "2026-10-30 17:58")

    # 104: bob's Saturday MQL.
    d = lead("104", bob if not later else ana)
    crm.mql(d, "2026-10-10 10:00")

    # 105: a lead deleted only after as-of.
    e = lead("105", ana, deleted="2026-11-20 10:00" if later else None)
    crm.mql(e, "2026-10-15 10:00")
    crm.activity(e, "email", "2026-10-15 10:04")

    if later:
        # November history: 102 worked, recycled, then progressed; 104 reassigned;
        # 105 converted.
        crm.activity(b, "call", "2026-11-03 10:00")
        crm.activity(b, "call", "2026-11-04 10:00")
        crm.event(b, "status", "UNQUALIFIED", "2026-11-05 10:00")
        crm.event(b, "stage", "salesqualifiedlead", "2026-11-06 10:00")
        crm.event(d, "owner", ana, "2026-11-02 10:00")
        crm.event(e, "stage", "salesqualifiedlead", "2026-11-06 10:00")
        # 103 called just in time, but only after as-of; plus a call back-dated into
        # October that was recorded in the CRM on 11-05.
        crm.activity(c, "call", "2026-11-03 09:02")
        crm.activity(c, "call", "2026-10-30 17:59", recorded="2026-11-05 09:00")
        # An inbound reply to 104 recorded after as-of, back-dated into its window.
        crm.activity(d, "email", "2026-10-12 10:00", direction="inbound", recorded="2026-11-04")
        # New leads: one imported in November with an October MQL in its history,
        # one that qualified in November.
        f = crm.lead("106", owner=ana, created="2026-11-03 10:00")
        crm.mql(f, "2026-10-20 10:00")
        g = crm.lead("107", owner=bob, created="2026-11-02 10:00")
        crm.mql(g, "2026-11-02 11:00")
    crm.save()
    return path


def test_october_as_of_november_first_is_identical_from_a_december_snapshot(tmp_path):
    november = audit(build_october(tmp_path / "nov.db", later=False))
    december = audit(build_october(tmp_path / "dec.db", later=True))
    assert december.to_dict() == november.to_dict()

    # And the figures are those of 1 November, not of December:
    assert november.rule("mql_volume").measured == 5  # 101-105; not 106 nor 107
    speed = november.rule("speed_to_lead")
    # judged 101 (2 min), 102 (3 min), 104 (untouched past its deadline), 105 (4 min);
    # 103 pending (deadline Tue 11-03 09:03 is after as-of).
    assert (speed.measured, speed.judged, speed.pending) == (3 / 4, 4, 1)
    assert [p.crm_id for p in speed.pending_handoffs] == ["103"]
    assert [v.rep for v in speed.violations] == ["bob@acme.example"]
    attempts = november.rule("attempts")
    # 101 compliant (3 attempts); 104 (window closed 10-24, 0 attempts) and 105 (closed
    # 10-29, 1 attempt) → violations; 102 and 103 still inside their windows and short of
    # 3 attempts → pending. (December's snapshot would have connected 104 by a back-dated
    # inbound reply and given 102 three attempts.)
    assert (attempts.measured, attempts.judged, attempts.pending) == (1 / 3, 3, 2)
    assert november.rule("conversion").measured == 0.0
    assert not any("deleted" in n for n in november.data_notes)


def test_an_activity_recorded_after_as_of_is_not_seen_even_if_back_dated(tmp_path):
    # One snapshot, two as-ofs. The call occurred Thu 10-29 17:59 (1 business minute after
    # the handoff) but was logged on Thu 11-05: as of 11-04 it does not exist yet.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("101", owner=ana)
    crm.mql(lead, "2026-10-29 17:58")
    crm.activity(lead, "call", "2026-10-29 17:59", recorded="2026-11-05 09:00")
    crm.save()
    before = audit(crm.path, as_of="2026-11-04 12:00").rule("speed_to_lead")
    assert (before.measured, before.judged) == (0.0, 1)
    after = audit(crm.path, as_of="2026-11-05 12:00").rule("speed_to_lead")
    assert (after.measured, after.judged) == (1.0, 1)


def test_history_and_handoffs_after_as_of_are_not_seen(tmp_path):
    # As of Tue 10-20 12:00: 101's MQL on 10-25 has not happened; 102's progress on 10-21
    # has not happened either.
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    a = crm.lead("101", owner=ana)
    crm.mql(a, "2026-10-25 10:00")
    b = crm.lead("102", owner=ana)
    crm.mql(b, "2026-10-05 10:00")
    crm.event(b, "stage", "salesqualifiedlead", "2026-10-21 10:00")
    crm.save()
    mid = audit(crm.path, as_of="2026-10-20 12:00")
    assert mid.rule("mql_volume").measured == 1
    assert mid.rule("conversion").measured == 0.0
    end = audit(crm.path, as_of="2026-11-01 00:00")
    assert end.rule("mql_volume").measured == 2
    assert end.rule("conversion").measured == 1 / 2


def test_a_lead_assigned_only_after_as_of_stays_unassigned_from_a_later_snapshot(tmp_path):
    # November's snapshot: lead 101 has no owner and no owner history → "unassigned".
    # December's: bob was assigned on 11-10 (owner history event + current owner). As of
    # 11-01 that assignment had not happened, so the report must still say "unassigned".
    def build(path, later):
        crm = TinyCRM(path)
        bob = crm.owner("2", "bob@acme.example")
        lead = crm.lead("101", owner=bob if later else None)
        crm.mql(lead, "2026-10-05 10:00")
        if later:
            crm.event(lead, "owner", bob, "2026-11-10 10:00")
        return crm.save()

    november = audit(build(tmp_path / "nov.db", False))
    december = audit(build(tmp_path / "dec.db", True))
    assert [v.rep for v in november.rule("speed_to_lead").violations] == ["unassigned"]
    assert [v.rep for v in december.rule("speed_to_lead").violations] == ["unassigned"]
    assert december.to_dict() == november.to_dict()


def test_later_sync_runs_do_not_change_the_report_of_the_same_as_of(tmp_path):
    # Each real snapshot carries its own sync runs: November's finished 11-01 03:00Z,
    # December's has one more on 12-01. Audited as of 11-01 03:00Z both must be identical.
    nov = build_october(tmp_path / "nov.db", later=False)
    add_sync_runs(nov, [("2026-11-01T03:00:00.000Z", "ok")])
    dec = build_october(tmp_path / "dec.db", later=True)
    add_sync_runs(dec, [("2026-11-01T03:00:00.000Z", "ok"), ("2026-12-01T03:00:00.000Z", "ok")])
    assert audit(dec).to_dict() == audit(nov).to_dict()


def test_owners_hired_or_deactivated_after_as_of_do_not_change_the_reps(tmp_path):
    # November's snapshot: dora is active (a rep with no handoff). December's: dora was
    # deactivated and carl hired in November. As of 11-01 the reps are ana, bob, dora.
    nov = build_october(tmp_path / "nov.db", later=False)
    dec = build_october(tmp_path / "dec.db", later=True)
    for path, later in ((nov, False), (dec, True)):
        crm = TinyCRM(path)
        # The CRM stamps the owner record when it changes: dora's deactivation on 11-15,
        # carl's creation on 11-10.
        crm.owner("4", "dora@acme.example", active=not later, updated="2026-11-15 10:00")
        if later:
            crm.owner("3", "carl@acme.example", created="2026-11-10 10:00")
        crm.save()
    november = audit(nov)
    assert november.rule("mql_per_rep").judged == 3
    assert audit(dec).to_dict() == november.to_dict()


def test_default_as_of_is_when_the_last_successful_sync_finished(tmp_path):
    # Runs: ok 10-31 03:00Z, ok 11-01 03:00Z, then an error finishing 11-02 → as-of is
    # 11-01 03:00Z (the error does not count). Audited as of 11-03, the failed run after
    # the last good sync is noted; as of 11-01 it had not happened yet.
    path = build_october(tmp_path / "s.db", later=False)
    add_sync_runs(
        path,
        [
            ("2026-10-31T03:00:00.000Z", "ok"),
            ("2026-11-01T03:00:00.000Z", "ok"),
            ("2026-11-02T03:00:00.000Z", "error"),
        ],
    )
    result = audit(path, as_of=None)
    assert parse_as_of(result.as_of, make_sla().tz) == parse_as_of(END_OF_OCTOBER, None)
    explicit = audit(path)
    assert result.to_dict() == explicit.to_dict()
    assert not any("failed" in n for n in result.data_notes)
    later = audit(path, as_of="2026-11-03 00:00")
    assert any("1 sync run failed" in n for n in later.data_notes)


def test_as_of_without_an_offset_is_read_in_the_sla_time_zone():
    sla = make_sla()
    assert parse_as_of("2026-11-01T00:00:00", sla.tz) == parse_as_of(END_OF_OCTOBER, sla.tz)


def test_as_of_before_the_period_starts_is_refused(tmp_path):
    path = build_october(tmp_path / "s.db", later=False)
    with pytest.raises(AuditInputError, match="before the period"):
        audit(path, as_of="2026-09-30 23:59")


def test_an_activity_deleted_after_as_of_still_counts_as_of_before(tmp_path):
    """Issue 14, item 9. Lead 201 handed off Mon 10-05 10:00, called 10:02; the call is
    deleted 12-02 (say with its lead in Salesforce). October as of 1 Nov: touched in 2 min,
    on time, as the November snapshot said; as of 3 Dec the call is gone: untouched."""
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("201", owner=ana)
    crm.event(lead, "owner", ana, "2026-09-01 08:00")
    crm.mql(lead, "2026-10-05 10:00")
    crm.activity(lead, "call", "2026-10-05 10:02", deleted="2026-12-02 09:00")
    crm.save()
    before = audit(crm.path).rule("speed_to_lead")
    assert (before.measured, before.judged) == (1.0, 1)
    after = audit(crm.path, as_of="2026-12-03T12:00:00Z").rule("speed_to_lead")
    assert (after.measured, after.judged) == (0.0, 1)
    assert after.violations[0].kind == "untouched"


def test_a_deletion_without_its_instant_counts_as_deleted_all_along(tmp_path):
    """Rows synced before deletion instants were kept have none: they stay left out."""
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    lead = crm.lead("202", owner=ana)
    crm.event(lead, "owner", ana, "2026-09-01 08:00")
    crm.mql(lead, "2026-10-05 10:00")
    call = crm.activity(lead, "call", "2026-10-05 10:02")
    crm.save()
    with sqlite3.connect(crm.path) as db:
        db.execute("update activities set is_deleted = 1, deleted_at = null where id = ?", [call])
    db.close()
    assert audit(crm.path).rule("speed_to_lead").measured == 0.0
