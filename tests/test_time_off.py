"""Reps' time off (issue 18, item 2; docs/SEMANTICS.md, Routing and time off).

Base test SLA (tests/tiny_crm.py): America/Sao_Paulo, mon-fri 09:00-12:00 and
13:00-18:00, first touch within 5m, per rep 1..2 MQLs. Times are local wall times.
October 2026: Mon 5 .. Fri 9 is a working week; Mon 12 is a holiday.
"""

from __future__ import annotations

import copy
import http.server
import threading
from pathlib import Path

import pytest

from audit.period import AuditInputError
from config.sla import SLAError, parse_sla
from tests.tiny_crm import BASE_SLA, TinyCRM, audit, make_sla

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1@test
DTSTART;VALUE=DATE:20261005
DTEND;VALUE=DATE:20261010
SUMMARY:Holiday
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def owned_lead(crm, crm_id, owner, mql_at, call_at=None):
    lead = crm.lead(crm_id, owner=owner)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, mql_at)
    if call_at:
        crm.activity(lead, "call", call_at)
    return lead


def holiday_crm(crm):
    # Ana is away Mon 5 .. Fri 9. A lead handed to her Tue 6 10:00 is called when she is
    # back, Tue 13 09:03 (Mon 12 is a holiday).
    ana = crm.owner("1", "ana@acme.example")
    owned_lead(crm, "101", ana, "2026-10-06 10:00", "2026-10-13 09:03")
    return crm


def test_a_handoff_during_a_reps_holiday_is_routings_fault_not_the_reps(crm):
    # From the handoff the lead waited Tue 10:00 .. Tue 13 09:03 — days of business time:
    # late. On Ana's own clock (her week off taken out) her response is 3 min ≤ 5m: the
    # late touch is attributed to routing, which gave the lead to someone away.
    holiday_crm(crm)
    sla = make_sla(time_off={"ana@acme.example": ["2026-10-05..2026-10-09"]})
    speed = audit(crm, sla).rule("speed_to_lead")
    [late] = speed.violations
    assert late.attributed_to == "routing"
    assert speed.details["rep_response_median_minutes"] == pytest.approx(3.0)


def test_on_the_reps_clock_the_holiday_handoff_is_on_time(crm):
    holiday_crm(crm)
    sla = make_sla(
        time_off={"ana@acme.example": ["2026-10-05..2026-10-09"]},
        routing={"within": "10m", "target": 0.95},
        **{"sales.first_touch.clock": "assignment"},
    )
    result = audit(crm, sla)
    assert result.rule("speed_to_lead").measured == 1.0
    [v] = result.rule("routing").violations  # owned at the handoff, but by someone away
    assert v.kind == "absent_rep" and "time off" in v.reason


def test_time_off_from_an_ics_file_counts_like_listed_dates(crm, tmp_path):
    holiday_crm(crm)
    ics = tmp_path / "ana.ics"
    ics.write_text(ICS)
    sla = make_sla(time_off={"ana@acme.example": {"ics": str(ics)}})
    [late] = audit(crm, sla).rule("speed_to_lead").violations
    assert late.attributed_to == "routing"


class _Calendar(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/ana.ics":
            self.send_error(404)
            return
        body = ICS.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def calendar_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Calendar)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_time_off_from_a_calendar_url(crm, calendar_server):
    holiday_crm(crm)
    sla = make_sla(time_off={"ana@acme.example": {"ics": f"{calendar_server}/ana.ics"}})
    [late] = audit(crm, sla).rule("speed_to_lead").violations
    assert late.attributed_to == "routing"


def test_a_calendar_url_that_fails_is_one_line_naming_the_key(crm, calendar_server):
    holiday_crm(crm)
    sla = make_sla(time_off={"ana@acme.example": {"ics": f"{calendar_server}/gone.ics"}})
    with pytest.raises(AuditInputError) as error:
        audit(crm, sla)
    message = str(error.value)
    assert message.startswith("time_off.ana@acme.example.ics: cannot fetch")
    assert "404" in message and "\n" not in message


def test_a_file_that_is_no_calendar_is_refused(crm, tmp_path):
    holiday_crm(crm)
    bad = tmp_path / "ana.ics"
    bad.write_text("not a calendar")
    sla = make_sla(time_off={"ana@acme.example": {"ics": str(bad)}})
    with pytest.raises(AuditInputError, match=r"^time_off.ana@acme.example.ics: .* not an iCal"):
        audit(crm, sla)
    missing = make_sla(time_off={"ana@acme.example": {"ics": str(tmp_path / "none.ics")}})
    with pytest.raises(AuditInputError, match="cannot read"):
        audit(crm, missing)


def test_a_rep_in_time_off_who_is_no_owner_is_refused(crm):
    holiday_crm(crm)
    sla = make_sla(time_off={"zoe@acme.example": ["2026-10-05"]})
    with pytest.raises(AuditInputError, match=r"^time_off.zoe@acme.example: .* no owner"):
        audit(crm, sla)


@pytest.mark.parametrize(
    ("ranges", "problem"),
    [
        (["2026-10-09..2026-10-05"], r"time_off.ana@acme.example.dates\[0\]: .* ends before"),
        (
            ["2026-10-05..2026-10-09", "2026-10-09"],
            r"time_off.ana@acme.example.dates\[1\]: .* overlaps 2026-10-05..2026-10-09",
        ),
        (["next week"], r"time_off.ana@acme.example.dates\[0\]: .* is not a date range"),
    ],
)
def test_inverted_overlapping_and_unreadable_ranges_are_refused(ranges, problem):
    data = copy.deepcopy(BASE_SLA) | {"time_off": {"ana@acme.example": ranges}}
    with pytest.raises(SLAError, match=problem) as error:
        parse_sla(data)
    assert len(error.value.problems) == 1


def test_per_rep_volume_is_pro_rated_by_the_days_present(crm):
    # per_rep 1..2 a month. October has 21 working days (23 weekdays less Mon 12 … and the
    # base SLA's holidays: 2026-10-12 only in October → 22 weekdays - 1 = 21). Ana is away
    # 2026-10-05..2026-10-16: 9 working days (5 + 4, Mon 12 being a holiday) → present
    # 12/21 of the month; her range is 12/21 .. 24/21 = 0.571 .. 1.143. Two MQLs exceed it;
    # Bob, present all month, with two is in range.
    ana = crm.owner("1", "ana@acme.example")
    bob = crm.owner("2", "bob@acme.example")
    for crm_id, owner, day in (
        ("101", ana, "2026-10-01 10:00"),
        ("102", ana, "2026-10-20 10:00"),
        ("103", bob, "2026-10-01 10:00"),
        ("104", bob, "2026-10-20 10:00"),
    ):
        owned_lead(crm, crm_id, owner, day, day[:-2] + "02")
    plain = audit(crm, make_sla()).rule("mql_per_rep")
    assert plain.measured == 1.0
    sla = make_sla(time_off={"ana@acme.example": ["2026-10-05..2026-10-16"]})
    rule = audit(crm, sla).rule("mql_per_rep")
    assert rule.measured == 0.5
    assert rule.details["out_of_range"] == {"ana@acme.example": 2}
    assert rule.details["present_share"]["ana@acme.example"] == pytest.approx(12 / 21)


def test_an_absence_written_as_one_day_closes_that_local_day(crm):
    # Ana away Fri 9 only. Handoff Thu 8 17:58, call Tue 13 09:03: on Ana's clock Thu
    # 17:58-18:00 = 2 min, Fri away, Mon 12 holiday, Tue 09:00-09:03 = 3 min → 5 min.
    ana = crm.owner("1", "ana@acme.example")
    owned_lead(crm, "101", ana, "2026-10-08 17:58", "2026-10-13 09:03")
    sla = make_sla(time_off={"ana@acme.example": ["2026-10-09"]})
    speed = audit(crm, sla).rule("speed_to_lead")
    assert speed.details["rep_response_median_minutes"] == pytest.approx(5.0)


def test_ics_path_is_read_relative_to_the_current_directory(crm, tmp_path, monkeypatch):
    holiday_crm(crm)
    (tmp_path / "cal").mkdir()
    Path(tmp_path / "cal" / "ana.ics").write_text(ICS)
    monkeypatch.chdir(tmp_path)
    sla = make_sla(time_off={"ana@acme.example": {"ics": "cal/ana.ics"}})
    assert audit(crm, sla).rule("speed_to_lead").violations[0].attributed_to == "routing"
