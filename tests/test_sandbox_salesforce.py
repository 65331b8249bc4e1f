"""The sandbox Salesforce over HTTPS, through the real simple-salesforce client.

Each test reads as what a connector author would rely on: paging, deleted rows, SOQL
filters and errors, the API allowance, Bulk 2.0 paging and every injectable fault.
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)
from simple_salesforce.util import Usage

from sandbox.generator import CRM, generate_crm, iter_handoffs
from sandbox.salesforce_model import (
    MARKETING_QUALIFIED,
    lead_id,
    number_of,
)
from sandbox.salesforce_server import SalesforceSandbox, sandbox_session

END = datetime(2026, 10, 15, 12, tzinfo=UTC)
V = "/services/data/v59.0"
SF_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
BATCH_500 = {"Sforce-Query-Options": "batchSize=500"}


@pytest.fixture(scope="module")
def crm() -> CRM:
    return generate_crm(1000, seed=5, end=END)


@pytest.fixture(scope="module")
def sandbox(crm: CRM) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(crm) as sb:
        yield sb


@pytest.fixture
def sb(sandbox: SalesforceSandbox) -> SalesforceSandbox:
    sandbox.reset_counters()
    return sandbox


@pytest.fixture
def sf(sb: SalesforceSandbox) -> Salesforce:
    return sb.client()


def sf_time(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}+0000"


def soql_time(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


# --------------------------------------------------------------------------- connecting


def test_simple_salesforce_connects_over_https_with_the_sandbox_ca(sb: SalesforceSandbox) -> None:
    assert sb.instance_url.startswith("https://127.0.0.1:")
    session = sandbox_session(sb.ca_path)
    assert session.trust_env is False and session.verify == sb.ca_path
    sf = Salesforce(session_id=sb.session_id, instance_url=sb.instance_url, session=session)
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 9  # 8 reps + integration user


def test_records_use_salesforce_formats(sf: Salesforce) -> None:
    result = sf.query(
        "SELECT Id, CreatedDate, ConvertedDate, IsConverted, OwnerId FROM Lead "
        "WHERE IsConverted = true LIMIT 1"
    )
    [record] = result["records"]
    assert record["attributes"] == {"type": "Lead", "url": f"{V}/sobjects/Lead/{record['Id']}"}
    assert SF_DATETIME.match(record["CreatedDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["ConvertedDate"])
    assert record["IsConverted"] is True
    assert len(record["Id"]) == 18 and record["OwnerId"][:3] in ("005", "00G")


# --------------------------------------------------------------------------- paging


def test_query_pages_follow_next_records_url_in_the_requested_batch_size(
    sb: SalesforceSandbox, sf: Salesforce
) -> None:
    live_tasks = int((~sb.org().table("Task").boolean("IsDeleted")).sum())
    first = sf.query("SELECT Id FROM Task", headers=BATCH_500)
    assert first["totalSize"] == live_tasks and first["done"] is False
    assert len(first["records"]) == 500
    assert re.fullmatch(rf"{V}/query/01g\w{{15}}-500", first["nextRecordsUrl"])
    ids = [r["Id"] for r in sf.query_all_iter("SELECT Id FROM Task", headers=BATCH_500)]
    assert len(ids) == len(set(ids)) == live_tasks
    assert ids == sorted(ids)  # no ORDER BY: Id order
    # one query + one queryMore per further page, for each of the two runs
    pages = math.ceil(live_tasks / 500)
    assert sb.requests[f"GET {V}/query"] == 2
    assert sb.requests[f"GET {V}/query/<locator>"] == pages - 1


def test_batch_size_is_kept_between_200_and_2000(sf: Salesforce) -> None:
    small = sf.query("SELECT Id FROM Task", headers={"Sforce-Query-Options": "batchSize=10"})
    assert len(small["records"]) == 200
    default = sf.query("SELECT Id FROM Task")
    assert len(default["records"]) == 2000


def test_an_unknown_query_locator_is_invalid(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01g5g0000000zzzAAA-2000")
    assert caught.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_all_sees_deleted_leads_and_query_does_not(crm: CRM, sf: Salesforce) -> None:
    deleted = {lead_id(lead.key) for lead in crm.leads if lead.archived}
    assert deleted
    soql = "SELECT Id, IsDeleted FROM Lead WHERE IsDeleted = true"
    assert sf.query(soql)["totalSize"] == 0
    every = sf.query_all(soql, include_deleted=True)["records"]
    assert {r["Id"] for r in every} == deleted
    assert all(r["IsDeleted"] is True for r in every)
    assert sf.query("SELECT COUNT() FROM Lead")["totalSize"] == len(crm.leads) - len(deleted)


def test_query_all_next_records_url_keeps_deleted_rows(crm: CRM, sf: Salesforce) -> None:
    result = sf.query_all(
        "SELECT Id FROM Lead",
        include_deleted=True,
        headers={"Sforce-Query-Options": "batchSize=200"},
    )
    assert result["totalSize"] == len(crm.leads)


# --------------------------------------------------------------------------- SOQL


def test_where_on_datetimes_strings_and_booleans_with_and_or(
    sb: SalesforceSandbox, sf: Salesforce
) -> None:
    facts = sb.org().facts.values()
    low, high = datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    soql = (
        "SELECT Id FROM Lead WHERE CreatedDate >= "
        f"{soql_time(low)} AND CreatedDate < {soql_time(high)} "
        "AND (Status = 'marketing qualified' OR IsConverted = true)"
    )
    got = {r["Id"] for r in sf.query_all(soql)["records"]}
    expected = {
        lead_id(f.lead.key)
        for f in facts
        if low <= f.created_at < high
        and not f.lead.archived
        and (f.status == MARKETING_QUALIFIED or f.converted_at is not None)
    }
    assert got == expected and expected


def test_order_by_and_limit(sb: SalesforceSandbox, sf: Salesforce) -> None:
    result = sf.query("SELECT Id, CreatedDate FROM Lead ORDER BY CreatedDate DESC, Id LIMIT 5")
    live = [f for f in sb.org().facts.values() if not f.lead.archived]
    live.sort(key=lambda f: (-f.created_at.timestamp(), f.lead.key))
    assert result["totalSize"] == 5 and result["done"] is True
    assert [r["Id"] for r in result["records"]] == [lead_id(f.lead.key) for f in live[:5]]
    assert [r["CreatedDate"] for r in result["records"]] == [
        sf_time(f.created_at) for f in live[:5]
    ]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE IsDeleted = false AND Status = 'x' OR Status = 'y'",
         "MALFORMED_QUERY"),
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Leads", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE CreatedDate > '2026-10-01T00:00:00Z'", "INVALID_FIELD"),
        ("SELECT Id FROM LeadHistory WHERE NewValue = 'Recycled'", "INVALID_FIELD"),
    ],
)  # fmt: skip
def test_refused_soql_raises_malformed_request_with_salesforce_body(
    sf: Salesforce, soql: str, code: str
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert caught.value.status == 400
    [error] = caught.value.content
    assert set(error) == {"message", "errorCode"} and error["errorCode"] == code
    assert "ERROR at Row:1:Column:" in error["message"]


# --------------------------------------------------------------------------- auth, limits


def test_a_wrong_session_is_an_expired_session(sb: SalesforceSandbox) -> None:
    stranger = Salesforce(
        session_id="not-the-session",
        instance_url=sb.instance_url,
        session=sandbox_session(sb.ca_path),
    )
    used = sb.api_usage
    with pytest.raises(SalesforceExpiredSession) as caught:
        stranger.query("SELECT Id FROM User")
    assert caught.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    assert sb.api_usage == used  # refused requests are not API calls


def test_set_token_expires_the_old_session(crm: CRM) -> None:
    with SalesforceSandbox(crm) as sb:
        old = sb.client()
        sb.set_token("fresh-session")
        with pytest.raises(SalesforceExpiredSession):
            old.query("SELECT Id FROM User")
        assert sb.client().query("SELECT COUNT() FROM User")["totalSize"] == 9


def test_api_usage_is_reported_on_every_answer_and_by_limits(sb: SalesforceSandbox) -> None:
    sf = sb.client()
    sf.query("SELECT Id FROM User LIMIT 1")
    assert sf.api_usage["api-usage"] == Usage(sb.api_usage, 15_000)
    limits = sf.limits()
    assert limits["DailyApiRequests"] == {"Max": 15_000, "Remaining": 15_000 - sb.api_usage}
    assert sb.requests[f"GET {V}/limits"] == 1
    raw = sandbox_session(sb.ca_path).get(f"{sb.instance_url}{V}/query", params={"q": "x"})
    assert raw.status_code == 401
    assert raw.headers["Sforce-Limit-Info"] == f"api-usage={sb.api_usage}/15000"


def test_past_the_daily_limit_requests_are_refused(crm: CRM) -> None:
    with SalesforceSandbox(crm, daily_limit=3) as sb:
        sf = sb.client()
        for _ in range(3):
            sf.query("SELECT Id FROM User LIMIT 1")
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query("SELECT Id FROM User LIMIT 1")
        assert caught.value.content == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]
        assert sb.api_usage == 3
        sb.reset_api_usage()
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 9


# --------------------------------------------------------------------------- Bulk 2.0


def _csv_rows(pages: list[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for page in pages:
        out.extend(csv.DictReader(io.StringIO(page)))
    return out


def test_bulk2_query_pages_with_the_locator(crm: CRM, sb: SalesforceSandbox) -> None:
    sf = sb.client()
    soql = "SELECT Id, Status, IsConverted, CreatedDate, ConvertedDate FROM Lead"
    pages = list(sf.bulk2.Lead.query(soql, max_records=300, wait=0))
    live = [lead for lead in crm.leads if not lead.archived]
    assert len(pages) == math.ceil(len(live) / 300)
    rows = _csv_rows(pages)
    assert [number_of(r["Id"]) for r in rows] == [lead.key for lead in live]
    assert pages[0].startswith('"Id","Status","IsConverted","CreatedDate","ConvertedDate"\n')
    assert {r["IsConverted"] for r in rows} == {"true", "false"}
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["CreatedDate"]) for r in rows
    )
    assert sb.requests[f"POST {V}/jobs/query"] == 1
    assert sb.requests[f"GET {V}/jobs/query/<id>"] == 1
    assert sb.requests[f"GET {V}/jobs/query/<id>/results"] == len(pages)


def test_bulk2_results_headers_and_query_all(crm: CRM, sb: SalesforceSandbox) -> None:
    session = sandbox_session(sb.ca_path)
    auth = {"Authorization": f"Bearer {sb.session_id}"}
    job = session.post(
        f"{sb.instance_url}{V}/jobs/query",
        json={"operation": "queryAll", "query": "SELECT Id, IsDeleted FROM Lead"},
        headers=auth,
    ).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    info = session.get(f"{sb.instance_url}{V}/jobs/query/{job['id']}", headers=auth).json()
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == len(crm.leads)
    url = f"{sb.instance_url}{V}/jobs/query/{job['id']}/results"
    first = session.get(url, params={"maxRecords": 600}, headers=auth)
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "600"
    locator = first.headers["Sforce-Locator"]
    assert locator not in ("", "null")
    last = session.get(url, params={"maxRecords": 600, "locator": locator}, headers=auth)
    assert last.headers["Sforce-NumberOfRecords"] == str(len(crm.leads) - 600)
    assert last.headers["Sforce-Locator"] == "null"
    rows = _csv_rows([first.text, last.text])
    assert sum(r["IsDeleted"] == "true" for r in rows) == sum(lead.archived for lead in crm.leads)


def test_bulk2_waits_while_the_job_is_in_progress(crm: CRM) -> None:
    with SalesforceSandbox(crm, bulk_polls_in_progress=2) as sb:
        pages = list(sb.client().bulk2.User.query("SELECT Id, Name FROM User", wait=0))
        assert len(_csv_rows(pages)) == 9
        assert sb.requests[f"GET {V}/jobs/query/<id>"] == 3  # InProgress, InProgress, done


# --------------------------------------------------------------------------- faults


def test_a_5xx_fault_answers_a_salesforce_error_then_recovers(sb: SalesforceSandbox) -> None:
    sf = sb.client()
    used = sb.api_usage
    sb.inject("status", status=503, path_contains="/query")
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.status == 503
    assert caught.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sb.api_usage == used
    sb.inject("status", status=500)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM User")
    assert caught.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 9
    assert sb.pending_faults() == 0


def test_a_reset_fault_drops_the_connection(sb: SalesforceSandbox) -> None:
    sf = sb.client()
    sb.inject("reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM User")
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 9


def test_a_slow_fault_answers_late_but_right(sb: SalesforceSandbox) -> None:
    sf = sb.client()
    sb.inject("slow", delay_s=0.3)
    started = time.monotonic()
    assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 9
    assert time.monotonic() - started >= 0.3


def test_a_malformed_fault_cuts_the_body(sb: SalesforceSandbox) -> None:
    sf = sb.client()
    sb.inject("malformed")
    with pytest.raises(ValueError):
        sf.query("SELECT Id, Name FROM User")


def test_an_unauthorized_fault_is_an_expired_session(sb: SalesforceSandbox) -> None:
    sb.inject("unauthorized")
    with pytest.raises(SalesforceExpiredSession) as caught:
        sb.client().query("SELECT Id FROM User")
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_a_request_limit_fault_is_a_refused_request(sb: SalesforceSandbox) -> None:
    sb.inject("request_limit", path_contains="jobs/query")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        list(sb.client().bulk2.User.query("SELECT Id FROM User", wait=0))
    assert caught.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_a_query_timeout_fault(sb: SalesforceSandbox) -> None:
    sb.inject("query_timeout")
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sb.client().query("SELECT Id FROM Task")
    assert caught.value.content == [
        {"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"}
    ]


def test_query_timeouts_spare_a_narrowed_window(crm: CRM) -> None:
    with SalesforceSandbox(crm, query_timeout_over_days=14) as sb:
        sf = sb.client()
        sb.inject("query_timeout", count=100)
        with pytest.raises(SalesforceMalformedRequest):
            sf.query("SELECT Id FROM Task ORDER BY SystemModstamp")
        start = END - timedelta(days=40)
        with pytest.raises(SalesforceMalformedRequest):
            sf.query(f"SELECT Id FROM Task WHERE SystemModstamp >= {soql_time(start)}")
        narrow = (
            f"SELECT Id FROM Task WHERE SystemModstamp >= {soql_time(start)} "
            f"AND SystemModstamp < {soql_time(start + timedelta(days=10))}"
        )
        assert sf.query(narrow)["totalSize"] > 0
        recent = f"SELECT Id FROM Task WHERE SystemModstamp >= {soql_time(END - timedelta(days=7))}"
        assert sf.query(recent)["totalSize"] > 0
        assert sf.query("SELECT Id FROM LeadStatus")["totalSize"] == 7
        assert sb.pending_faults() == 98


# --------------------------------------------------------------------------- the funnel


def test_a_lead_created_as_marketing_qualified_has_no_status_history_row(
    sb: SalesforceSandbox, sf: Salesforce
) -> None:
    facts = next(f for f in sb.org().facts.values() if f.direct_mql and not f.lead.archived)
    lid = lead_id(facts.lead.key)
    [lead] = sf.query(f"SELECT CreatedDate FROM Lead WHERE Id = '{lid}'")["records"]
    [handoff, *_] = iter_handoffs(facts.lead)
    assert lead["CreatedDate"] == sf_time(handoff)
    history = sf.query(
        f"SELECT Field, OldValue, NewValue, CreatedDate FROM LeadHistory WHERE LeadId = '{lid}' "
        "ORDER BY CreatedDate"
    )["records"]
    assert history[0]["Field"] == "created"
    assert not any(
        h["Field"] == "Status" and h["CreatedDate"] == lead["CreatedDate"] for h in history
    )
    status_rows = [h for h in history if h["Field"] == "Status"]
    if status_rows:
        assert status_rows[0]["OldValue"] == MARKETING_QUALIFIED


def test_every_generator_mql_is_visible_as_an_entry_into_marketing_qualified(
    crm: CRM, sf: Salesforce
) -> None:
    # What a connector can see: the initial status is the first Status row's OldValue, or
    # the current Status when there is no Status row; entries are CreatedDate (initial
    # status MQL) plus every Status row whose NewValue is "Marketing Qualified".
    leads = {
        r["Id"]: r
        for r in sf.query_all("SELECT Id, Status, CreatedDate FROM Lead", include_deleted=True)[
            "records"
        ]
    }
    rows = sf.query_all(
        "SELECT LeadId, OldValue, NewValue, CreatedDate FROM LeadHistory "
        "WHERE Field = 'Status' ORDER BY LeadId, CreatedDate",
        include_deleted=True,
    )["records"]
    by_lead: dict[str, list[dict]] = {}
    for row in rows:
        by_lead.setdefault(row["LeadId"], []).append(row)
    handoffs = 0
    for generated in crm.leads:
        lid = lead_id(generated.key)
        history = by_lead.get(lid, [])
        initial = history[0]["OldValue"] if history else leads[lid]["Status"]
        seen = [leads[lid]["CreatedDate"]] if initial == MARKETING_QUALIFIED else []
        seen += [h["CreatedDate"] for h in history if h["NewValue"] == MARKETING_QUALIFIED]
        expected = [sf_time(at) for at in iter_handoffs(generated)]
        handoffs += len(expected)
        assert seen == expected, generated.key
    assert handoffs > 300


def test_crm_changes_show_on_the_next_query() -> None:
    crm = generate_crm(50, seed=2, end=END)
    with SalesforceSandbox(crm) as sb:
        sf = sb.client()
        lead = next(lead for lead in crm.leads if not lead.archived)
        at = END + timedelta(hours=2)
        crm.touch_lead(lead.key, at, stage="marketingqualifiedlead", status="NEW", owner_key=3)
        soql = f"SELECT Id, Status, OwnerId FROM Lead WHERE SystemModstamp >= {soql_time(at)}"
        [changed] = sf.query(soql)["records"]
        assert changed["Id"] == lead_id(lead.key)
        assert changed["Status"] == MARKETING_QUALIFIED
        history = sf.query(
            f"SELECT Field, NewValue FROM LeadHistory WHERE CreatedDate >= {soql_time(at)}"
        )["records"]
        assert {"Status", "Owner"} <= {h["Field"] for h in history}
