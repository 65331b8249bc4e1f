"""``run_audit.py inspect``: the CRM's own values beside how often the snapshot holds them.

An SLA file names raw CRM values; a label written for a value, or a value the portal
renamed, makes a rule a quiet zero. So ``inspect`` lists what the CRM itself offers —
lifecycle stages and lead statuses (internal value and label), call dispositions, owners —
and, from the snapshot when there is one, how many leads hold each value now and how many
history events took it. A value the snapshot holds that the CRM no longer lists is shown
too ("not in the CRM's list"): a deleted or hidden option still carried by old leads.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.cli_errors import UserError
from app.cli_parser import default_db
from config.exit_codes import EXIT_OK
from connectors.core.metadata import Choice, PortalMetadata

FIELD_TITLES = {
    "hubspot": {
        "stage": "Lifecycle stages (lifecyclestage)",
        "status": "Lead statuses (hs_lead_status)",
    },
    "salesforce": {
        "stage": "Stages seen in the snapshot (won opportunities)",
        "status": "Lead statuses (Lead.Status)",
    },
}
NOT_LISTED = "(not in the CRM's list)"


@dataclass
class SnapshotCounts:
    """How often the snapshot holds each value of one source."""

    path: str
    now: Counter[tuple[str, str]]
    """(field, value) → live leads holding it now."""
    events: Counter[tuple[str, str]]
    """(field, value) → history events that set it."""
    outcomes: Counter[str]
    """Call outcome → live call activities with it."""
    outcome_labels: dict[str, str]


def read_counts(db: str, source: str) -> SnapshotCounts:
    """Count values in the snapshot at ``db`` (read only; never changes the file)."""
    conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    try:
        now: Counter[tuple[str, str]] = Counter()
        events: Counter[tuple[str, str]] = Counter()
        for field in ("stage", "status"):
            for value, count in conn.execute(
                f"select {field}, count(*) from leads where source = ? and is_deleted = 0 "
                f"and {field} is not null group by 1",
                [source],
            ):
                now[(field, value)] = count
        for field, value, count in conn.execute(
            "select field, value, count(*) from lead_history where lead_id >= ? and lead_id < ? "
            "and field in ('stage', 'status') and value is not null group by 1, 2",
            [f"{source}:", f"{source};"],
        ):
            events[(field, value)] = count
        outcomes: Counter[str] = Counter()
        labels: dict[str, str] = {}
        for outcome, label, count in conn.execute(
            "select outcome, max(outcome_label), count(*) from activities where source = ? "
            "and kind = 'call' and is_deleted = 0 and outcome is not null group by 1",
            [source],
        ):
            outcomes[outcome] = count
            if label:
                labels[outcome] = label
    finally:
        conn.close()
    return SnapshotCounts(db, now, events, outcomes, labels)


def value_rows(
    choices: tuple[Choice, ...], field: str, counts: SnapshotCounts | None
) -> list[dict[str, Any]]:
    """The CRM's values of ``field`` with their counts, then values only the snapshot holds."""
    rows: list[dict[str, Any]] = []
    for c in choices:
        row: dict[str, Any] = {"value": c.value, "label": c.label, "hidden": c.hidden}
        if c.converted:
            row["converted"] = True
        if counts is not None:
            row["leads_now"] = counts.now[(field, c.value)]
            row["history_events"] = counts.events[(field, c.value)]
        rows.append(row)
    if counts is not None:
        listed = {c.value for c in choices}
        extra = {v for (f, v) in (*counts.now, *counts.events) if f == field and v not in listed}
        for value in sorted(extra):
            rows.append(
                {
                    "value": value,
                    "label": None,
                    "listed": False,
                    "leads_now": counts.now[(field, value)],
                    "history_events": counts.events[(field, value)],
                }
            )
    return rows


def outcome_rows(meta: PortalMetadata, counts: SnapshotCounts | None) -> list[dict[str, Any]]:
    """Call dispositions with their counts; free-text outcomes come from the snapshot only."""
    rows: list[dict[str, Any]] = []
    listed = set()
    for c in meta.outcomes or ():
        listed.add(c.value)
        row: dict[str, Any] = {"value": c.value, "label": c.label}
        if counts is not None:
            row["activities"] = counts.outcomes[c.value]
        rows.append(row)
    if counts is not None:
        for value, count in sorted(counts.outcomes.items(), key=lambda kv: (-kv[1], kv[0])):
            if value not in listed:
                label = counts.outcome_labels.get(value)
                rows.append({"value": value, "label": label, "listed": False, "activities": count})
    return rows


def inspection(meta: PortalMetadata, counts: SnapshotCounts | None) -> dict[str, Any]:
    """Everything ``inspect`` shows, as the JSON it prints under ``--format json``."""
    from app.inspect_properties import property_rows

    return {
        "source": meta.source,
        "snapshot": counts.path if counts is not None else None,
        "stages": value_rows(meta.stages, "stage", counts),
        "statuses": value_rows(meta.statuses, "status", counts),
        "outcomes_listed_by_crm": meta.outcomes is not None,
        "outcomes": outcome_rows(meta, counts),
        "owners": [
            {"id": u.crm_id, "name": u.name, "email": u.email, "active": u.active}
            for u in meta.users
        ],
        "property_sample": meta.sample,
        "properties": property_rows(meta, counts.path if counts is not None else None),
    }


def _table(title: str, headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return [f"{title}: none", ""]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(
        f"{{:{'>' if h in ('leads now', 'events', 'calls') else '<'}{w}}}"
        for h, w in zip(headers, widths, strict=True)
    )
    out = [f"{title}:", "  " + line.format(*headers).rstrip()]
    out.extend("  " + line.format(*r).rstrip() for r in rows)
    return [*out, ""]


def render_table(data: dict[str, Any], *, every_property: bool = False) -> str:
    """The inspection for people: one table per list, counts when a snapshot was read."""
    from app.inspect_properties import render_properties

    counted = data["snapshot"] is not None
    titles = FIELD_TITLES.get(data["source"], {"stage": "Stages", "status": "Statuses"})
    out = [
        f"{data['source']}: "
        + (f"counts from {data['snapshot']}" if counted else "no snapshot read: values only"),
        "",
    ]
    for key, field in (("stages", "stage"), ("statuses", "status")):
        headers = ["value", "label", *(["leads now", "events"] if counted else [])]
        rows = []
        for r in data[key]:
            listed = r.get("listed", True) or not any(x.get("listed", True) for x in data[key])
            label = (r["label"] or "") if listed else NOT_LISTED
            label += " [hidden]" if r.get("hidden") else ""
            label += " [converted]" if r.get("converted") else ""
            counts = [str(r["leads_now"]), str(r["history_events"])] if counted else []
            rows.append([r["value"], label, *counts])
        out.extend(_table(titles[field], headers, rows))
    crm_lists = "" if data["outcomes_listed_by_crm"] else " (free text in this CRM: values seen)"
    crm_listed = data["outcomes_listed_by_crm"]
    rows = [
        [
            r["value"],
            (r["label"] or "")
            if r.get("listed", True) or not crm_listed
            else f"{r['label'] or ''} {NOT_LISTED}".strip(),
            *([str(r["activities"])] if counted else []),
        ]
        for r in data["outcomes"]
    ]
    out.extend(
        _table(
            f"Call outcomes{crm_lists}", ["value", "label", *(["calls"] if counted else [])], rows
        )
    )
    rows = [
        [u["name"] or "", u["email"] or "", "active" if u["active"] else "inactive", u["id"]]
        for u in data["owners"]
    ]
    out.extend(_table("Owners", ["name", "email", "state", "id"], rows))
    out.extend(render_properties(data, every=every_property))
    return "\n".join(out).rstrip() + "\n"


def _snapshot(db: str | None) -> str | None:
    """The snapshot to count from: ``--db`` (which must exist), else the default if present."""
    if db is not None:
        if not Path(db).is_file():
            raise UserError(f"no snapshot at {db}: run sync first, or leave --db out")
        return db
    fallback = default_db()
    return fallback if Path(fallback).is_file() else None


def cmd_inspect(args: argparse.Namespace) -> int:
    from config.settings import Settings
    from connectors.metadata import read_metadata

    settings = Settings.from_env()
    if not settings.source_configured(args.source):
        from config.sources import SOURCES

        raise UserError(f"{args.source} is not configured: {SOURCES[args.source].missing_hint}")
    if args.write_sla and Path(args.write_sla).exists():
        raise UserError(
            f"{args.write_sla} already exists: choose a new file name (inspect never overwrites)"
        )
    meta = read_metadata(args.source, settings)
    db = _snapshot(args.db)
    data = inspection(meta, read_counts(db, args.source) if db else None)
    if args.format == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(render_table(data, every_property=args.properties), end="")
    if args.write_sla:
        from app.starter_sla import write_starter

        where = (
            settings.value("HUBSPOT_BASE_URL")
            if args.source == "hubspot"
            else settings.value("SALESFORCE_INSTANCE_URL")
        )
        write_starter(Path(args.write_sla), meta, str(where or "the configured instance"))
        check = f"python run_audit.py check --sla {args.write_sla}" + (f" --db {db}" if db else "")
        print(f"inspect: wrote {args.write_sla}; check it with: {check}", file=sys.stderr)
    return EXIT_OK
