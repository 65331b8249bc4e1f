"""The generated CRM as Salesforce objects, and the SOQL the sandbox Salesforce answers.

No server here: the object model (ids, statuses, history, conversion, activities) and the
SOQL parser/evaluator, tested directly. The HTTPS sandbox has its own test file.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from sandbox.generator import CRM, generate_crm, iter_handoffs
from sandbox.salesforce_model import (
    CONVERTED,
    MARKETING_QUALIFIED,
    Org,
    build_org,
    contact_id,
    lead_id,
    local_date,
    mql_entries,
    number_of,
    opportunity_id,
    queue_id,
    sf_id,
    task_id,
    user_id,
)
from sandbox.soql import FieldSpec, SoqlError, Table, bind, execute, parse

END = datetime(2026, 10, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def crm() -> CRM:
    return generate_crm(800, seed=11, end=END)


@pytest.fixture(scope="module")
def org(crm: CRM) -> Org:
    return build_org(crm)


def rows(org: Org, soql: str, include_deleted: bool = False) -> list[dict]:
    bound = bind(parse(soql), org.tables)
    positions = execute(bound, include_deleted)
    table = bound.table
    return [
        {spec.name: table.render(spec.name, positions[i : i + 1])[0] for spec in bound.fields}
        for i in range(len(positions))
    ]


# --------------------------------------------------------------------------- ids


def test_ids_are_18_characters_with_the_documented_case_suffix() -> None:
    # Salesforce's docs show 001D000000IRFma as 001D000000IRFmaIAH.
    from sandbox.soql import id_suffix

    assert id_suffix("001D000000IRFma") == "IAH"
    lead = lead_id(42)
    assert len(lead) == 18 and lead.startswith("00Q")
    assert number_of(lead) == 42
    assert user_id(3).startswith("005") and task_id(3).startswith("00T")
    assert contact_id(3).startswith("003") and opportunity_id(3).startswith("006")


def test_id_order_is_record_number_order() -> None:
    ids = [sf_id("00T", n) for n in range(0, 200_000, 97)]
    assert ids == sorted(ids)


# --------------------------------------------------------------------------- leads


def test_every_generator_mql_is_an_entry_into_marketing_qualified(crm: CRM, org: Org) -> None:
    handoffs = 0
    for lead in crm.leads:
        expected = list(iter_handoffs(lead))
        handoffs += len(expected)
        assert mql_entries(org.facts[lead.key]) == expected, lead.key
    assert handoffs > 200


def test_a_lead_created_as_marketing_qualified_has_no_status_row_for_that_entry(
    crm: CRM, org: Org
) -> None:
    direct = [f for f in org.facts.values() if f.direct_mql]
    assert len(direct) > 30  # the form submission itself qualifies ~45% of MQLs
    for facts in direct:
        assert facts.initial_status == MARKETING_QUALIFIED
        [handoff, *_] = iter_handoffs(facts.lead)
        assert facts.created_at == handoff
        status_rows = [r for r in facts.history if r.field == "Status"]
        assert all(r.new != MARKETING_QUALIFIED or r.at > handoff for r in status_rows)
        assert facts.history[0].field == "created" and facts.history[0].at == handoff


def test_lead_rows_carry_status_owner_and_conversion(org: Org) -> None:
    converted = [f for f in org.facts.values() if f.converted_at is not None]
    assert converted
    facts = converted[0]
    [row] = rows(
        org,
        "SELECT Id, Status, IsConverted, ConvertedDate, ConvertedContactId, "
        f"ConvertedOpportunityId FROM Lead WHERE Id = '{lead_id(facts.lead.key)}'",
    )
    assert row["Status"] == CONVERTED and row["IsConverted"] is True
    assert row["ConvertedDate"] == local_date(facts.converted_at).isoformat()
    assert row["ConvertedContactId"] == contact_id(facts.lead.key)
    history = rows(
        org,
        f"SELECT Field, OldValue, NewValue FROM LeadHistory WHERE LeadId = "
        f"'{lead_id(facts.lead.key)}' ORDER BY CreatedDate",
    )
    fields = [h["Field"] for h in history]
    assert fields[0] == "created" and fields[-1] == "leadConverted"
    assert history[-2]["NewValue"] == CONVERTED
    assert "Sales Qualified" in [h["NewValue"] for h in history]


def test_customers_have_a_won_opportunity(org: Org) -> None:
    won = [f for f in org.facts.values() if f.won_at is not None]
    assert won
    ids = ", ".join(f"'{opportunity_id(f.lead.key)}'" for f in won)
    opps = rows(org, f"SELECT Id, StageName, IsWon, CloseDate FROM Opportunity WHERE Id IN ({ids})")
    assert len(opps) == len(won)
    assert all(o["IsWon"] and o["StageName"] == "Closed Won" for o in opps)


def test_an_owner_change_writes_an_id_row_and_a_name_row(org: Org) -> None:
    changes = rows(
        org,
        "SELECT LeadId, DataType, OldValue, NewValue, CreatedDate FROM LeadHistory "
        "WHERE Field = 'Owner' ORDER BY LeadId, CreatedDate",
    )
    assert changes
    by_id = [c for c in changes if c["DataType"] == "EntityId"]
    by_name = [c for c in changes if c["DataType"] == "Text"]
    assert len(by_id) == len(by_name)
    assert all(c["NewValue"][:3] in ("005", "00G") for c in by_id)
    assert {c["NewValue"] for c in by_name} <= {
        "Ana Souza", "Bruno Lima", "Carla Mendes", "Diego Alves", "Elisa Rocha",
        "Felipe Costa", "Gabriela Nunes", "Hugo Ferreira", "Inbound Lead Queue",
    }  # fmt: skip


def test_unassigned_leads_belong_to_the_queue(crm: CRM, org: Org) -> None:
    unassigned = [lead for lead in crm.leads if lead.owner_key is None]
    assert unassigned
    owners = rows(org, f"SELECT OwnerId FROM Lead WHERE Id = '{lead_id(unassigned[0].key)}'")
    assert owners == [{"OwnerId": queue_id()}]


def test_deleted_leads_and_their_activities_only_show_to_query_all(crm: CRM, org: Org) -> None:
    deleted = [lead for lead in crm.leads if lead.archived]
    assert deleted
    visible = rows(org, "SELECT Id FROM Lead WHERE IsDeleted = true")
    every = rows(org, "SELECT Id FROM Lead WHERE IsDeleted = true", include_deleted=True)
    assert visible == []
    assert {r["Id"] for r in every} == {lead_id(lead.key) for lead in deleted}
    unconverted = [lead for lead in deleted if org.facts[lead.key].converted_at is None]
    acts = [a for a in crm.activities if a.lead_keys[0] in {lead.key for lead in unconverted}]
    acts = [a for a in acts if a.kind in ("call", "email", "task")]
    if acts:
        [task] = rows(org, f"SELECT IsDeleted FROM Task WHERE Id = '{task_id(acts[0].key)}'", True)
        assert task["IsDeleted"] is True


def test_conversion_moves_activities_to_the_contact(crm: CRM, org: Org) -> None:
    facts = next(f for f in org.facts.values() if f.converted_at is not None)
    calls = [a for a in crm.activities if a.lead_keys[0] == facts.lead.key and a.kind == "call"]
    assert calls
    tasks = rows(
        org,
        f"SELECT WhoId, WhatId, SystemModstamp FROM Task WHERE WhoId = "
        f"'{contact_id(facts.lead.key)}'",
    )
    assert len(tasks) >= len(calls)
    assert {t["WhatId"] for t in tasks} == {opportunity_id(facts.lead.key)}
    assert rows(org, f"SELECT Id FROM Task WHERE WhoId = '{lead_id(facts.lead.key)}'") == []


def test_calls_map_to_tasks_with_salesforce_call_fields(crm: CRM, org: Org) -> None:
    call = next(a for a in crm.activities if a.kind == "call" and a.duration_ms)
    [task] = rows(
        org,
        "SELECT TaskSubtype, CallType, CallDisposition, CallDurationInSeconds, Status, "
        f"IsClosed, CompletedDateTime, CreatedDate FROM Task WHERE Id = '{task_id(call.key)}'",
    )
    assert task["TaskSubtype"] == "Call" and task["Status"] == "Completed" and task["IsClosed"]
    assert task["CallType"] in ("Inbound", "Outbound")
    assert task["CallDurationInSeconds"] == call.duration_ms // 1000
    assert task["CompletedDateTime"] == task["CreatedDate"]
    dispositions = {r["CallDisposition"] for r in rows(org, "SELECT CallDisposition FROM Task")}
    assert {"Connected", "No answer", "Left voicemail", "Busy", "Wrong number"} <= dispositions


def test_a_lead_added_directly_as_mql_has_no_status_history() -> None:
    crm = generate_crm(50, seed=3, end=END)
    at = END + timedelta(hours=1)
    lead = crm.add_lead(at, stage="marketingqualifiedlead", status="NEW", owner_key=1)
    facts = build_org(crm).facts[lead.key]
    assert facts.initial_status == MARKETING_QUALIFIED and facts.created_at == at
    assert [r.field for r in facts.history] == ["created"]
    crm.touch_lead(lead.key, at + timedelta(minutes=3), status="ATTEMPTED_TO_CONTACT")
    facts = build_org(crm).facts[lead.key]
    assert [(r.field, r.old, r.new) for r in facts.history] == [
        ("created", None, None),
        ("Status", MARKETING_QUALIFIED, "Working - Contacted"),
    ]


# --------------------------------------------------------------------------- SOQL


@pytest.fixture(scope="module")
def people() -> dict[str, Table]:
    specs = [
        FieldSpec("Id", "id"),
        FieldSpec("Name", "string"),
        FieldSpec("Status", "picklist"),
        FieldSpec("Score", "int"),
        FieldSpec("Active", "boolean"),
        FieldSpec("Seen", "datetime"),
        FieldSpec("Due", "date"),
        FieldSpec("IsDeleted", "boolean"),
        FieldSpec("NewValue", "anyType", filterable=False, sortable=False),
    ]
    t0 = datetime(2026, 10, 1, tzinfo=UTC)
    cols = {
        "Id": [sf_id("00Q", n) for n in range(1, 7)],
        "Name": ["ana", "Bruno", "carla", None, "Diego", "elisa"],
        "Status": ["Open", "open", "Working", None, "Closed", "Open"],
        "Score": [10, 20, None, 40, 50, 60],
        "Active": [True, False, True, True, False, True],
        "Seen": [t0, t0 + timedelta(hours=1), None, t0 + timedelta(days=1), t0, t0],
        "Due": [date(2026, 10, 1), None, date(2026, 10, 3), None, None, None],
        "IsDeleted": [False, False, False, False, False, True],
        "NewValue": ["a", "b", "c", "d", "e", "f"],
    }
    return {"person": Table("Person", specs, cols)}


def names(tables: dict[str, Table], soql: str, include_deleted: bool = False) -> list:
    bound = bind(parse(soql), tables)
    return bound.table.render("Name", execute(bound, include_deleted))


def test_datetime_literals_in_every_documented_spelling_mean_the_same_instant(people) -> None:
    spellings = [
        "2026-10-01T00:30:00Z",
        "2026-10-01T00:30:00.000Z",
        "2026-10-01T00:30:00+0000",
        "2026-10-01T00:30:00.000+00:00",
        "2026-09-30T21:30:00-03:00",
    ]
    results = {s: names(people, f"SELECT Name FROM Person WHERE Seen > {s}") for s in spellings}
    assert all(r == ["Bruno", None] for r in results.values()), results


def test_string_equality_ignores_case_and_not_equal_includes_nulls(people) -> None:
    assert names(people, "SELECT Name FROM Person WHERE Status = 'OPEN'") == ["ana", "Bruno"]
    # != matches the null status (row 4) as Salesforce does; deleted row 6 never shows.
    assert names(people, "SELECT Name FROM Person WHERE Status != 'open'") == [
        "carla",
        None,
        "Diego",
    ]
    assert names(people, "SELECT Name FROM Person WHERE Status = null") == [None]


def test_and_or_with_parentheses_booleans_in_and_like(people) -> None:
    soql = (
        "SELECT Name FROM Person WHERE (Active = true AND Score >= 10) "
        "OR (Status IN ('Closed') AND NOT Name LIKE 'x%')"
    )
    assert names(people, soql) == ["ana", None, "Diego"]
    assert names(people, "SELECT Name FROM Person WHERE Name LIKE '_r%'") == ["Bruno"]
    assert names(people, "SELECT Name FROM Person WHERE Status NOT IN ('open', 'closed')") == [
        "carla",
        None,
    ]
    assert names(people, "SELECT Name FROM Person WHERE Due = 2026-10-03") == ["carla"]


def test_order_by_nulls_and_limit_offset(people) -> None:
    assert names(people, "SELECT Name FROM Person ORDER BY Name") == [
        None,
        "ana",
        "Bruno",
        "carla",
        "Diego",
    ]
    # DESC puts nulls last: 50 (Diego), 40 (the nameless row), then …
    assert names(people, "SELECT Name FROM Person ORDER BY Score DESC LIMIT 2") == [
        "Diego",
        None,
    ]
    assert names(people, "SELECT Name FROM Person ORDER BY Seen, Id LIMIT 2 OFFSET 1") == [
        "ana",
        "Diego",
    ]
    assert names(people, "SELECT Name FROM Person ORDER BY Seen DESC NULLS LAST") == [
        None,
        "Bruno",
        "ana",
        "Diego",
        "carla",
    ]
    assert names(people, "SELECT Name FROM Person ORDER BY Seen", include_deleted=True) == [
        "carla",
        "ana",
        "Diego",
        "elisa",
        "Bruno",
        None,
    ]


@pytest.mark.parametrize(
    ("soql", "code", "needle"),
    [
        ("SELECT Name FROM Person WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        (
            "SELECT Name FROM Person WHERE Score = 1 AND Score = 2 OR Score = 3",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        ("SELECT Nope FROM Person", "INVALID_FIELD", "No such column 'Nope' on entity 'Person'"),
        ("SELECT Name FROM Persona", "INVALID_TYPE", "sObject type 'Persona' is not supported"),
        (
            "SELECT Name FROM Person WHERE Seen > '2026-10-01T00:00:00Z'",
            "INVALID_FIELD",
            "must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "SELECT Name FROM Person WHERE Seen > 2026-10-01",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        ("SELECT Name FROM Person WHERE Active = 'true'", "INVALID_FIELD", "type boolean"),
        ("SELECT Name FROM Person WHERE NewValue = 'a'", "INVALID_FIELD", "can not be filtered"),
        ("SELECT Name FROM Person OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "2000"),
        ("SELECT Owner.Name FROM Person", "INVALID_FIELD", "Didn't understand relationship"),
    ],
)
def test_refused_queries_get_salesforce_error_codes(people, soql, code, needle) -> None:
    with pytest.raises(SoqlError) as caught:
        bind(parse(soql), people)
    assert caught.value.code == code
    assert needle in caught.value.message
    assert "ERROR at Row:1:Column:" in caught.value.message


def test_windowed_order_by_matches_a_brute_force_scan(org: Org) -> None:
    table = org.table("Task")
    stamps = table.numeric("SystemModstamp")
    deleted = table.boolean("IsDeleted")
    low = datetime(2026, 8, 1, tzinfo=UTC)
    high = datetime(2026, 9, 1, tzinfo=UTC)
    soql = (
        "SELECT Id FROM Task WHERE SystemModstamp >= 2026-08-01T00:00:00Z AND "
        "SystemModstamp < 2026-09-01T00:00:00Z AND TaskSubtype != 'Email' "
        "ORDER BY SystemModstamp, Id"
    )
    got = execute(bind(parse(soql), org.tables), False)
    lo_ms, hi_ms = low.timestamp() * 1000, high.timestamp() * 1000
    subtype = table.raw_text("TaskSubtype")
    expected = [
        p
        for p in range(table.size)
        if lo_ms <= stamps[p] < hi_ms and not deleted[p] and subtype[p] != "Email"
    ]
    expected.sort(key=lambda p: (stamps[p], p))
    assert got.tolist() == expected
    assert len(expected) > 50
    assert np.all(np.diff(stamps[got]) >= 0)


def test_a_merged_lead_is_deleted_with_its_master_record() -> None:
    crm = generate_crm(50, seed=3, end=END)
    if not hasattr(crm, "merge_leads"):
        pytest.skip("this generator has no lead merges")
    crm.merge_leads(1, 2, END + timedelta(hours=1))
    org = build_org(crm)
    assert rows(org, "SELECT Id FROM Lead WHERE Id = '" + lead_id(2) + "'") == []
    [merged] = rows(
        org, "SELECT IsDeleted, MasterRecordId FROM Lead WHERE MasterRecordId != null", True
    )
    assert merged == {"IsDeleted": True, "MasterRecordId": lead_id(1)}
