"""Shared fixtures: a small generated CRM behind the HubSpot sandbox, and a fresh snapshot.

Also what a correct HubSpot sync must produce, computed from the generated CRM *without*
the connector's mapping code (``expected_snapshot``), so connector tests compare against
an independent statement of the answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from connectors.engine import SystemClock
from connectors.sandbox.generator import CRM, generate_crm
from connectors.sandbox.hubspot_server import (
    HubSpotSandbox,
    contact_id,
    engagement_id,
    owner_id,
)
from connectors.store import SnapshotStore

FIXED_END = datetime(2026, 11, 1, tzinfo=UTC)
HUBSPOT_TOKEN = "pat-na1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
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


@pytest.fixture
def crm() -> CRM:
    return generate_crm(size=120, seed=3, end=FIXED_END)


@pytest.fixture
def hubspot_sandbox(crm: CRM) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(crm, token=HUBSPOT_TOKEN, portal_id=PORTAL_ID) as sandbox:
        yield sandbox


@pytest.fixture
def hubspot_settings(hubspot_sandbox: HubSpotSandbox) -> Settings:
    return Settings.from_env(
        {"HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN, "HUBSPOT_BASE_URL": hubspot_sandbox.base_url},
        dotenv=None,
    )


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
_LABELS = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
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
                _LABELS.get(outcome or "") if act.kind == "call" else None,
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
