"""Single Salesforce exchanges, canned with ``responses`` (simple-salesforce speaks
``requests``): refusals, retries, QUERY_TIMEOUT narrowing, Bulk API 2.0 paging, the
``Sforce-Limit-Info`` budget, logins and the TLS session — and the funnel mapping of a
tiny org whose every record is written out here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from config.settings import Settings
from connectors.core import RetryPolicy
from connectors.salesforce import (
    SESSION_FIX,
    SalesforceOptions,
    tls_session,
)
from connectors.sync import SyncError, SyncSummary, sync_source
from snapshot.store import SnapshotStore
from tests.conftest import VirtualClock

HOST = "https://acme.my.salesforce.com"
DATA = f"{HOST}/services/data/v59.0"
TOKEN = "00DAc000001xYz9!AQ0AQHl7Gx4fakesession.W2xqYpN0mZbLrVtK3jC8sUe5dHfA1oIg"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


Answer = tuple[int, dict[str, str], str]


class FakeOrg:
    """An org behind ``responses``: each SOQL query answers the records of its object.

    ``refuse[object]`` holds answers to give first (status, body) for that object's
    queries; ``window`` (optional) filters records by the query's SystemModstamp bounds;
    every answer carries ``Sforce-Limit-Info`` with the running count of ``used``.
    """

    def __init__(self, mock: responses.RequestsMock, *, used: int = 10, allowance: int = 15_000):
        self.mock = mock
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.refuse: dict[str, list[tuple[int, Any]]] = {}
        self.queries: list[str] = []
        self.used = used
        self.allowance = allowance
        self.answer: Callable[[str, str], Answer | None] | None = None
        for verb in ("query", "queryAll"):
            mock.add_callback(responses.GET, f"{DATA}/{verb}/", callback=self._query)
        mock.add_callback(responses.GET, f"{DATA}/limits/", callback=self._limits)
        # The sync's one describe of Lead, for the Status labels (issue 15, item 7).
        mock.add_callback(responses.GET, f"{DATA}/sobjects/Lead/describe", callback=self._describe)

    def _describe(self, request: requests.PreparedRequest) -> Answer:
        status = {
            "name": "Status",
            "type": "picklist",
            "picklistValues": [
                {"active": True, "value": "Open - Not Contacted", "label": "Open"},
            ],
        }
        return 200, self.headers(), json.dumps({"name": "Lead", "fields": [status]})

    def headers(self) -> dict[str, str]:
        self.used += 1
        return {"Sforce-Limit-Info": f"api-usage={self.used}/{self.allowance}"}

    def _limits(self, request: requests.PreparedRequest) -> Answer:
        body = {"DailyApiRequests": {"Max": self.allowance, "Remaining": self.allowance}}
        return 200, self.headers(), json.dumps(body)

    def _query(self, request: requests.PreparedRequest) -> Answer:
        soql = parse_qs(urlsplit(request.url or "").query)["q"][0]
        self.queries.append(soql)
        sobject = re.search(r"\bFROM (\w+)", soql).group(1)  # type: ignore[union-attr]
        if self.refuse.get(sobject):
            status, body = self.refuse[sobject].pop(0)
            return status, self.headers(), body if isinstance(body, str) else json.dumps(body)
        if self.answer is not None:
            custom = self.answer(sobject, soql)
            if custom is not None:
                return custom
        records = [
            {"attributes": {"type": sobject, "url": f"/x/{r['Id']}"}, **r}
            for r in self.records.get(sobject, [])
            if _matches(r, soql)
        ]
        body = {"totalSize": len(records), "done": True, "records": records}
        return 200, self.headers(), json.dumps(body)


def _matches(record: dict[str, Any], soql: str) -> bool:
    """The fixed conditions this connector sends (IsWon, IsConverted, Field IN)."""
    if "IsWon = true" in soql and not record.get("IsWon"):
        return False
    return not ("IsConverted = true" in soql and not record.get("IsConverted"))


@pytest.fixture
def org() -> Iterator[FakeOrg]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeOrg(mock)


def settings(**extra: str) -> Settings:
    env = {"SALESFORCE_INSTANCE_URL": HOST, "SALESFORCE_ACCESS_TOKEN": TOKEN, **extra}
    return Settings.from_env(env, dotenv=None)


def run(
    store: SnapshotStore, *, options: SalesforceOptions | None = None, **env: str
) -> SyncSummary:
    return sync_source(
        "salesforce",
        store,
        settings(**env),
        options=options or SalesforceOptions(),
        clock=VirtualClock(NOW),
    )


def error(code: str, message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": code}]


# ------------------------------------------------------------------------------ refusals


def test_an_expired_session_stops_with_one_line_saying_how_to_fix_it(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.mock.replace(
        responses.GET,
        f"{DATA}/limits/",
        status=401,
        json=error("INVALID_SESSION_ID", "Session expired or invalid"),
    )

    with pytest.raises(SyncError) as stopped:
        run(store)

    assert str(stopped.value) == (
        "salesforce sync failed in setup: GET /limits answered HTTP 401 (Session expired or "
        f"invalid): {SESSION_FIX}"
    )
    assert len(org.mock.calls) == 1  # a session that expired does not revive on retry
    assert TOKEN not in str(stopped.value)


def test_request_limit_exceeded_is_a_clean_stop_not_a_retry_loop(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.refuse["Lead"] = [(403, error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))]

    with pytest.raises(SyncError) as stopped:
        run(store)

    assert str(stopped.value) == (
        "salesforce sync failed in leads: GET /queryAll (Lead) answered HTTP 403 (TotalRequests "
        "Limit exceeded.): the org's daily API allowance is spent (REQUEST_LIMIT_EXCEEDED); run "
        "the sync again after it resets (Setup > System Overview shows the usage)"
    )
    assert [q for q in org.queries if "FROM Lead " in q] == org.queries[1:]  # asked once


def test_a_malformed_query_is_refused_once_and_reported_as_a_bug(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.refuse["User"] = [
        (400, error("MALFORMED_QUERY", "expecting a right parentheses, found 'AND'"))
    ]

    with pytest.raises(SyncError) as stopped:
        run(store)

    assert str(stopped.value).endswith(
        "GET /query (User) answered HTTP 400 (expecting a right parentheses, found 'AND'): "
        "Salesforce refused the "
        "request as malformed; report this line as a bug"
    )
    assert len(org.queries) == 1


def test_a_field_the_user_cannot_see_names_field_level_security(
    org: FakeOrg, store: SnapshotStore
) -> None:
    # WhoId links a task to its lead: without it the tasks cannot be audited at all.
    org.refuse["Task"] = [(400, error("INVALID_FIELD", "No such column 'WhoId'"))]

    with pytest.raises(SyncError, match="grant it read access \\(field-level security\\)"):
        run(store)


def test_an_optional_field_the_org_hides_is_left_out_and_the_sync_goes_on(
    org: FakeOrg, store: SnapshotStore
) -> None:
    # An org (or an edition) without CallDisposition or LeadHistory.DataType still syncs:
    # the field is dropped from that stream's query for the run, its values stay empty.
    org.records["Lead"] = [lead("00Q000000000001AAA")]
    org.records["Task"] = [task("00T000000000001AAA", WhoId="00Q000000000001AAA")]
    org.refuse["Task"] = [
        (400, error("INVALID_FIELD", "\nSELECT Id, CallDisposition FROM Task\n ^\nERROR at "
                    "Row:1:Column:12\nNo such column 'CallDisposition' on entity 'Task'."))
    ]  # fmt: skip
    org.refuse["LeadHistory"] = [
        (400, error("INVALID_FIELD", "No such column 'DataType' on entity 'LeadHistory'."))
    ]

    run(store)

    task_queries = [q for q in org.queries if "FROM Task" in q]
    assert "CallDisposition" in task_queries[0]
    assert all("CallDisposition" not in q for q in task_queries[1:])
    assert len(task_queries) >= 2
    assert store.count("activities") == 1
    history = [q for q in org.queries if "FROM LeadHistory" in q]
    assert "DataType" not in history[-1]


def test_a_cut_short_answer_and_a_server_error_are_retried(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.records["Lead"] = [lead("00Q000000000001AAA")]
    org.refuse["Lead"] = [
        (200, '{"totalSize": 1, "done": true, "reco'),
        (503, error("SERVER_UNAVAILABLE", "down")),
    ]

    summary = run(store)

    assert store.count("leads") == 1
    assert summary.retries == 2


# ------------------------------------------------------------------ daily allowance


def test_every_answers_usage_header_counts_and_the_share_stops_the_run(
    org: FakeOrg, store: SnapshotStore
) -> None:
    # 7,496 of 15,000 used by others; half kept free → stop once 7,500 are used: /limits
    # (7,497), users (7,498), leads (7,499), history (7,500) — conversions are not asked.
    org.used = 7_496
    org.records["Lead"] = [lead("00Q000000000001AAA")]

    with pytest.raises(SyncError) as stopped:
        run(store, SLA_AUDIT_MIN_FREE_SHARE="0.5")

    assert "stopped before GET /queryAll (Lead): the account has used 7500 of its 15000" in str(
        stopped.value
    )
    assert len(org.queries) == 3
    assert store.count("leads") == 1


# ------------------------------------------------------------------------- narrowing


def test_query_timeout_halves_the_window_and_widens_it_again_once_answered(
    org: FakeOrg, store: SnapshotStore
) -> None:
    # The org began 2026-01-01 (its first user). Lead queries over more than 100 days
    # time out; narrower ones answer. Leads changed through the year.
    org.records["User"] = [user("005000000000001AAA", created="2026-01-01T00:00:00.000+0000")]
    stamps = [f"2026-{m:02d}-15T10:00:00.000+0000" for m in range(1, 11)]
    org.records["Lead"] = [lead(f"00Q00000000000{m:02d}AAA", stamp=s) for m, s in enumerate(stamps)]
    windows: list[tuple[str | None, str | None]] = []

    def answer(sobject: str, soql: str) -> Answer | None:
        if sobject != "Lead" or "IsConverted = true" in soql:
            return None
        low = _bound(soql, ">=")
        high = _bound(soql, "<")
        windows.append((low, high))
        top = datetime.fromisoformat(high) if high else NOW
        bottom = datetime.fromisoformat(low) if low else datetime(2000, 1, 1, tzinfo=UTC)
        if top - bottom > timedelta(days=100):
            return 400, org.headers(), json.dumps(error("QUERY_TIMEOUT", "running for too long"))
        inside = [
            {"attributes": {"type": "Lead"}, **r}
            for r in org.records["Lead"]
            if bottom
            <= datetime.fromisoformat(r["SystemModstamp"].replace("+0000", "+00:00"))
            < top
        ]
        return (
            200,
            org.headers(),
            json.dumps({"totalSize": len(inside), "done": True, "records": inside}),
        )

    org.answer = answer

    summary = run(store)

    assert store.count("leads") == 10
    answered = [w for w in windows if _days(w) <= 100]
    # [org start, now) = 304.5 days times out, so do its first 152.25; its first 76.125
    # days answer. The next windows start where the last ended, twice as wide (halved
    # again when that times out), until the rest of the year fits.
    assert windows[0] == (None, None)
    assert answered[0] == ("2026-01-01T00:00:00+00:00", "2026-03-18T03:00:00+00:00")
    starts = [w[0] for w in answered[1:]]
    ends = [w[1] for w in answered[:-1]]
    assert starts == ends  # contiguous: nothing skipped, nothing read twice
    assert answered[-1][1] is None  # the last window is open-ended again
    assert summary.retries == 0


def _bound(soql: str, op: str) -> str | None:
    found = re.search(rf"SystemModstamp {op} (\S+)", soql)
    return found.group(1).replace("Z", "+00:00") if found else None


def _days(window: tuple[str | None, str | None]) -> float:
    low, high = window
    top = datetime.fromisoformat(high) if high else NOW
    bottom = datetime.fromisoformat(low) if low else datetime(2000, 1, 1, tzinfo=UTC)
    return (top - bottom) / timedelta(days=1)


# ------------------------------------------------------------------------------ bulk


def test_a_large_window_is_read_by_a_bulk_job_page_by_page_with_sforce_locator(
    org: FakeOrg, store: SnapshotStore
) -> None:
    tasks = [task(f"00T00000000000{n}AAA") for n in range(5)]
    org.answer = lambda sobject, soql: (
        (
            200,
            org.headers(),
            json.dumps(
                {
                    "totalSize": 5,
                    "done": False,
                    "nextRecordsUrl": "/services/data/v59.0/query/01g-2",
                    "records": [{"attributes": {}, **t} for t in tasks[:2]],
                }
            ),
        )
        if sobject == "Task" and "SystemModstamp >=" not in soql
        else None
    )
    jobs: list[dict[str, Any]] = []

    def create(request: requests.PreparedRequest) -> Answer:
        jobs.append(json.loads(request.body or "{}"))
        return 200, org.headers(), json.dumps({"id": "7504x000001", "state": "UploadComplete"})

    states = iter(["InProgress", "JobComplete"])
    org.mock.add_callback(responses.POST, f"{DATA}/jobs/query", callback=create)
    org.mock.add_callback(
        responses.GET,
        f"{DATA}/jobs/query/7504x000001",
        callback=lambda r: (
            200,
            org.headers(),
            json.dumps({"id": "7504x000001", "state": next(states)}),
        ),
    )
    pages = {
        "": (tasks[:3], "MTAw", 3),
        "MTAw": (tasks[3:], "null", 2),
    }
    cut_short = [True]
    locators: list[str] = []

    def results(request: requests.PreparedRequest) -> Answer:
        query = parse_qs(urlsplit(request.url or "").query)
        locator = query.get("locator", [""])[0]
        locators.append(locator)
        assert query["maxRecords"] == ["3"]
        rows, following, count = pages[locator]
        if cut_short and locator == "MTAw":
            cut_short.clear()
            rows = rows[:1]  # a page cut short: fewer rows than announced
        headers = {
            **org.headers(),
            "Sforce-Locator": following,
            "Sforce-NumberOfRecords": str(count),
        }
        return 200, headers, to_csv(rows)

    org.mock.add_callback(responses.GET, f"{DATA}/jobs/query/7504x000001/results", callback=results)
    options = SalesforceOptions(bulk_threshold=4, bulk_page_size=3, bulk_poll_s=1.0)

    summary = run(store, options=options)

    assert store.count("activities") == 5
    assert [j["operation"] for j in jobs] == ["queryAll"]
    assert "ORDER BY" not in jobs[0]["query"]  # the Bulk API refuses it
    assert "SystemModstamp < 2026-11-01T12:00:00Z" in jobs[0]["query"]  # the job's window
    assert locators == ["", "MTAw", "MTAw"]  # the cut-short page was asked again
    # first REST page (size known) + job + 2 polls + 3 result pages + REST after the job
    assert summary.streams["tasks"].requests == 1 + 1 + 2 + 3 + 1
    assert summary.streams["tasks"].retries == 1
    raw = store.db.execute("select raw from activities order by id limit 1").fetchone()[0]
    assert json.loads(raw)["CompletedDateTime"] == "2026-10-05T14:03:00.000+0000"  # as REST


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Bulk API CSV: every value quoted, nulls empty, datetimes ending in Z."""
    fields = list(rows[0]) if rows else ["Id"]
    lines = [",".join(f'"{f}"' for f in fields)]
    for row in rows:
        cells = []
        for name in fields:
            value = row[name]
            if value is None:
                cells.append("")
            elif isinstance(value, bool):
                cells.append(f'"{str(value).lower()}"')
            else:
                cells.append(f'"{str(value).replace("+0000", "Z")}"')
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- logins


SOAP_OK = """<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><loginResponse>
<result><serverUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/00D</serverUrl>
<sessionId>00DAc000001xYz9!LOGGEDINsessionIdThatNoSettingNames0123456789</sessionId>
</result></loginResponse></soapenv:Body></soapenv:Envelope>"""
SOAP_REFUSED = """<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope
 xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>
<faultcode>INVALID_LOGIN</faultcode><detail><sf:LoginFault>
<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>
<sf:exceptionMessage>Invalid username, password, security token; or user locked out.
</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>
</soapenv:Envelope>"""
LOGIN = {
    "SALESFORCE_INSTANCE_URL": "",
    "SALESFORCE_ACCESS_TOKEN": "",
    "SALESFORCE_USERNAME": "ops@acme.example",
    "SALESFORCE_PASSWORD": "correct-horse-battery",
    "SALESFORCE_SECURITY_TOKEN": "Xy9SecurityToken42",
    "SALESFORCE_DOMAIN": "test",
}


def test_a_password_login_syncs_and_its_session_id_is_masked_from_then_on(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.mock.add(responses.POST, "https://test.salesforce.com/services/Soap/u/59.0", body=SOAP_OK)
    org.refuse["Lead"] = [
        (
            400,
            error(
                "MALFORMED_QUERY",
                "bad query for 00DAc000001xYz9!LOGGEDINsessionIdThatNoSettingNames0123456789",
            ),
        )
    ]

    with pytest.raises(SyncError) as stopped:
        run(store, **LOGIN)

    calls = [c.request for c in org.mock.calls]
    assert calls[0].url == "https://test.salesforce.com/services/Soap/u/59.0"
    assert calls[1].headers["Authorization"].startswith("Bearer 00DAc000001xYz9!LOGGEDIN")
    assert "LOGGEDIN" not in str(stopped.value)
    assert "[REDACTED]" in str(stopped.value)


def test_a_refused_login_is_one_line_naming_the_settings_to_check(
    org: FakeOrg, store: SnapshotStore
) -> None:
    org.mock.add(
        responses.POST,
        "https://test.salesforce.com/services/Soap/u/59.0",
        body=SOAP_REFUSED,
        status=500,
    )

    with pytest.raises(SyncError) as stopped:
        run(store, **LOGIN)

    message = str(stopped.value)
    assert message.startswith(
        "salesforce sync failed in setup: Salesforce refused the username/password login "
        "(INVALID_LOGIN: Invalid "
        "username, password, security token; or user locked out."
    )
    assert message.endswith("SALESFORCE_DOMAIN ('test' for a sandbox org, or your My Domain)")
    assert "\n" not in message
    assert len(org.mock.calls) == 1  # a wrong password is never retried (lock-outs)
    for secret in ("correct-horse-battery", "Xy9SecurityToken42"):
        assert secret not in message


# ------------------------------------------------------------------------------- TLS


def test_the_session_verifies_against_the_chosen_ca_even_when_requests_ca_bundle_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    chosen = str(tmp_path / "sandbox-ca.pem")

    session = tls_session(chosen, timeout=(1, 1), proxy_for=HOST)
    settings_used = session.merge_environment_settings(HOST, {}, None, None, None)

    assert session.trust_env is False
    assert settings_used["verify"] == chosen
    # What the default would have done: the environment's bundle wins over session.verify.
    plain = requests.Session()
    plain.verify = chosen
    assert plain.merge_environment_settings(HOST, {}, None, None, None)["verify"] != chosen


def test_without_a_chosen_ca_the_environments_bundle_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/tmp/corporate-ca.pem")

    assert tls_session(None, timeout=(1, 1), proxy_for=HOST).verify == "/tmp/corporate-ca.pem"


# ---------------------------------------------------------------------------- mapping


def user(uid: str, *, created: str = "2026-01-05T09:00:00.000+0000", active: bool = True):
    return {
        "Id": uid,
        "Name": "Ana Souza",
        "Email": "ana@acme.example",
        "IsActive": active,
        "CreatedDate": created,
        "LastModifiedDate": created,
        "SystemModstamp": created,
    }


def lead(lid: str, *, stamp: str = "2026-10-20T10:00:00.000+0000", **fields: Any):
    record = {
        "Id": lid,
        "Email": f"{lid.lower()}@lead.example",
        "Company": "Acme",
        "Status": "Open - Not Contacted",
        "OwnerId": "005000000000001AAA",
        "LeadSource": "Web",
        "Industry": "Technology",
        "IsConverted": False,
        "ConvertedDate": None,
        "ConvertedContactId": None,
        "ConvertedOpportunityId": None,
        "IsDeleted": False,
        "CreatedDate": "2026-10-01T12:00:00.000+0000",
        "LastModifiedDate": stamp,
        "SystemModstamp": stamp,
    }
    record.update(fields)
    return record


def change(hid: str, lid: str, field: str, old: Any, new: Any, at: str, data_type: str | None):
    return {
        "Id": hid,
        "LeadId": lid,
        "Field": field,
        "DataType": data_type,
        "OldValue": old,
        "NewValue": new,
        "CreatedDate": at,
        "IsDeleted": False,
    }


def task(tid: str, **fields: Any) -> dict[str, Any]:
    record = {
        "Id": tid,
        "WhoId": "00Q000000000001AAA",
        "WhatId": None,
        "OwnerId": "005000000000001AAA",
        "Subject": "Call",
        "Status": "Completed",
        "TaskSubtype": "Call",
        "CallType": "Outbound",
        "CallDisposition": "Left voicemail",
        "CallDurationInSeconds": 42,
        "ActivityDate": "2026-10-05",
        "CompletedDateTime": "2026-10-05T14:03:00.000+0000",
        "IsClosed": True,
        "IsDeleted": False,
        "CreatedDate": "2026-10-05T14:03:00.000+0000",
        "LastModifiedDate": "2026-10-05T14:03:00.000+0000",
        "SystemModstamp": "2026-10-05T14:03:00.000+0000",
    }
    record.update(fields)
    return record


def test_a_tiny_org_maps_to_the_funnel_history_the_audit_needs(
    org: FakeOrg, store: SnapshotStore
) -> None:
    ana, bia, queue = "005000000000001AAA", "005000000000002AAA", "00G000000000001AAA"
    direct, worked, converted, queued = (
        "00Q000000000001AAA",
        "00Q000000000002AAA",
        "00Q000000000003AAA",
        "00Q000000000004AAA",
    )
    org.records["User"] = [user(ana), user(bia)]
    org.records["Lead"] = [
        # Created straight into Marketing Qualified: Salesforce writes no Status row.
        lead(direct, Status="Marketing Qualified"),
        # Open → Marketing Qualified, then reassigned from Ana to Bia.
        lead(worked, Status="Marketing Qualified", OwnerId=bia),
        # Converted; its leadConverted row is missing (e.g. history tracking was off).
        lead(
            converted,
            Status="Closed - Converted",
            IsConverted=True,
            ConvertedDate="2026-10-09",
            ConvertedContactId="003000000000003AAA",
            ConvertedOpportunityId="006000000000003AAA",
        ),
        # Sat in the lead queue, then Ana took it.
        lead(queued, OwnerId=ana),
    ]
    org.records["LeadHistory"] = [
        change(
            "0170001",
            worked,
            "Status",
            "Open - Not Contacted",
            "Marketing Qualified",
            "2026-10-02T09:00:00.000+0000",
            "DynamicEnum",
        ),
        change("0170002", worked, "Owner", ana, bia, "2026-10-03T09:00:00.000+0000", "EntityId"),
        change(
            "0170003",
            worked,
            "Owner",
            "Ana Souza",
            "Bia Lima",
            "2026-10-03T09:00:00.000+0000",
            "Text",
        ),
        change("0170004", queued, "Owner", queue, ana, "2026-10-04T09:00:00.000+0000", "EntityId"),
        change(
            "0170005",
            queued,
            "Owner",
            "Inbound Lead Queue",
            "Ana Souza",
            "2026-10-04T09:00:00.000+0000",
            "Text",
        ),
    ]
    org.records["Opportunity"] = [
        {
            "Id": "006000000000003AAA",
            "StageName": "Closed Won",
            "IsWon": True,
            "CloseDate": "2026-10-09",
            "SystemModstamp": "2026-10-20T10:00:00.000+0000",
        }
    ]
    org.records["Task"] = [
        task("00T0000000000001AA", WhoId=worked),
        task(
            "00T0000000000002AA",
            WhoId="003000000000003AAA",
            TaskSubtype="Email",
            CallType=None,
            CallDisposition=None,
            CallDurationInSeconds=None,
            Subject="Email: Hi",
        ),
        task(
            "00T0000000000003AA",
            WhoId=queued,
            TaskSubtype="Task",
            CallType=None,
            CallDisposition=None,
            CallDurationInSeconds=None,
            Status="Not Started",
            CompletedDateTime=None,
            ActivityDate="2026-10-07",
        ),
        task("00T0000000000004AA", WhoId=worked, CallType="Inbound", CallDisposition="Connected"),
    ]
    org.records["Event"] = [
        {
            "Id": "00U0000000000001AA",
            "WhoId": worked,
            "OwnerId": bia,
            "Subject": "Demo",
            "StartDateTime": "2026-10-06T15:00:00.000+0000",
            "ActivityDateTime": "2026-10-06T15:00:00.000+0000",
            "DurationInMinutes": 45,
            "IsDeleted": False,
            "CreatedDate": "2026-10-05T15:00:00.000+0000",
            "LastModifiedDate": "2026-10-05T15:00:00.000+0000",
            "SystemModstamp": "2026-10-05T15:00:00.000+0000",
        }
    ]

    run(store)

    history = store.db.execute(
        "select substr(lead_id, 12), field, value, changed_at from lead_history "
        "order by lead_id, changed_at, field"
    ).fetchall()
    created = "2026-10-01T12:00:00.000Z"
    assert history == [
        (direct, "owner", f"salesforce:{ana}", created),
        (direct, "status", "Marketing Qualified", created),  # the MQL entry
        (worked, "owner", f"salesforce:{ana}", created),  # the first change's OldValue
        (worked, "status", "Open - Not Contacted", created),
        (worked, "status", "Marketing Qualified", "2026-10-02T09:00:00.000Z"),
        (worked, "owner", f"salesforce:{bia}", "2026-10-03T09:00:00.000Z"),  # the Id row
        (converted, "owner", f"salesforce:{ana}", created),
        (converted, "status", "Closed - Converted", created),
        # ConvertedDate is a date: midnight UTC, up to a day off; the won opportunity's
        # CloseDate likewise, never before the conversion.
        (converted, "converted", "true", "2026-10-09T00:00:00.000Z"),
        (converted, "stage", "Closed Won", "2026-10-09T00:00:00.000Z"),
        (queued, "owner", None, created),  # the queue held it: no rep
        (queued, "status", "Open - Not Contacted", created),
        (queued, "owner", f"salesforce:{ana}", "2026-10-04T09:00:00.000Z"),
    ]
    activities = store.db.execute(
        "select crm_id, kind, direction, outcome, status, occurred_at, duration_s "
        "from activities order by crm_id"
    ).fetchall()
    assert activities == [
        (
            "00T0000000000001AA",
            "call",
            "outbound",
            "Left voicemail",
            "Completed",
            "2026-10-05T14:03:00.000Z",
            42.0,
        ),
        (
            "00T0000000000002AA",
            "email",
            "outbound",
            None,
            "Completed",
            "2026-10-05T14:03:00.000Z",
            None,
        ),
        # An open to-do happens on its due date (a date: midnight UTC).
        ("00T0000000000003AA", "task", None, None, "Not Started", "2026-10-07T00:00:00.000Z", None),
        (
            "00T0000000000004AA",
            "call",
            "inbound",
            "Connected",
            "Completed",
            "2026-10-05T14:03:00.000Z",
            42.0,
        ),
        ("00U0000000000001AA", "meeting", None, None, None, "2026-10-06T15:00:00.000Z", 2700.0),
    ]
    links = store.db.execute(
        "select substr(activity_id, 12), substr(lead_id, 12) from activity_leads order by 1"
    ).fetchall()
    assert links == [
        ("00T0000000000001AA", worked),
        # Salesforce moved this email to the contact the lead became: still the lead's.
        ("00T0000000000002AA", converted),
        ("00T0000000000003AA", queued),
        ("00T0000000000004AA", worked),
        ("00U0000000000001AA", worked),
    ]
    url = store.db.execute("select url from leads where crm_id = ?", [direct]).fetchone()[0]
    assert url == f"{HOST}/lightning/r/Lead/{direct}/view"


def test_retry_policy_bounds_apply_to_salesforce_too(org: FakeOrg, store: SnapshotStore) -> None:
    org.refuse["User"] = [(503, error("SERVER_UNAVAILABLE", "down"))] * 3
    options = SalesforceOptions(retry=RetryPolicy(attempts=3))

    with pytest.raises(SyncError, match="gave up after 3 attempts"):
        run(store, options=options)


def test_a_lead_whose_history_arrived_before_it_gets_its_creation_values_next_run(
    org: FakeOrg, store: SnapshotStore
) -> None:
    # The lead was created after the leads query ran and changed before the history query
    # did: its history came without the lead, so nothing knew its CreatedDate.
    late = "00Q000000000009AAA"
    org.records["LeadHistory"] = [
        change(
            "0170009",
            late,
            "Status",
            "Open - Not Contacted",
            "Marketing Qualified",
            "2026-10-02T09:00:00.000+0000",
            "DynamicEnum",
        ),
    ]
    run(store)
    assert store.db.execute("select value from lead_history").fetchall() == [
        ("Marketing Qualified",)
    ]

    org.records["Lead"] = [
        lead(late, Status="Marketing Qualified", stamp="2026-11-01T12:00:00.000+0000")
    ]
    run(store)

    assert [q for q in org.queries if f"LeadId = '{late}'" in q]  # its history, read once
    history = store.db.execute(
        "select value, changed_at from lead_history where field = 'status' order by changed_at"
    ).fetchall()
    assert history == [
        ("Open - Not Contacted", "2026-10-01T12:00:00.000Z"),  # created so, not as it is now
        ("Marketing Qualified", "2026-10-02T09:00:00.000Z"),
    ]
