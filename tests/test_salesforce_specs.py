"""The Salesforce streams declared as data (``connectors.salesforce.specs``) and the pure
record mapping (``connectors.salesforce.mapping``), read without a server: the SOQL a
window becomes, a hidden field left out, a Bulk API CSV row typed like REST JSON, and
an owner change's pair of history rows reduced to the one the funnel needs."""

from __future__ import annotations

import pytest

import connectors.salesforce as salesforce
from connectors.salesforce.mapping import history_changes, user_ref
from connectors.salesforce.specs import LEAD_HISTORY, LEADS, TASKS, USERS

LEAD = "00Q000000000001AAA"
REP = "005000000000001AAA"
QUEUE = "00G000000000001AAA"


def test_a_window_reads_from_the_cursor_floored_to_the_second_in_cursor_then_id_order() -> None:
    soql = LEAD_HISTORY.soql("2026-01-01T10:00:00.250Z", "2026-01-02T00:00:00.000Z")

    # 10:00:00.250 floors to 10:00:00 (the records a few ms earlier are dropped later).
    assert soql == (
        "SELECT Id, LeadId, Field, DataType, OldValue, NewValue, CreatedDate, IsDeleted "
        "FROM LeadHistory WHERE Field IN ('Status', 'Owner', 'leadConverted') "
        "AND CreatedDate >= 2026-01-01T10:00:00Z AND CreatedDate < 2026-01-02T00:00:00Z "
        "ORDER BY CreatedDate ASC, Id ASC"
    )


def test_a_bulk_job_query_has_no_order_by_because_the_bulk_api_refuses_one() -> None:
    soql = USERS.soql(None, None, ordered=False)

    assert soql == (
        "SELECT Id, Name, Email, IsActive, CreatedDate, LastModifiedDate, SystemModstamp FROM User"
    )


def test_a_hidden_optional_field_is_left_out_but_an_essential_one_is_not() -> None:
    smaller = LEADS.without("Industry")

    assert smaller is not None
    assert "Industry" not in smaller.kinds
    assert len(smaller.kinds) == len(LEADS.kinds) - 1
    assert LEADS.without("Status") is None  # the funnel cannot do without it
    assert LEADS.without("Id") is None


def test_a_bulk_csv_row_is_typed_as_rest_would_have_sent_it() -> None:
    row = {
        "Id": "00T000000000001AAA",
        "CallDurationInSeconds": "42",
        "IsClosed": "false",
        "CreatedDate": "2026-03-02T09:15:00.000Z",
        "Subject": "",
    }

    record = TASKS.from_csv(row)

    assert record["CallDurationInSeconds"] == 42
    assert record["IsClosed"] is False
    assert record["CreatedDate"] == "2026-03-02T09:15:00.000+0000"  # REST's rendering
    assert record["Subject"] is None  # an empty CSV cell is null
    assert set(record) == set(TASKS.kinds)  # columns the CSV lacked are null too


def test_an_owner_change_keeps_its_id_row_and_a_queue_owner_is_no_owner() -> None:
    at = "2026-03-02T09:15:00.000+0000"
    id_row = {"Id": "017A", "LeadId": LEAD, "Field": "Owner", "DataType": "EntityId"}
    name_row = {"Id": "017B", "LeadId": LEAD, "Field": "Owner", "DataType": "Text"}
    records = [
        {**id_row, "OldValue": REP, "NewValue": QUEUE, "CreatedDate": at},
        {**name_row, "OldValue": "Ann Rep", "NewValue": "Inbound queue", "CreatedDate": at},
    ]

    changes = history_changes(records)

    assert len(changes) == 1
    (change,) = changes
    assert change.field == "owner"
    assert change.old == f"salesforce:{REP}"
    assert change.value is None  # a queue holds the lead, no rep does
    assert user_ref(QUEUE) is None


def test_the_names_other_packages_import_stay_on_the_package() -> None:
    for name in ("SalesforceOptions", "SESSION_FIX", "tls_session", "build_connector"):
        assert hasattr(salesforce, name), name
    assert sorted(salesforce.__all__) == sorted(
        [
            "SESSION_FIX",
            "SalesforceConnector",
            "SalesforceDialect",
            "SalesforceOptions",
            "SalesforceTransport",
            "build_connector",
            "ca_bundle_path",
            "parse_bulk_page",
            "tls_session",
        ]
    )


def test_a_deleted_task_keeps_its_deletion_instant() -> None:
    """Issue 14, item 9: a deleted row's SystemModstamp is when it was deleted."""
    from connectors.core import StreamStats
    from connectors.salesforce.mapping import map_activity

    task = {
        "Id": "00T000000000001AAA",
        "Type": "Call",
        "TaskSubtype": "Call",
        "Subject": "Call",
        "Status": "Completed",
        "CallDisposition": None,
        "CallType": "Outbound",
        "CallDurationInSeconds": 60,
        "ActivityDate": "2026-10-05",
        "CompletedDateTime": "2026-10-05T13:02:00.000+0000",
        "CreatedDate": "2026-10-05T13:02:00.000+0000",
        "LastModifiedDate": "2026-12-02T12:00:00.000+0000",
        "SystemModstamp": "2026-12-02T12:00:00.000+0000",
        "OwnerId": "005000000000001AAA",
        "WhoId": "00Q000000000001AAA",
        "IsDeleted": True,
    }
    row = map_activity(task, "Task", StreamStats())
    assert (row["is_deleted"], row["deleted_at"]) == (1, "2026-12-02T12:00:00.000Z")
    live = map_activity({**task, "IsDeleted": False}, "Task", StreamStats())
    assert (live["is_deleted"], live["deleted_at"]) == (0, None)


def test_is_deleted_sent_as_text_is_read_by_its_value() -> None:
    from connectors.core import RecordError, StreamStats
    from connectors.salesforce.mapping import map_activity

    task = {
        "Id": "00T000000000002AAA",
        "Type": "Email",
        "TaskSubtype": "Email",
        "CreatedDate": "2026-10-05T13:02:00.000+0000",
        "SystemModstamp": "2026-10-05T13:02:00.000+0000",
        "IsDeleted": "false",
    }
    assert map_activity(task, "Task", StreamStats())["is_deleted"] == 0
    with pytest.raises(RecordError, match="Salesforce Task 00T000000000002AAA IsDeleted"):
        map_activity({**task, "IsDeleted": "sometimes"}, "Task", StreamStats())


@pytest.mark.parametrize(
    ("subtype", "task_type", "kind"),
    [
        ("Call", None, "call"),
        ("Task", "Call", "call"),  # a dialer or an API insert: a call all the same
        (None, "Call", "call"),
        ("Task", "Email", "email"),
        ("Email", "Other", "email"),
        ("Task", "Other", "task"),
        ("Task", None, "task"),
    ],
)
def test_a_task_is_a_call_by_its_subtype_or_its_type(subtype, task_type, kind) -> None:
    """Issue 14, item 5: Type='Call' with TaskSubtype='Task' is an attempt by phone."""
    from connectors.salesforce.mapping import activity_kind

    assert activity_kind({"TaskSubtype": subtype, "Type": task_type}, "Task") == kind
