"""The lead properties part of ``run_audit.py inspect`` (issue 15, item 1): every contact
property (HubSpot) or Lead field (Salesforce) the integration user can see, with its type
and fill rate — the names to write in the SLA file for a reason, segment or tier field.

The fill rate comes from the snapshot for the properties it holds (synced with
``sync --sla``, every lead counted), else from the CRM's sample (HubSpot: the 200 most
recently modified contacts; Salesforce: every live lead, counted by one query), and each
row says which. The table lists the custom properties and those the sample finds filled;
``--properties`` lists every one (JSON always does).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from connectors.core.metadata import PortalMetadata


def snapshot_fill(db: str, source: str) -> dict[str, tuple[int, int]]:
    """Property → (leads with a value, leads) of the properties the snapshot holds."""
    conn = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "select field, count(value), count(*) from lead_fields where lead_id >= ? "
            "and lead_id < ? group by 1",
            [f"{source}:", f"{source};"],
        ).fetchall()
    except sqlite3.OperationalError:  # a snapshot written before lead_fields existed
        rows = []
    finally:
        conn.close()
    return {str(name): (int(filled), int(total)) for name, filled, total in rows}


def property_rows(meta: PortalMetadata, db: str | None) -> list[dict[str, Any]]:
    """One row per property: name, label, type, flags, and its fill rate with its origin."""
    held = snapshot_fill(db, meta.source) if db else {}
    rows = []
    for p in meta.properties:
        row: dict[str, Any] = {
            "name": p.name,
            "label": p.label,
            "type": p.type,
            "custom": p.custom,
            "hidden": p.hidden,
            "calculated": p.calculated,
        }
        if p.name in held:
            filled, total = held[p.name]
            row.update(filled=filled, counted=total, fill_from="snapshot")
        elif p.sampled is not None and p.filled is not None:
            row.update(filled=p.filled, counted=p.sampled, fill_from="sample")
        else:
            row.update(filled=None, counted=None, fill_from=None)
        rows.append(row)
    return rows


def _rate(row: dict[str, Any]) -> str:
    if row["filled"] is None or not row["counted"]:
        return "-"
    share = 100 * row["filled"] / row["counted"]
    origin = "snapshot" if row["fill_from"] == "snapshot" else "CRM"
    return f"{share:.0f}% ({row['filled']}/{row['counted']}, {origin})"


def render_properties(data: dict[str, Any], *, every: bool) -> list[str]:
    """Lines of the properties table (custom first); without ``every``, the default
    properties the sample finds empty are counted, not listed."""
    rows = data.get("properties") or []
    shown = [r for r in rows if every or r["custom"] or r["filled"]]
    left = len(rows) - len(shown)
    title = f"Lead properties (fill rate: snapshot where synced, else {data['property_sample']})"
    if not shown:
        return [f"{title}: none", ""]
    table = [
        [
            r["name"],
            r["label"]
            + (" [hidden]" if r["hidden"] else "")
            + (" [calculated]" if r["calculated"] else ""),
            r["type"],
            "custom" if r["custom"] else "default",
            _rate(r),
        ]
        for r in shown
    ]
    headers = ["name", "label", "type", "kind", "filled"]
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(headers)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [f"{title}:", "  " + line.format(*headers).rstrip()]
    out.extend("  " + line.format(*r).rstrip() for r in table)
    if left:
        out.append(
            f"  … and {left} default properties empty in the sample (--properties lists all)"
        )
    return [*out, ""]
