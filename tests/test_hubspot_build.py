"""``connectors.hubspot.build_connector``: the registry's builder hands the settings on."""

from __future__ import annotations

from datetime import timedelta

from config.settings import Secret, Settings
from connectors.core import SyncOptions, SystemClock
from connectors.hubspot import HubSpotConnector, build_connector


def test_build_connector_passes_token_url_portal_options_and_clock_to_the_connector() -> None:
    settings = Settings(
        hubspot_access_token=Secret("pat-test"),
        hubspot_base_url="http://127.0.0.1:9",
        hubspot_portal_id="42",
    )
    options = SyncOptions(lookback=timedelta(minutes=3))
    clock = SystemClock()

    connector = build_connector(settings, options, clock)

    assert isinstance(connector, HubSpotConnector)
    assert connector.dialect.base_url == "http://127.0.0.1:9"
    assert connector.ctx.portal_id == "42"
    assert connector.options is options
    assert connector.clock is clock
    # owners, then contacts and the six engagement types, each with its deletions, each
    # engagement type's links re-read, then the Leads object, then the funnel values'
    # labels (issue 15, item 7): 1 + 7 × 2 + 6 + 1 + 1
    names = [stream.name for stream in connector.streams()]
    assert len(names) == 23
    assert names[:7] == [
        "owners",
        "contacts",
        "contacts_archived",
        "calls",
        "calls_archived",
        "calls_links",
        "emails",
    ]
