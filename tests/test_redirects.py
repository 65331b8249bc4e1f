"""A redirect from the CRM: followed on the same host, refused (with one line) to another.

Both sandboxes answer an injected ``redirect`` fault with ``307`` to the same URL on the
same host, and a ``redirect_away`` fault with ``307`` to the same path on another host.
The first must cost one extra request and nothing else (the night's run goes on); the
second must never be followed with the credentials and stops the run naming the host.
"""

from __future__ import annotations

import pytest
from urllib3.util.retry import Retry

from config.settings import Settings
from connectors.hubspot import NO_RETRIES, HubSpotConnector
from connectors.salesforce import SalesforceOptions
from connectors.sync import SyncError, SyncSummary, sync_source
from sandbox.generator import CRM
from sandbox.http_sandbox import ELSEWHERE
from sandbox.hubspot_server import HubSpotSandbox
from sandbox.salesforce_server import SalesforceSandbox
from snapshot.store import SnapshotStore
from tests.conftest import (
    HUBSPOT_TOKEN,
    FastClock,
    expected_salesforce_snapshot,
    expected_snapshot,
    salesforce_settings_for,
    snapshot_rows,
)


def test_the_clients_own_retries_are_off_and_only_redirects_are_followed() -> None:
    connector = HubSpotConnector(HUBSPOT_TOKEN, "http://127.0.0.1:9")
    pools = connector.transport.pools()
    assert len(pools) == 6  # objects: basic, search, batch; owners; associations; properties
    for pool in pools:
        retries = pool.connection_pool_kw["retries"]
        assert isinstance(retries, Retry) and retries is NO_RETRIES
        assert not retries.raise_on_status and not retries.raise_on_redirect
        assert not retries.is_retry("GET", 503, has_retry_after=True)
        assert not retries.is_retry("GET", 429, has_retry_after=True)
        assert retries.redirect == 3
    refused = ConnectionRefusedError("nobody listens")
    with pytest.raises(ConnectionRefusedError):  # raised as itself, for the engine to retry
        NO_RETRIES.increment("GET", "/x", error=refused)


def test_hubspot_a_same_host_redirect_is_followed_and_costs_one_request(
    crm: CRM,
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    elsewhere = SnapshotStore(store.path.with_name("clean.db"))
    clean = sync_source("hubspot", elsewhere, hubspot_settings)
    hubspot_sandbox.reset_counters()
    hubspot_sandbox.inject("redirect", count=1, path_contains="/crm/v3/objects/contacts")
    hubspot_sandbox.inject("redirect", count=1, path_contains="/crm/v3/objects/calls")

    summary = sync_source("hubspot", store, hubspot_settings, clock=fast_clock)

    assert snapshot_rows(store) == expected_snapshot(crm)
    assert hubspot_sandbox.pending_faults() == 0
    assert summary.retries == 0  # followed by the client, not retried by the engine
    # The engine counts requests it asked for; the sandbox saw the two 307s besides.
    assert summary.requests == clean.requests
    assert hubspot_sandbox.statuses[307] == 2


def test_hubspot_a_redirect_to_another_host_stops_with_one_line_and_no_token(
    store: SnapshotStore,
    hubspot_settings: Settings,
    hubspot_sandbox: HubSpotSandbox,
    fast_clock: FastClock,
) -> None:
    hubspot_sandbox.inject("redirect_away", count=5, path_contains="/crm/v3/owners")

    try:
        sync_source("hubspot", store, hubspot_settings, clock=fast_clock)
    except SyncError as stopped:
        message = str(stopped)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("the sync followed a redirect to another host")

    assert f"redirected the call to {ELSEWHERE}/crm/v3/owners" in message
    assert "check HUBSPOT_BASE_URL" in message and "\n" not in message
    assert HUBSPOT_TOKEN not in message
    assert hubspot_sandbox.pending_faults() == 4  # refused at once, never retried


def salesforce_sync(
    sandbox: SalesforceSandbox, store: SnapshotStore, clock: FastClock
) -> SyncSummary:
    settings = salesforce_settings_for(sandbox, sandbox.token)
    options = SalesforceOptions(ca_bundle=sandbox.ca_path)
    return sync_source("salesforce", store, settings, options=options, clock=clock)


def test_salesforce_a_same_host_redirect_is_followed(
    salesforce_sandbox: SalesforceSandbox, store: SnapshotStore, fast_clock: FastClock
) -> None:
    salesforce_sandbox.inject("redirect", count=2, path_contains="/query")

    summary = salesforce_sync(salesforce_sandbox, store, fast_clock)

    org, url = salesforce_sandbox.org(), salesforce_sandbox.instance_url
    assert snapshot_rows(store) == expected_salesforce_snapshot(org, url)
    assert salesforce_sandbox.pending_faults() == 0
    assert summary.retries == 0


def test_salesforce_a_redirect_to_another_host_stops_with_one_line_and_no_session(
    salesforce_sandbox: SalesforceSandbox, store: SnapshotStore, fast_clock: FastClock
) -> None:
    salesforce_sandbox.inject("redirect_away", count=5, path_contains="/query")

    try:
        salesforce_sync(salesforce_sandbox, store, fast_clock)
    except SyncError as stopped:
        message = str(stopped)
    else:  # pragma: no cover - the assertion below explains
        raise AssertionError("the sync followed a redirect to another host")

    assert f"redirected the call to {ELSEWHERE}/services/data" in message
    assert "\n" not in message and salesforce_sandbox.token not in message
    assert salesforce_sandbox.pending_faults() == 4
