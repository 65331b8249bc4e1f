"""HubSpot's built-in call dispositions, in one place for the connector and the SLA model.

``hs_call_disposition`` stores a GUID; the connector keeps its English label beside it, and
the SLA model's canonical call outcomes default to both (GUID and label), so an SLA file
written with either form matches.
"""

from __future__ import annotations

HUBSPOT_DISPOSITION_LABELS: dict[str, str] = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}

MEETING_NOT_HELD: list[str] = []
"""Meeting outcomes of a meeting that did not take place: an attempt, not a connection.

Empty by default, because the contract (docs/SEMANTICS.md §4) says a meeting connects; an
SLA file that wants HubSpot's no-shows and cancellations left out writes
``outcomes: {meeting_not_held: [NO_SHOW, CANCELED]}`` (the example SLA does)."""

BUILTIN_OUTCOMES: dict[str, list[str]] = {
    label.lower().replace(" ", "_"): [guid, label]
    for guid, label in HUBSPOT_DISPOSITION_LABELS.items()
} | {"meeting_not_held": MEETING_NOT_HELD}
"""Canonical outcome -> raw values meaning it: each call outcome's HubSpot GUID and English
label, and the meeting outcomes of a meeting not held.

``sales.outcomes`` in the SLA file replaces an entry, for portals with custom
dispositions or Salesforce orgs whose ``CallDisposition`` is free text.
"""
