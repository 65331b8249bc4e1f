"""Instants with milliseconds survive the audit's column arithmetic to the nanosecond."""

from audit.engine import open_snapshot, run_audit
from audit.period import parse_as_of
from tests.tiny_crm import TinyCRM, make_sla


def test_owner_assigned_milliseconds_after_the_handoff_is_the_responsible_rep(tmp_path):
    # Handoff 10-01 01:33:48.310 local; ana assigned 26.201 s later, bob never. A float
    # round-trip of epoch nanoseconds (~1.79e18 > 2**53) would move the assignment instant
    # and lose the match with its history row, leaving the handoff "unassigned".
    crm = TinyCRM(tmp_path / "s.db")
    ana = crm.owner("1", "ana@acme.example")
    crm.owner("2", "bob@acme.example")
    lead = crm.lead("101", owner=ana)
    other = crm.lead("102")
    crm.mql(lead, "2026-10-01 01:33:48.310")
    crm.event(lead, "owner", ana, "2026-10-01 01:34:14.511")
    crm.mql(other, "2026-10-02 10:00:00.001")
    crm.event(lead, "status", "UNQUALIFIED", "2026-10-08 00:55:04.326")
    crm.save()
    sla = make_sla()
    result = run_audit(
        open_snapshot(crm.path), sla, "2026-10", parse_as_of("2026-11-01T03:00:00Z", sla.tz)
    )
    reps = {v.lead: v.rep for v in result.rule("coverage").violations}
    assert reps == {"hubspot:101": "ana@acme.example", "hubspot:102": "unassigned"}
    # The reason field read at the recycle instant is the recycling status itself.
    recycled = [v for v in result.rule("recycling").violations if v.lead == "hubspot:101"]
    assert [v.kind for v in recycled] == ["premature"]
    assert "no valid reason" not in recycled[0].reason
