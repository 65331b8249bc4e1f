"""The SLA file: what a RevOps lead writes, what the audit reads, and what a mistake prints.

Every bad-input test asserts the whole problem list, so a message that grows a second,
confusing line (or loses its path) fails here first.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.durations import duration_code, duration_words, parse_duration
from config.sla import (
    BUILTIN_OUTCOMES,
    END_OF_DAY,
    HUBSPOT_DISPOSITION_LABELS,
    SLA,
    SLAError,
    load_sla,
    parse_sla,
    summarize,
)

CONFIG = Path(__file__).resolve().parent.parent / "config"
EXAMPLE = CONFIG / "sla.example.yaml"
MINIMAL = CONFIG / "sla.minimal.yaml"
CONNECTED_GUID = "f240bbac-87c9-4f6e-bf70-924b57d47db7"

MINIMAL_DATA: dict[str, Any] = {
    "name": "Test SLA",
    "timezone": "America/Sao_Paulo",
    "funnel": {"hubspot": {"mql": {"stage": ["marketingqualifiedlead"]}}},
}


def problems_of(data: dict[str, Any]) -> list[str]:
    """The problem lines parse_sla reports for ``data`` (fails the test if it is valid)."""
    with pytest.raises(SLAError) as caught:
        parse_sla(data)
    return caught.value.problems


def example_data() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``base`` with dotted-path keys set (``None`` removes the key)."""
    data = copy.deepcopy(base)
    for path, value in changes.items():
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the example


def test_example_file_loads_and_derives_600_mqls_a_month() -> None:
    sla = load_sla(EXAMPLE)

    assert sla.goals is not None
    # 1,000,000 revenue × 0.6 marketing share ÷ 20,000 average deal = 30 customers
    assert sla.goals.customers_needed() == pytest.approx(30)
    # 30 customers ÷ 0.05 MQL→customer = 600 MQLs a month
    assert sla.goals.mqls_needed() == pytest.approx(600)
    assert sla.marketing.mqls_per_month == "derived"
    assert sla.mqls_target() == pytest.approx(600)


def test_example_file_maps_both_crms_funnels() -> None:
    sla = load_sla(EXAMPLE)

    assert sla.funnel["hubspot"]["mql"].stage == ["marketingqualifiedlead"]
    assert sla.funnel["hubspot"]["recycled"].status == ["UNQUALIFIED", "BAD_TIMING"]
    salesforce = sla.funnel["salesforce"]
    assert salesforce["mql"].status == ["Marketing Qualified"]
    assert salesforce["sql"].status == ["Sales Qualified"]
    assert salesforce["sql"].converted is True
    assert salesforce["recycled"].status == ["Recycled", "Closed - Not Converted"]


def test_example_file_reads_calendar_and_sales_terms() -> None:
    sla = load_sla(EXAMPLE)

    assert sla.tz.key == "America/Sao_Paulo"
    days = sla.holidays.dates_in([2026])
    assert {date(2026, 10, 12), date(2026, 11, 2), date(2026, 11, 20), date(2026, 12, 25)} <= days
    assert date(2026, 7, 9) in days  # São Paulo state's Constitutionalist Revolution
    assert date(2026, 2, 16) not in days  # Carnival is no public holiday: a day off to list
    assert sla.marketing.per_rep is not None
    assert (sla.marketing.per_rep.min, sla.marketing.per_rep.max) == (40, 80)
    assert sla.marketing.mql_to_sql is not None
    assert (sla.marketing.mql_to_sql.target, sla.marketing.mql_to_sql.after) == (
        0.3,
        timedelta(days=14),
    )
    assert sla.marketing.conversion_target == 0.3
    assert sla.sales.first_touch.within == timedelta(minutes=5)
    assert sla.sales.attempts.window == timedelta(days=14)
    assert sla.sales.attempts.min_gap == timedelta(hours=4)
    assert sla.sales.recycle.grace == timedelta(days=3)
    assert sla.sales.recycle.reasons == [
        "UNQUALIFIED",
        "BAD_TIMING",
        "Recycled",
        "Closed - Not Converted",
    ]


# --------------------------------------------------------------------------- defaults


def test_minimal_file_takes_every_default() -> None:
    sla = load_sla(MINIMAL)

    assert sla.business_hours is None
    assert sla.opening_hours() is None  # 24×7
    assert not sla.holidays and sla.holidays.dates == []
    assert sla.goals is None
    assert sla.mqls_target() is None
    assert sla.marketing.per_rep is None
    assert sla.marketing.mql_to_sql is None
    assert sla.marketing.warn_margin == 0.1
    first_touch, attempts = sla.sales.first_touch, sla.sales.attempts
    assert (first_touch.within, first_touch.target) == (timedelta(minutes=5), 0.9)
    assert attempts.min == 5
    assert attempts.window == timedelta(days=14)
    assert attempts.min_gap == timedelta(hours=4)
    assert attempts.channels == ["call", "email", "meeting", "message"]
    assert attempts.target == 0.9
    assert sla.sales.coverage.target == 0.9
    recycle = sla.sales.recycle
    assert (recycle.grace, recycle.reason_field, recycle.reasons) == (
        timedelta(days=3),
        "status",
        None,
    )
    assert recycle.target == 0.9
    assert sla.sales.outcomes == {}


def test_per_rep_target_defaults_to_every_rep() -> None:
    sla = parse_sla(with_changes(MINIMAL_DATA, **{"marketing.per_rep": {"min": 40}}))

    assert sla.marketing.per_rep is not None
    assert (sla.marketing.per_rep.min, sla.marketing.per_rep.max) == (40, None)
    assert sla.marketing.per_rep.target == 1.0


def test_fixed_mql_volume_is_its_own_target() -> None:
    sla = parse_sla(with_changes(MINIMAL_DATA, **{"marketing.mqls_per_month": 450}))

    assert sla.mqls_target() == 450


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("changes", "problems"),
    [
        pytest.param(
            {"marketing.mqls_per_mont": 600},
            ["marketing.mqls_per_mont: unknown key; did you mean mqls_per_month?"],
            id="unknown-key-is-named-with-a-suggestion",
        ),
        pytest.param(
            {"funnel.hubspot.mql": {"stages": ["x"]}},
            ["funnel.hubspot.mql.stages: unknown key; did you mean stage?"],
            id="unknown-key-inside-a-funnel-stage-is-named-with-a-suggestion",
        ),
        pytest.param(
            {"funnel.hubspot.sql": {"stage": []}},
            [
                "funnel.hubspot.sql: matches no lead; give stage, status, lead_stage or "
                "converted: true, such as {stage: [salesqualifiedlead]}"
            ],
            id="funnel-stage-matching-nothing-is-refused",
        ),
        pytest.param(
            {"funnel.hubspot.sql": {"converted": True}},
            [
                "funnel.hubspot.sql.converted: only Salesforce leads convert; remove it or move "
                "the stage under salesforce"
            ],
            id="conversion-is-refused-outside-salesforce",
        ),
        pytest.param(
            {"sales.attempts.window": "2 weeks"},
            ['sales.attempts.window: "2 weeks" is not a duration such as 14d; write it as 14d'],
            id="duration-in-words-is-refused-with-the-spelling-to-use",
        ),
        pytest.param(
            {"sales.first_touch.within": 5},
            [
                "sales.first_touch.within: 5 is not a duration such as 14d; add its unit: 5s, "
                "5m, 5h or 5d"
            ],
            id="duration-without-unit-is-refused-rather-than-read-as-seconds",
        ),
        pytest.param(
            {"timezone": "Sao Paulo"},
            ['timezone: "Sao Paulo" is not an IANA time zone; did you mean America/Sao_Paulo?'],
            id="misspelt-time-zone-gets-the-iana-name",
        ),
        pytest.param(
            {"timezone": "BRT"},
            [
                'timezone: "BRT" is not an IANA time zone; use an IANA name such as '
                "America/Sao_Paulo"
            ],
            id="unknown-time-zone-gets-an-example",
        ),
        pytest.param(
            {"business_hours": {"mon-fri": "18:00-09:00"}},
            [
                'business_hours.mon-fri: "18:00-09:00" ends before it starts; hours run within '
                "one day, so split a night shift at 24:00"
            ],
            id="hours-ending-before-they-start-are-refused",
        ),
        pytest.param(
            {"business_hours": {"mon": "09:00-13:00,12:00-18:00"}},
            [
                'business_hours.mon: "09:00-13:00" and "12:00-18:00" overlap; list each stretch '
                "of time once"
            ],
            id="overlapping-intervals-are-refused",
        ),
        pytest.param(
            {"business_hours": {"mon-fri": "13:00-18:00,09:00-12:00"}},
            [
                'business_hours.mon-fri: "09:00-12:00" comes before "13:00-18:00"; list '
                'intervals in order of the day, such as "09:00-12:00,13:00-18:00"'
            ],
            id="intervals-out-of-order-are-refused",
        ),
        pytest.param(
            {
                "business_hours": {
                    "mon-fri": "09:00-18:00",
                    "fri-sat": "10:00-12:00",
                    "sundy": "10:00-12:00",
                }
            },
            [
                "business_hours.fri-sat: fri is already given by mon-fri; give each day once",
                'business_hours.sundy: "sundy" is not a day; did you mean sun? '
                "Use mon, tue, wed, thu, fri, sat or sun",
            ],
            id="day-given-twice-and-bad-day-name-are-each-reported",
        ),
        pytest.param(
            {"sales.first_touch.target": 90},
            ["sales.first_touch.target: 90 is more than 1; write shares as fractions such as 0.9"],
            id="share-written-as-a-percentage-is-refused",
        ),
        pytest.param(
            {"marketing.mqls_per_month": "derived"},
            [
                "marketing.mqls_per_month: derived needs a goals block (revenue_per_month, "
                "marketing_share, average_deal_size, mql_to_customer); add goals or give a "
                "number"
            ],
            id="derived-volume-without-goals-is-refused",
        ),
        pytest.param(
            {"funnel.salesforce": {"sql": {"status": ["Sales Qualified"]}}},
            [
                "funnel.salesforce.mql: missing; every source needs an mql stage, such as "
                'mql: {status: ["Marketing Qualified"]}'
            ],
            id="source-without-mql-stage-is-refused-with-that-crms-example",
        ),
        pytest.param(
            {
                "funnel.pipedrive": {"mql": {"stage": ["x"]}},
                "funnel.hubspot.sqll": {"stage": ["y"]},
            },
            [
                "funnel.hubspot.sqll: unknown stage; did you mean sql? "
                "Stages are mql, sql, opportunity, customer and recycled",
                "funnel.pipedrive: unknown source; sources are hubspot and salesforce",
            ],
            id="unknown-source-and-stage-names-are-refused",
        ),
    ],
)
def test_a_mistake_in_the_minimal_file_is_refused_with_the_whole_problem_list(
    changes: dict[str, Any], problems: list[str]
) -> None:
    data = with_changes(MINIMAL_DATA, **changes)

    assert problems_of(data) == problems


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = with_changes(
        example_data(),
        **{
            "holidays": ["2026-10-12", "2026-13-01"],
            "goals.marketing_share": 60,
            "sales.attempts.min": 0,
            "sales.attempts.channels": ["call", "sms"],
            "sales.recycle.grace": "0d",
            "name": None,
        },
    )

    assert problems_of(data) == [
        'name: missing; give the SLA a name, such as name: "Acme marketing–sales SLA 2026"',
        'holidays[1]: "2026-13-01" is not a date such as 2026-10-12',
        "goals.marketing_share: 60 is more than 1; write shares as fractions such as 0.9",
        "sales.attempts.min: 0 must be at least 1",
        'sales.attempts.channels[1]: "sms" is not a channel; use call, email, meeting, task, '
        "note or message",
        'sales.recycle.grace: "0d" must be longer than zero',
    ]


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: Acme\ntimezone: America/Sao_Paulo\nfunnel: [hubspot\n")

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert caught.value.problems == [
        f"{path}: YAML syntax error at line 4, column 1: expected ',' or ']', but got "
        "'<stream end>', while parsing a flow sequence from line 3, column 9; check the "
        "indentation and quoting there"
    ]


def test_key_written_twice_is_refused_instead_of_silently_keeping_the_last(
    tmp_path: Path,
) -> None:
    text = yaml.safe_dump(MINIMAL_DATA) + "timezone: Europe/London\n"
    path = write(tmp_path, text)

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("timezone: given twice (lines ")
    assert caught.value.problems[0].endswith("); keep one")


def test_missing_file_is_one_line_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "no-such-sla.yaml"

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert caught.value.problems == [
        f"{path}: no such file; check the path, or start from config/sla.example.yaml"
    ]


def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "- name\n- timezone\n")

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert caught.value.problems == [
        "the SLA file is a list, not a block of keys; it must be keys such as name:, "
        "timezone: and funnel: (start from config/sla.example.yaml)"
    ]
    assert str(caught.value).startswith(f"{path}: the SLA file is a list")


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    path = write(tmp_path, 'name: !!python/object/apply:os.system ["echo pwned"]\n')

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert "remove the tag; the SLA file is plain data" in caught.value.problems[0]


def test_validation_error_message_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(with_changes(MINIMAL_DATA, timezone="BRT")))

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert str(caught.value) == (
        f'{path}: timezone: "BRT" is not an IANA time zone; use an IANA name such as '
        "America/Sao_Paulo"
    )


def test_an_impossible_holiday_in_the_file_is_refused_naming_its_key(tmp_path: Path) -> None:
    # YAML would read 2026-02-29 as a date and fail inside the parser, naming no key.
    text = MINIMAL.read_text(encoding="utf-8") + "holidays: [2026-10-12, 2026-02-29]\n"
    path = write(tmp_path, text)

    with pytest.raises(SLAError) as caught:
        load_sla(path)

    assert str(caught.value) == (
        f'{path}: holidays[1]: "2026-02-29" is not a date such as 2026-10-12'
    )


def test_holidays_written_as_yaml_dates_still_load(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8") + "holidays:\n  - 2026-10-12\n"

    assert load_sla(write(tmp_path, text)).holidays.dates == [date(2026, 10, 12)]


# --------------------------------------------------------------------------- helpers


def test_opening_hours_for_weekdays_and_saturday_morning() -> None:
    hours = {"mon-fri": "09:00-12:00,13:00-18:00", "sat": "09:00-13:00"}
    sla = parse_sla(with_changes(MINIMAL_DATA, business_hours=hours))

    weekday = [(time(9), time(12)), (time(13), time(18))]
    assert sla.opening_hours() == {
        0: weekday,
        1: weekday,
        2: weekday,
        3: weekday,
        4: weekday,
        5: [(time(9), time(13))],
        6: [],
    }


def test_midnight_close_and_wrapping_day_ranges() -> None:
    sla = parse_sla(with_changes(MINIMAL_DATA, business_hours={"sun-tue": "22:00-24:00"}))

    hours = sla.opening_hours()
    assert hours is not None
    assert hours[6] == hours[0] == hours[1] == [(time(22), END_OF_DAY)]
    assert hours[2] == []


def test_end_of_day_is_the_calendars_sentinel() -> None:
    business_time = pytest.importorskip("audit.business_time")

    assert business_time.END_OF_DAY == END_OF_DAY


def test_warn_margin_uses_a_rules_own_block_before_the_default() -> None:
    data = with_changes(
        example_data(),
        **{
            "marketing.warn_margin": 0.2,
            "marketing.per_rep.warn_margin": 0.3,
            "sales.first_touch.warn_margin": 0.05,
            "sales.recycle.warn_margin": 0,
        },
    )
    sla = parse_sla(data)

    assert sla.warn_margin("speed_to_lead") == 0.05
    assert sla.warn_margin("mql_per_rep") == 0.3
    assert sla.warn_margin("recycling") == 0  # an explicit 0 is an override, not "unset"
    assert sla.warn_margin("attempts") == 0.2
    assert sla.warn_margin("coverage") == 0.2
    assert sla.warn_margin("mql_volume") == 0.2
    assert sla.warn_margin("conversion") == 0.2


def test_connected_outcomes_default_to_hubspots_connected_disposition() -> None:
    sla = parse_sla(MINIMAL_DATA)

    assert sla.connected_outcomes() == {CONNECTED_GUID, "connected"}
    assert HUBSPOT_DISPOSITION_LABELS[CONNECTED_GUID] == "Connected"
    assert BUILTIN_OUTCOMES["connected"] == [CONNECTED_GUID, "Connected"]


def test_connected_outcomes_from_the_file_replace_the_builtin() -> None:
    outcomes = {"connected": [" Talked to lead ", "CUSTOM-GUID-1"]}
    sla = parse_sla(with_changes(MINIMAL_DATA, **{"sales.outcomes": outcomes}))

    assert sla.connected_outcomes() == {"talked to lead", "custom-guid-1"}


def test_summary_states_the_key_numbers() -> None:
    text = summarize(load_sla(EXAMPLE))

    assert "\n" not in text
    assert "Marketing delivers 600 MQLs a month" in text
    assert "1,000,000 revenue × 0.6 ÷ 20,000 deal = 30 customers ÷ 0.05" in text
    assert "40 to 80 per rep" in text
    assert "within 5 business minutes" in text
    assert "09:00-12:00, 13:00-18:00 Mon-Fri, America/Sao_Paulo, BR-SP public holidays" in text
    assert "at least 5 attempts by call, email, meeting or message over 14 days" in text
    assert "at least 4 hours apart" in text
    assert "within 3 days after the window" in text
    assert "(UNQUALIFIED, BAD_TIMING, Recycled or Closed - Not Converted)" in text
    assert "90%" in text


def test_summary_of_a_24x7_sla_says_so() -> None:
    text = summarize(load_sla(MINIMAL))

    assert "within 5 minutes (24×7, America/Sao_Paulo)" in text
    assert "no monthly MQL volume target" in text


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("4h", timedelta(hours=4)),
        ("14d", timedelta(days=14)),
    ],
)
def test_durations_read_with_their_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert duration_code(expected) == text


def test_fractional_duration_suggests_a_whole_smaller_unit() -> None:
    with pytest.raises(ValueError, match=r'"1\.5h" is not a duration such as 14d; write it as 90m'):
        parse_duration("1.5h")


def test_durations_in_words() -> None:
    assert duration_words(timedelta(days=1)) == "1 day"
    assert duration_words(timedelta(minutes=90)) == "90 minutes"


def test_sla_built_in_python_accepts_timedeltas() -> None:
    data = with_changes(MINIMAL_DATA, **{"sales.attempts.window": timedelta(days=7)})

    assert SLA.model_validate(data).sales.attempts.window == timedelta(days=7)


def test_a_reason_field_may_name_a_crm_property_but_not_a_label(tmp_path):
    """Issue 15, item 4: a property's internal name is synced by ``sync --sla`` (and an
    audit of a snapshot that never synced it stops with the fix, tests/test_sla_fields_sync);
    a display label names nothing the CRM can be asked for, so it is refused here."""
    text = EXAMPLE.read_text(encoding="utf-8")
    named = text.replace("reason_field: status", "reason_field: hs_lead_disqualification_reason")
    assert load_sla(write(tmp_path, named)).sales.recycle.reason_field == (
        "hs_lead_disqualification_reason"
    )
    label = text.replace("reason_field: status", 'reason_field: "Disqualification Reason"')
    with pytest.raises(SLAError) as raised:
        load_sla(write(tmp_path, label))
    message = str(raised.value)
    assert "sales.recycle.reason_field" in message
    assert "Disqualification Reason" in message
    assert "internal name" in message and "inspect" in message


# -- holidays from the holidays package (issue 17, item 6) ---------------------------------


def test_a_country_and_subdivision_resolve_each_year_with_listed_dates(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "    # - 2026-02-16   # Carnaval (Monday)", "    - 2026-02-16"
    )
    sla = load_sla(write(tmp_path, text))
    days = sla.holidays.resolved([2026, 2027])
    # Good Friday moves with Easter (3 Apr 2026, 26 Mar 2027); 9 July is São Paulo's only.
    assert days[date(2026, 4, 3)] == "Good Friday"
    assert days[date(2027, 3, 26)] == "Good Friday"
    assert date(2027, 7, 9) in days
    assert days[date(2026, 2, 16)] == "listed in the SLA file"
    assert date(2026, 7, 9) not in load_sla(
        write(tmp_path, text.replace("  subdivision: SP\n", ""))
    ).holidays.dates_in([2026])


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("holidays: {country: XX}", "holidays: country 'XX' is not one the holidays package knows"),
        (
            "holidays: {country: BR, subdivision: ZZ}",
            "holidays: subdivision 'ZZ' is not one of BR's",
        ),
        ("holidays: {subdivision: SP}", "holidays: gives a subdivision without a country"),
        (
            "holidays: {country: BR, dates: [2026-02-30]}",
            'holidays.dates[0]: "2026-02-30" is not a date',
        ),
        ("holidays: {country: BR, region: SP}", "holidays.region"),
    ],
)
def test_a_bad_holidays_block_names_its_key(tmp_path, block, message):
    text = re.sub(r"(?ms)^holidays:\n.*?(?=^# The funnel|^funnel:|^\S)", "", EXAMPLE.read_text())
    with pytest.raises(SLAError) as caught:
        load_sla(write(tmp_path, block + "\n" + text))
    assert message in str(caught.value)


def test_check_lists_this_years_holidays(capsys):
    from run_audit import main

    assert main(["check", "--sla", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    year = datetime.now(load_sla(EXAMPLE).tz).year
    assert f"Holidays in {year}:" in out
    assert f"{year}-12-25" in out and "Christmas Day" in out
    assert "BR-SP public holidays" in out
