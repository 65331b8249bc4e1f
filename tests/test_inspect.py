"""``inspect``: the CRM's own values (HubSpot properties/dispositions/owners, Salesforce
describe/LeadStatus/users) through the real client libraries against the sandboxes, the
snapshot's counts beside them, the starter SLA file, and the error lines.

The CRM is ``generate_crm(size=120, seed=3)``: 8 owners (Hugo Ferreira deactivated), and
in Salesforce also the integration user; expected counts are read from the generated CRM.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from pathlib import Path

import pytest
import responses

from app.cli_errors import UserError
from app.starter_sla import starter_text
from config.settings import Settings
from config.sla import load_sla
from connectors.core import SyncError
from connectors.core.metadata import Choice, PortalMetadata
from connectors.metadata import read_metadata
from connectors.salesforce import SalesforceOptions
from sandbox.generator import CRM
from sandbox.hubspot_server import HubSpotSandbox
from sandbox.salesforce_server import SalesforceSandbox
from tests.cli_helpers import run
from tests.conftest import HUBSPOT_TOKEN

CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


def test_hubspot_metadata_has_internal_values_labels_dispositions_and_owners(
    hubspot_settings: Settings,
) -> None:
    meta = read_metadata("hubspot", hubspot_settings)

    stages = {c.value: c.label for c in meta.stages}
    assert len(stages) == 8
    assert stages["marketingqualifiedlead"] == "Marketing Qualified Lead"
    assert stages["salesqualifiedlead"] == "Sales Qualified Lead"
    statuses = {c.value: c.label for c in meta.statuses}
    assert statuses["BAD_TIMING"] == "Bad Timing"
    assert statuses["ATTEMPTED_TO_CONTACT"] == "Attempted to Contact"
    assert [c.value for c in meta.statuses][:2] == ["NEW", "OPEN"]  # displayOrder
    assert {c.value: c.label for c in meta.outcomes or ()}[CONNECTED] == "Connected"
    assert len(meta.outcomes or ()) == 6
    assert len(meta.users) == 8
    assert [u.name for u in meta.users if not u.active] == ["Hugo Ferreira"]
    assert meta.users[0].email == "ana@acme.example"


def test_salesforce_metadata_has_status_labels_conversion_and_users(
    salesforce_sandbox: SalesforceSandbox, salesforce_settings: Settings
) -> None:
    options = SalesforceOptions(ca_bundle=salesforce_sandbox.ca_path)
    meta = read_metadata("salesforce", salesforce_settings, options=options)

    labels = {c.value: c.label for c in meta.statuses}
    assert labels["Marketing Qualified"] == "MQL - Marketing Qualified"
    assert labels["Closed - Not Converted"] == "Disqualified"
    assert [c.value for c in meta.statuses if c.converted] == ["Closed - Converted"]
    assert meta.stages == ()
    assert meta.outcomes is None  # CallDisposition is free text in a standard org
    assert len(meta.users) == 9
    assert {u.name for u in meta.users if not u.active} == {"Hugo Ferreira"}


def test_inspect_counts_sync_and_starter_sla_audits_without_edits(
    cli: HubSpotSandbox, crm: CRM, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "s.db")
    assert run(capsys, "sync", "--source", "hubspot", "--db", db)[0] == 0
    code, out, _ = run(capsys, "inspect", "--source", "hubspot", "--db", db, "--format", "json")
    assert code == 0
    data = json.loads(out)
    live = [lead for lead in crm.leads if not lead.archived]
    now = {row["value"]: row["leads_now"] for row in data["stages"]}
    assert now == {v: Counter(lead.stage for lead in live)[v] for v in now}
    assert sum(now.values()) == len(live) == 116
    events = {row["value"]: row["history_events"] for row in data["statuses"]}
    took = Counter(
        h.value for lead in crm.leads for h in lead.history if h.field == "status" and h.value
    )
    assert events == {v: took[v] for v in events}
    calls = {row["value"]: row["activities"] for row in data["outcomes"]}
    made = Counter(a.disposition for a in crm.activities if a.kind == "call" and not a.archived)
    assert calls[CONNECTED] == made[CONNECTED] > 0

    sla = tmp_path / "starter.yaml"
    code, out, err = run(capsys, "inspect", "--source", "hubspot", "--write-sla", str(sla))
    assert code == 0 and "Lifecycle stages" in out and f"wrote {sla}" in err
    text = sla.read_text(encoding="utf-8")
    assert '- "marketingqualifiedlead"   # label: Marketing Qualified Lead' in text
    assert "salesforce:" not in text
    assert load_sla(sla).funnel["hubspot"]["recycled"].status == ["UNQUALIFIED", "BAD_TIMING"]
    assert run(capsys, "check", "--sla", str(sla), "--db", db)[0] == 0
    code, out, _ = run(capsys, "audit", "--sla", str(sla), "--period", "2026-10", "--db", db,
                       "--format", "json")  # fmt: skip
    assert code in (0, 1)
    volume = next(r for r in json.loads(out)["rules"] if r["id"] == "mql_volume")
    assert volume["judged"] > 0

    code, _, err = run(capsys, "inspect", "--source", "hubspot", "--write-sla", str(sla))
    assert code == 2 and err.count("\n") == 1 and "already exists" in err
    assert sla.read_text(encoding="utf-8") == text


def test_salesforce_starter_maps_labels_and_conversion(
    salesforce_sandbox: SalesforceSandbox, salesforce_settings: Settings, tmp_path: Path
) -> None:
    options = SalesforceOptions(ca_bundle=salesforce_sandbox.ca_path)
    meta = read_metadata("salesforce", salesforce_settings, options=options)
    text = starter_text(meta, Path("config/sla.example.yaml").read_text(encoding="utf-8"), "x")
    path = tmp_path / "sf.yaml"
    path.write_text(text, encoding="utf-8")
    funnel = load_sla(path).funnel["salesforce"]
    assert funnel["mql"].status == ["Marketing Qualified"]
    assert funnel["sql"].status == ["Sales Qualified", "Closed - Converted"]
    assert funnel["sql"].converted is True
    assert funnel["recycled"].status == ["Recycled", "Closed - Not Converted"]
    assert "# label: Disqualified" in text and "hubspot:" not in text
    # The example's teams are the demo's reps: commented out, with why, never audited.
    assert load_sla(path).teams == {}
    assert "# (the example's teams are the demo's reps: name yours)\n# teams:" in text


def test_a_portal_without_an_mql_value_gets_no_starter_file() -> None:
    meta = PortalMetadata(
        "hubspot",
        stages=(Choice("lead", "Lead"), Choice("marketingqualifiedlead", "MQL", hidden=True)),
        statuses=(),
        outcomes=(),
        users=(),
    )
    with pytest.raises(UserError, match="reads like an MQL"):
        starter_text(meta, "funnel:\n  x: 1\n", "x")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("case", ["no credentials", "bad token", "unreachable"])
def test_inspect_errors_are_one_line_exit_2_and_never_a_token(
    cli: HubSpotSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    if case == "no credentials":
        monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN")
    elif case == "bad token":
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-wrong-token-1234")
    else:
        monkeypatch.setenv("HUBSPOT_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    code, out, err = run(capsys, "inspect", "--source", "hubspot")
    assert code == 2 and out == ""
    # Retries of an unreachable CRM are logged as they happen; the error itself is one line.
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and err.endswith(errors[0] + "\n")
    assert HUBSPOT_TOKEN not in err and "wrong-token" not in err
    expected = {
        "no credentials": "hubspot is not configured",
        "bad token": "HTTP 401",
        "unreachable": "could not be reached",
    }
    assert expected[case] in err


@responses.activate
def test_a_describe_answer_without_picklist_values_is_named() -> None:
    instance = "https://acme.my.salesforce.com"
    data = f"{instance}/services/data/v59.0"
    responses.get(f"{data}/limits/", json={"DailyApiRequests": {"Max": 100, "Remaining": 99}})
    responses.get(
        re.compile(re.escape(f"{data}/query/") + r".*"),
        json={"totalSize": 1, "done": True, "records": [
            {"attributes": {"type": "LeadStatus"}, "ApiName": "Converted", "IsConverted": True}
        ]},
    )  # fmt: skip
    responses.get(
        f"{data}/sobjects/Lead/describe",
        json={"name": "Lead", "fields": [
            {"name": "Status", "type": "picklist", "picklistValues": [{"label": "Open"}]}
        ]},
    )  # fmt: skip
    settings = Settings.from_env(
        {"SALESFORCE_INSTANCE_URL": instance, "SALESFORCE_ACCESS_TOKEN": "00Dsecret!x"},
        dotenv=None,
    )
    with pytest.raises(SyncError) as caught:
        read_metadata("salesforce", settings)
    message = str(caught.value)
    assert "GET /sobjects/Lead/describe answered without" in message
    assert "fields[Status].picklistValues[0].value" in message
    assert "00Dsecret" not in message and "\n" not in message
