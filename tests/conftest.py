"""Shared fixtures: a small generated CRM behind the HubSpot and Salesforce sandboxes, and
a fresh snapshot.

Also what a correct sync must produce, computed from the generated CRM (HubSpot,
``expected_snapshot``) or the sandbox org's rows (Salesforce,
``expected_salesforce_snapshot``) *without* the connectors' mapping code, so connector
tests compare against an independent statement of the answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config.settings import Settings
from connectors.core import SystemClock
from connectors.salesforce import SalesforceOptions
from sandbox.generator import CRM, DISPOSITION_LABELS, Activity, generate_crm
from sandbox.hubspot_server import (
    HubSpotSandbox,
    contact_id,
    engagement_id,
    owner_id,
)
from sandbox.salesforce_model import Org
from sandbox.salesforce_server import SalesforceSandbox
from sandbox.soql import render_records
from snapshot.store import SnapshotStore

FIXED_END = datetime(2026, 11, 1, tzinfo=UTC)
HUBSPOT_TOKEN = "pat-na1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
SALESFORCE_TOKEN = "00D5g000004ZxYb!AQ8AQJ3sAndBoxSessionId.k2Vq9TzL7mWcR4pXh1nYbE6uGfD0aS"
PORTAL_ID = 4_242_424

TABLE_KEYS = {
    "owners": ("id",),
    "leads": ("id",),
    "lead_history": ("lead_id", "field", "changed_at"),
    "activities": ("id",),
    "activity_leads": ("activity_id", "lead_id"),
}


class FastClock(SystemClock):
    """Real time, except that a single sleep lasts at most ``cap`` seconds.

    Retry backoffs (seconds) shrink to milliseconds, while the throttle, which loops on
    the real monotonic clock until its window frees, still waits exactly as long as it
    must: the sandbox's rate limits run on real time too. ``requested`` keeps every
    sleep as asked for.
    """

    def __init__(self, cap: float = 0.02) -> None:
        self.cap = cap
        self.requested: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.requested.append(seconds)
        if seconds > 0:
            time.sleep(min(seconds, self.cap))


class VirtualClock:
    """Monotonic time that only moves when the engine sleeps: every sleep returns at once
    and is recorded in ``sleeps``; wall time is ``start`` plus the time slept."""

    def __init__(self, start: datetime = datetime(2026, 11, 1, tzinfo=UTC)) -> None:
        self.start = start
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t)


@pytest.fixture
def crm() -> CRM:
    return generate_crm(size=120, seed=3, end=FIXED_END)


def add_connected_call(crm: CRM, at: datetime, lead_key: int, owner_key: int) -> Activity:
    """Log a completed outbound call of 95 s with HubSpot's "Connected" disposition."""
    return crm.add_activity(
        "call",
        at,
        [lead_key],
        owner_key=owner_key,
        direction="OUTBOUND",
        disposition="f240bbac-87c9-4f6e-bf70-924b57d47db7",
        status="COMPLETED",
        duration_ms=95_000,
    )


def hubspot_settings_for(
    sandbox: HubSpotSandbox, token: str = HUBSPOT_TOKEN, **env: str
) -> Settings:
    """Settings for a HubSpot sync against ``sandbox`` with ``token`` (and ``env`` more)."""
    return Settings.from_env(
        {"HUBSPOT_ACCESS_TOKEN": token, "HUBSPOT_BASE_URL": sandbox.base_url, **env},
        dotenv=None,
    )


def salesforce_settings_for(
    sandbox: SalesforceSandbox, token: str = SALESFORCE_TOKEN, **env: str
) -> Settings:
    """Settings for a Salesforce sync against ``sandbox`` with the session id ``token``."""
    return Settings.from_env(
        {
            "SALESFORCE_INSTANCE_URL": sandbox.instance_url,
            "SALESFORCE_ACCESS_TOKEN": token,
            **env,
        },
        dotenv=None,
    )


@pytest.fixture
def hubspot_sandbox(crm: CRM) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        yield sandbox


@pytest.fixture
def hubspot_settings(hubspot_sandbox: HubSpotSandbox) -> Settings:
    return hubspot_settings_for(hubspot_sandbox)


@pytest.fixture
def salesforce_sandbox(crm: CRM) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(crm, token=SALESFORCE_TOKEN) as sandbox:
        yield sandbox


@pytest.fixture
def salesforce_settings(salesforce_sandbox: SalesforceSandbox) -> Settings:
    return salesforce_settings_for(salesforce_sandbox)


@pytest.fixture
def salesforce_options(salesforce_sandbox: SalesforceSandbox) -> SalesforceOptions:
    """Defaults, plus the sandbox's throwaway CA for TLS."""
    return SalesforceOptions(ca_bundle=salesforce_sandbox.ca_path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SnapshotStore]:
    snapshot = SnapshotStore(tmp_path / "snapshot.db")
    yield snapshot
    snapshot.close()


@pytest.fixture
def fast_clock() -> FastClock:
    return FastClock()


# ------------------------------------------------------------------ expected snapshot


def _fmt(at: datetime | None) -> str | None:
    if at is None:
        return None
    at = at.astimezone(UTC)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


def _hs(crm_id: str) -> str:
    return f"hubspot:{crm_id}"


_DIRECTIONS = {
    "OUTBOUND": "outbound",
    "INBOUND": "inbound",
    "EMAIL": "outbound",
    "INCOMING_EMAIL": "inbound",
    "FORWARDED_EMAIL": "forwarded",
}


def expected_snapshot(crm: CRM, portal_id: int = PORTAL_ID) -> dict[str, set[tuple[Any, ...]]]:
    """Every table as a set of tuples, as a faithful sync of ``crm`` through HubSpot holds it.

    Links: HubSpot reports an engagement's contacts only while both are live, so archived
    engagements and archived contacts contribute none.
    """
    owners = {
        (
            _hs(owner_id(r.key)),
            "hubspot",
            owner_id(r.key),
            r.email,
            f"{r.first_name} {r.last_name}",
            r.team,
            int(r.active),
            _fmt(r.created_at),
            _fmt(r.updated_at),
        )
        for r in crm.reps
    }
    leads = set()
    history = set()
    for lead in crm.leads:
        cid = contact_id(lead.key)
        leads.add(
            (
                _hs(cid),
                "hubspot",
                cid,
                lead.email,
                lead.company,
                _hs(owner_id(lead.owner_key)) if lead.owner_key is not None else None,
                lead.industry,
                lead.lead_source,
                _fmt(lead.created_at),
                lead.stage,
                lead.status,
                int(lead.archived),
                _fmt(lead.archived_at or lead.updated_at) if lead.archived else None,
                _fmt(lead.updated_at),
                f"https://app.hubspot.com/contacts/{portal_id}/record/0-1/{cid}",
            )
        )
        for entry in lead.history:
            value = entry.value
            if entry.field == "owner" and value is not None:
                value = _hs(owner_id(int(value)))
            history.add((_hs(cid), entry.field, value, _fmt(entry.at), entry.source_type))
    activities = set()
    links = set()
    for act in crm.activities:
        eid = engagement_id(act)
        duration: float | None = None
        if act.kind == "call" and act.duration_ms is not None:
            duration = act.duration_ms / 1000
        elif act.kind == "meeting" and act.end_at is not None:
            duration = (act.end_at - act.occurred_at).total_seconds()
        outcome = act.disposition if act.kind == "call" else None
        if act.kind == "meeting":
            outcome = act.status
        activities.add(
            (
                _hs(eid),
                "hubspot",
                eid,
                act.kind,
                _DIRECTIONS.get(act.direction or ""),
                outcome,
                # The label the CRM itself gives the disposition (/calling/v1/dispositions).
                DISPOSITION_LABELS.get(outcome or "") if act.kind == "call" else None,
                act.status,
                (act.title or None) if act.kind != "note" else None,
                _fmt(act.occurred_at),
                _fmt(act.created_at),
                _fmt(act.updated_at),
                _hs(owner_id(act.owner_key)) if act.owner_key is not None else None,
                duration,
                int(act.archived),
            )
        )
        if not act.archived:
            for lead_key in dict.fromkeys(act.lead_keys):
                if not crm.lead(lead_key).archived:
                    links.add((_hs(eid), _hs(contact_id(lead_key))))
    return {
        "owners": owners,
        "leads": leads,
        "lead_history": history,
        "activities": activities,
        "activity_leads": links,
    }


# ------------------------------------------------------------ expected Salesforce snapshot


def org_records(org: Org, sobject: str) -> list[dict[str, Any]]:
    """Every row of one sandbox org table, every field, as the REST API renders it."""
    table = org.table(sobject)
    records = render_records(table, list(table.specs.values()), np.arange(table.size), "59.0")
    for record in records:
        record.pop("attributes", None)
    return records


def _sf_at(value: str | None) -> str | None:
    """REST ``2026-07-02T22:27:14.357+0000`` or a date → the snapshot's instant text."""
    if value is None:
        return None
    if len(value) == 10:
        return f"{value}T00:00:00.000Z"
    return value[:23] + "Z"


def _sf(crm_id: str) -> str:
    return f"salesforce:{crm_id}"


def _sf_user(value: str | None) -> str | None:
    return _sf(value) if value and value.startswith("005") else None


def expected_salesforce_snapshot(org: Org, instance_url: str) -> dict[str, set[tuple[Any, ...]]]:
    """Every table as a faithful sync of the sandbox org holds it, from the org's own rows
    and the mapping rules the connector documents — not from the connector's code.

    History per lead: Status rows (value NewValue), Owner rows with the Ids (a queue is
    no owner), leadConverted rows (value "true"); at CreatedDate the value each field was
    created with (the first change's OldValue, else the current value, left out when
    none); a won opportunity's StageName at CloseDate's midnight UTC, not before the
    conversion. Two rows of one field at one instant: the later (by Id) is the value.
    """
    users = org_records(org, "User")
    leads = org_records(org, "Lead")
    history = org_records(org, "LeadHistory")
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for row in history:
        by_lead.setdefault(row["LeadId"], []).append(row)
    won = {o["Id"]: o for o in org_records(org, "Opportunity") if o["IsWon"]}
    owners = {
        (
            _sf(u["Id"]),
            "salesforce",
            u["Id"],
            u["Email"],
            u["Name"],
            None,
            int(u["IsActive"]),
            _sf_at(u["CreatedDate"]),
            _sf_at(u["LastModifiedDate"]),
        )
        for u in users
    }
    lead_rows = set()
    history_rows: dict[tuple[str, str, str], Any] = {}
    by_contact: dict[str, str] = {}
    for lead in leads:
        lid = _sf(lead["Id"])
        created = _sf_at(lead["CreatedDate"])
        assert created is not None
        stamp = _sf_at(lead["SystemModstamp"])
        if lead["ConvertedContactId"]:
            by_contact[lead["ConvertedContactId"]] = lid
        lead_rows.add(
            (
                lid,
                "salesforce",
                lead["Id"],
                lead["Email"],
                lead["Company"],
                _sf_user(lead["OwnerId"]),
                lead["Industry"],
                lead["LeadSource"],
                created,
                None,
                lead["Status"],
                int(lead["IsDeleted"]),
                stamp if lead["IsDeleted"] else None,
                stamp,
                f"{instance_url}/lightning/r/Lead/{lead['Id']}/view",
            )
        )
        rows = by_lead.get(lead["Id"], [])
        status = [r for r in rows if r["Field"] == "Status"]
        owner = [r for r in rows if r["Field"] == "Owner" and r["DataType"] == "EntityId"]
        for name, changes, current, value_of in (
            ("status", status, lead["Status"], lambda v: v),
            ("owner", owner, _sf_user(lead["OwnerId"]), _sf_user),
        ):
            if not changes:
                if current is not None:
                    history_rows[(lid, name, created)] = current
            elif _sf_at(changes[0]["CreatedDate"]) > created:
                history_rows[(lid, name, created)] = value_of(changes[0]["OldValue"])
            for change in changes:
                at = _sf_at(change["CreatedDate"])
                history_rows[(lid, name, at)] = value_of(change["NewValue"])
        converted = [_sf_at(r["CreatedDate"]) for r in rows if r["Field"] == "leadConverted"]
        for at in converted:
            history_rows[(lid, "converted", at)] = "true"
        if lead["IsConverted"] and not converted:
            history_rows[(lid, "converted", max(_sf_at(lead["ConvertedDate"]), created))] = "true"
            converted = [max(_sf_at(lead["ConvertedDate"]), created)]
        opportunity = won.get(lead["ConvertedOpportunityId"] or "")
        if opportunity is not None:
            at = max(_sf_at(opportunity["CloseDate"]), min(converted or [created]))
            history_rows[(lid, "stage", at)] = opportunity["StageName"]
    activities = set()
    links = set()
    for sobject in ("Task", "Event"):
        for act in org_records(org, sobject):
            aid = _sf(act["Id"])
            if sobject == "Event":
                kind, direction, outcome, status = "meeting", None, None, None
                occurred = _sf_at(act["StartDateTime"] or act["ActivityDateTime"])
                minutes = act["DurationInMinutes"]
                duration = minutes * 60.0 if minutes is not None else None
            else:
                kind = {"Call": "call", "Email": "email", "ListEmail": "email"}.get(
                    act["TaskSubtype"], "task"
                )
                direction = {
                    "call": {"Inbound": "inbound", "Outbound": "outbound"}.get(act["CallType"]),
                    "email": "outbound",
                }.get(kind)
                outcome, status = act["CallDisposition"], act["Status"]
                occurred = _sf_at(act["CompletedDateTime"] or act["ActivityDate"])
                seconds = act["CallDurationInSeconds"]
                duration = float(seconds) if seconds is not None else None
            activities.add(
                (
                    aid,
                    "salesforce",
                    act["Id"],
                    kind,
                    direction,
                    outcome,
                    None,
                    status,
                    act["Subject"],
                    occurred or _sf_at(act["CreatedDate"]),
                    _sf_at(act["CreatedDate"]),
                    _sf_at(act["LastModifiedDate"]),
                    _sf_user(act["OwnerId"]),
                    duration,
                    int(act["IsDeleted"]),
                )
            )
            who = act["WhoId"] or ""
            lead_id = _sf(who) if who.startswith("00Q") else by_contact.get(who)
            if lead_id is not None:
                links.add((aid, lead_id))
    return {
        "owners": owners,
        "leads": lead_rows,
        "lead_history": {(k[0], k[1], v, k[2], None) for k, v in history_rows.items()},
        "activities": activities,
        "activity_leads": links,
    }


SNAPSHOT_COLUMNS = {
    "owners": "id, source, crm_id, email, name, team, active, created_at, updated_at",
    "leads": (
        "id, source, crm_id, email, company, owner_id, segment, lead_source, created_at, "
        "stage, status, is_deleted, deleted_at, updated_at, url"
    ),
    "lead_history": "lead_id, field, value, changed_at, source_type",
    "activities": (
        "id, source, crm_id, kind, direction, outcome, outcome_label, status, subject, "
        "occurred_at, created_at, updated_at, owner_id, duration_s, is_deleted"
    ),
    "activity_leads": "activity_id, lead_id",
}


def snapshot_rows(store: SnapshotStore) -> dict[str, set[tuple[Any, ...]]]:
    """The snapshot's tables in the shape of :func:`expected_snapshot` (``raw`` left out)."""
    return {
        table: {tuple(row) for row in store.db.execute(f"select {columns} from [{table}]")}
        for table, columns in SNAPSHOT_COLUMNS.items()
    }


def full_dump(store: SnapshotStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every data table including ``raw``, sorted: for exact comparisons."""
    out = {}
    for table, keys in TABLE_KEYS.items():
        order = ", ".join(keys)
        out[table] = [
            tuple(r) for r in store.db.execute(f"select * from [{table}] order by {order}")
        ]
    return out


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hubspot_sandbox: HubSpotSandbox
) -> Iterator[HubSpotSandbox]:
    """``main()`` in this process, with the sandbox's credentials and an empty cwd."""
    for name in list(os.environ):
        if name.startswith(("HUBSPOT_", "SALESFORCE_", "SLA_AUDIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", hubspot_sandbox.token)
    monkeypatch.setenv("HUBSPOT_BASE_URL", hubspot_sandbox.base_url)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    yield hubspot_sandbox
