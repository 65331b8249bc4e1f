"""What the CRM may be hiding, in the data notes (issue 14, item 6): e-mail not logged,
Salesforce field history not tracked, HubSpot history missing — each checked on the
period's cohort, and silent when the cohort is too small for an absence to mean anything."""

from __future__ import annotations

import pytest

from audit.preflight import MIN_LEADS
from tests.tiny_crm import TinyCRM, audit

HANDOFF = "2026-10-14 10:00"


def hubspot_cohort(crm: TinyCRM, leads: int, *, emails: bool) -> None:
    ana = crm.owner("1", "ana@acme.example")
    for n in range(leads):
        lead = crm.lead(str(100 + n), owner=ana)
        crm.event(lead, "owner", ana, "2026-09-01 08:00")
        crm.mql(lead, HANDOFF)
        crm.activity(lead, "call", "2026-10-14 10:02")
        if emails:
            crm.activity(lead, "email", "2026-10-15 10:00")


def test_no_email_in_any_window_while_calls_are_there_is_said(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    hubspot_cohort(crm, MIN_LEADS, emails=False)
    notes = audit(crm).data_notes
    assert (
        f"no e-mail activity in any handoff's window while {MIN_LEADS} calls are there: if the "
        "CRM does not log e-mails (activity capture off), attempts and coverage count calls "
        "only"
    ) in notes


@pytest.mark.parametrize(("leads", "emails"), [(MIN_LEADS, True), (MIN_LEADS - 1, False)])
def test_emails_present_or_a_small_cohort_say_nothing(tmp_path, leads, emails):
    crm = TinyCRM(tmp_path / "s.db")
    hubspot_cohort(crm, leads, emails=emails)
    notes = audit(crm).data_notes
    assert not [n for n in notes if n.startswith("no e-mail")]
    assert not [n for n in notes if "changed after creation" in n]  # stage history there


def test_salesforce_status_and_owner_without_history_after_creation_are_said(tmp_path):
    # Every lead created straight as "Marketing Qualified" with its owner, and never
    # changed: Status and Owner history tracking look off.
    crm = TinyCRM(tmp_path / "s.db", source="salesforce")
    sam = crm.owner("005A", "sam@acme.example")
    for n in range(MIN_LEADS):
        lead = crm.lead(f"00Q{n:03d}", owner=sam, created=HANDOFF)
        crm.event(lead, "status", "Marketing Qualified", HANDOFF)
        crm.event(lead, "owner", sam, HANDOFF)
        crm.activity(lead, "email", "2026-10-14 10:05")
    notes = audit(crm).data_notes
    assert [n.split(":")[0] for n in notes if "changed after creation" in n] == [
        f"no Salesforce lead of the {MIN_LEADS} handed off had its Status changed after creation",
        f"no Salesforce lead of the {MIN_LEADS} handed off had its Owner changed after creation",
    ]


def test_activities_linked_to_a_contact_never_served_are_said(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    hubspot_cohort(crm, 2, emails=True)
    crm.activity("hubspot:999", "call", "2026-10-14 11:00")  # a contact merged away
    crm.activity("hubspot:999", "email", "2026-10-14 12:00")
    notes = audit(crm).data_notes
    assert (
        "2 activity links point to 1 contact or lead the CRM never served (merged away, "
        "purged, or hidden from the integration user): those activities count for no lead; "
        "a 'sync --full' reads them again"
    ) in notes


def test_a_link_whose_contact_is_served_later_is_not_dangling(tmp_path):
    crm = TinyCRM(tmp_path / "s.db")
    hubspot_cohort(crm, 2, emails=True)
    crm.activity("hubspot:500", "call", "2026-10-14 11:00")  # linked before its contact came
    crm.lead("500")
    assert not [n for n in audit(crm).data_notes if "never served" in n]
