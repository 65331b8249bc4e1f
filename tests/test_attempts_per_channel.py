"""Per-channel minimums and cadence of attempts (issue 18, item 3; docs/SEMANTICS.md Part II,
"Attempts per channel and cadence").

Base test SLA: attempts.min 3 in 14d, min_gap 4h, channels [call, email, meeting];
business hours 09:00-12:00, 13:00-18:00 Mon-Fri (São Paulo), holidays 10-12 and 11-02.
Every handoff is Wed 2026-10-14 10:00 local, so its window ends Wed 10-28 10:00; the audit
is as of 11-01 unless said otherwise, when every window has closed.
"""

from __future__ import annotations

import pytest
import yaml

from tests.cli_helpers import run
from tests.tiny_crm import BASE_SLA, TinyCRM, audit, make_sla

HANDOFF = "2026-10-14 10:00"
# Five attempts a day apart, each 4 h or more after the previous: all counted.
DAYS = ["2026-10-14 10:05", "2026-10-15 10:00", "2026-10-16 10:00", "2026-10-19 10:00"]


@pytest.fixture
def crm(tmp_path):
    return TinyCRM(tmp_path / "s.db")


def handoff(crm, crm_id="101", *, segment="Software", touches=()):
    owner = "hubspot:1"
    if not crm.page.owners:
        crm.owner("1", "ana@acme.example")
    lead = crm.lead(crm_id, owner=owner, segment=segment)
    crm.event(lead, "owner", owner, "2026-09-01 08:00")
    crm.mql(lead, HANDOFF)
    for kind, at in touches:
        crm.activity(lead, kind, at, owner=owner)
    return lead


def per_channel_sla(**more):
    return make_sla(
        **{"sales.attempts.min": 5, "sales.attempts.per_channel": {"call": 3, "email": 2}},
        **more,
    )


def test_four_calls_and_one_email_fall_short_on_emails(crm):
    # 4 calls (10-14, 10-15, 10-16, 10-19) + 1 e-mail (10-20): 5 counted ≥ min 5, calls
    # 4 ≥ 3, but e-mails 1 < 2 → violation naming e-mails.
    handoff(crm, touches=[*(("call", at) for at in DAYS), ("email", "2026-10-20 10:00")])
    rule = audit(crm, per_channel_sla()).rule("attempts")
    assert (rule.judged, rule.measured) == (1, 0.0)
    [violation] = rule.violations
    assert violation.reason == (
        "5 counted attempts and no connection in 14d (SLA 5); "
        "4 of 3 calls, 1 of 2 e-mails (e-mails short)"
    )
    assert rule.details["short_by_channel"] == {"call": 0, "email": 1}
    assert "Per channel at least 3 calls and 2 e-mails." in result_sentence(rule)


def result_sentence(rule):
    from audit.rules.attempts import sentence

    return sentence(rule, rule.details, "")


def test_three_calls_and_two_emails_comply(crm):
    # 3 calls + 2 e-mails, all a day apart: 5 ≥ 5, 3 ≥ 3, 2 ≥ 2 → compliant.
    touches = [("call", DAYS[0]), ("email", DAYS[1]), ("call", DAYS[2]), ("email", DAYS[3])]
    handoff(crm, touches=[*touches, ("call", "2026-10-20 10:00")])
    rule = audit(crm, per_channel_sla()).rule("attempts")
    assert (rule.judged, rule.measured, rule.violations) == (1, 1.0, [])


def test_an_email_right_after_a_call_counts_for_its_channel_but_once_in_the_total(crm):
    # 10:05 call, 10:06 e-mail (1 min later: one attempt in the total, min_gap 4h), then
    # calls 10-15, 10-16 and an e-mail 10-19. Total: 10:05, 10-15, 10-16, 10-19 = 4 < 5;
    # per channel (min_gap within the channel): calls 3 of 3, e-mails 2 of 2.
    touches = [("call", DAYS[0]), ("email", "2026-10-14 10:06"), ("call", DAYS[1])]
    handoff(crm, touches=[*touches, ("call", DAYS[2]), ("email", DAYS[3])])
    [violation] = audit(crm, per_channel_sla()).rule("attempts").violations
    assert violation.reason == (
        "4 counted attempts and no connection in 14d (SLA 5); 3 of 3 calls, 2 of 2 e-mails"
    )


def test_a_connection_still_complies_whatever_the_channels(crm):
    lead = handoff(crm, touches=[("call", DAYS[0])])
    crm.activity(lead, "email", "2026-10-14 11:00", direction="inbound")
    rule = audit(crm, per_channel_sla()).rule("attempts")
    assert (rule.judged, rule.measured) == (1, 1.0)


def test_the_channels_met_early_decide_the_handoff_before_the_window_closes(crm):
    # As of Thu 10-22 (window open): 3 calls + 2 e-mails by 10-20 → judged and compliant.
    touches = [("call", DAYS[0]), ("email", DAYS[1]), ("call", DAYS[2]), ("email", DAYS[3])]
    handoff(crm, touches=[*touches, ("call", "2026-10-20 10:00")])
    rule = audit(crm, per_channel_sla(), as_of="2026-10-22T12:00:00Z").rule("attempts")
    assert (rule.judged, rule.pending, rule.measured) == (1, 0, 1.0)


# ------------------------------------------------------------------------ cadence


def test_a_gap_longer_than_max_gap_in_business_time_breaks_the_cadence(crm):
    # Calls Wed 10-14 10:05, Thu 10-15 10:00, Wed 10-21 10:00. Gaps in business time
    # (8 h a day): Wed 10:05 → Thu 10:00 = 1 h 55 (to 12) + 5 h (13-18) + 1 h (9-10) =
    # 7 h 55 min; Thu 10:00 → Wed 10:00 = 7 h Thu + 8 h Fri, Mon, Tue + 1 h Wed = 32 h.
    # max_gap 16h: 32 h > 16 h → fail.
    calls = [("call", DAYS[0]), ("call", DAYS[1]), ("call", "2026-10-21 10:00")]
    handoff(crm, touches=calls)
    sla = make_sla(**{"sales.attempts.max_gap": "16h"})
    rule = audit(crm, sla).rule("attempts")
    [violation] = rule.violations
    assert violation.reason == (
        "3 counted attempts and no connection in 14d (SLA 3); longest gap between attempts "
        "32 h (business), SLA at most 16 h (business)"
    )
    assert (rule.details["max_gap"], rule.details["gap_too_long"]) == ("16h", 1)


def test_gaps_within_max_gap_comply_and_nights_do_not_count(crm):
    # Fri 10-16 17:00 → Mon 10-19 10:00: 1 h Fri + 1 h Mon = 2 h business (weekend closed).
    calls = [
        ("call", "2026-10-14 10:05"),
        ("call", "2026-10-16 17:00"),
        ("call", "2026-10-19 10:00"),
    ]
    handoff(crm, touches=calls)
    # 10-14 10:05 → 10-16 17:00: 6 h 55 (Wed) + 8 h (Thu) + 7 h (Fri 9-12, 13-17) = 21 h 55.
    rule = audit(crm, make_sla(**{"sales.attempts.max_gap": "22h"})).rule("attempts")
    assert (rule.judged, rule.measured) == (1, 1.0)
    rule = audit(crm, make_sla(**{"sales.attempts.max_gap": "21h"})).rule("attempts")
    assert rule.measured == 0.0
    assert "longest gap between attempts 21 h 55 min (business)" in rule.violations[0].reason


def test_with_max_gap_a_handoff_stays_pending_until_the_window_closes(crm):
    # 3 calls by Mon 10-19 meet min 3, but a later gap could still break the cadence.
    handoff(crm, touches=[("call", at) for at in DAYS[:3]])
    sla = make_sla(**{"sales.attempts.max_gap": "16h"})
    rule = audit(crm, sla, as_of="2026-10-22T12:00:00Z").rule("attempts")
    assert (rule.judged, rule.pending) == (0, 1)
    rule = audit(crm, make_sla(), as_of="2026-10-22T12:00:00Z").rule("attempts")
    assert (rule.judged, rule.pending) == (1, 0)


# ------------------------------------------------------------------------ tiers


def test_a_tier_sets_its_own_per_channel_minimums_and_max_gap(crm):
    # Base: min 3, no per-channel. Tier enterprise: min 4, at least 2 e-mails, max_gap 16h.
    # 101 (Software, base): 3 calls a day apart → compliant.
    # 102 (Enterprise): 3 calls + 1 e-mail (4 ≥ 4) but 1 of 2 e-mails → violation.
    week = [("call", DAYS[0]), ("call", DAYS[1]), ("call", DAYS[2])]
    handoff(crm, "101", touches=week)
    handoff(crm, "102", segment="Enterprise", touches=[*week, ("email", DAYS[3])])
    tiers = [
        {
            "name": "enterprise",
            "when": {"segment": ["Enterprise"]},
            "attempts": {"min": 4, "per_channel": {"email": 2}, "max_gap": "16h"},
        }
    ]
    rule = audit(crm, make_sla(tiers=tiers)).rule("attempts")
    assert rule.splits["by_tier"]["base"]["met"] == 1
    assert rule.splits["by_tier"]["enterprise"]["met"] == 0
    [violation] = rule.violations
    # Gaps of 102: 7 h 55, 8 h, 8 h (Fri 10:00 → Mon 10:00 = 8 h): within 16 h, so only
    # the e-mails fall short.
    assert (violation.lead, violation.tier) == ("hubspot:102", "enterprise")
    assert violation.reason == (
        "4 counted attempts and no connection in 14d (SLA 4); 1 of 2 e-mails (e-mails short)"
    )


def test_without_per_channel_or_max_gap_nothing_is_added(crm):
    handoff(crm, touches=[("call", DAYS[0])])
    rule = audit(crm).rule("attempts")
    assert rule.violations[0].reason == "1 counted attempt and no connection in 14d (SLA 3)"
    assert not {"per_channel_min", "short_by_channel", "max_gap"} & set(rule.details)


# ------------------------------------------------------------------------ bad input


def one_error(capsys, tmp_path, sales_attempts=None, tiers=None) -> str:
    data = yaml.safe_load(yaml.safe_dump(BASE_SLA))
    data["sales"]["attempts"].update(sales_attempts or {})
    if tiers:
        data["tiers"] = tiers
    path = tmp_path / "sla.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, out, err = run(capsys, "check", "--sla", str(path))
    assert (code, out) == (2, ""), err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_a_channel_minimum_above_the_total_is_one_line_naming_the_key(tmp_path, capsys):
    line = one_error(capsys, tmp_path, {"min": 3, "per_channel": {"call": 4}})
    assert "sales.attempts.per_channel.call: 4 is more than the total minimum" in line
    assert "sales.attempts.min: 3" in line


def test_channel_minimums_adding_up_above_the_total_are_refused(tmp_path, capsys):
    line = one_error(capsys, tmp_path, {"min": 3, "per_channel": {"call": 2, "email": 2}})
    assert "sales.attempts.per_channel: the channel minimums add up to 4" in line


def test_an_unknown_channel_name_is_one_line_with_a_suggestion(tmp_path, capsys):
    line = one_error(capsys, tmp_path, {"per_channel": {"emails": 1}})
    assert "sales.attempts.per_channel.emails: unknown channel; did you mean email?" in line


def test_a_channel_left_out_of_channels_is_refused(tmp_path, capsys):
    line = one_error(capsys, tmp_path, {"per_channel": {"message": 1}})
    assert "sales.attempts.per_channel.message: message is not in sales.attempts.channels" in line


def test_a_tier_lowering_min_below_the_channel_minimums_is_refused(tmp_path, capsys):
    tiers = [{"name": "quick", "when": {"source": ["DEMO"]}, "attempts": {"min": 2}}]
    line = one_error(capsys, tmp_path, {"per_channel": {"call": 2, "email": 1}}, tiers)
    assert "tiers[0].attempts.min: 2 is less than the channel minimums" in line


def test_a_tier_channel_minimum_above_its_total_is_refused(tmp_path, capsys):
    tiers = [
        {"name": "big", "when": {"source": ["DEMO"]}, "attempts": {"per_channel": {"call": 5}}}
    ]
    line = one_error(capsys, tmp_path, tiers=tiers)
    assert "tiers[0].attempts.per_channel.call: 5 is more than the total minimum" in line
