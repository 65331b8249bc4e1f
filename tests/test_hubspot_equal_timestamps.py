"""Issue 14, item 3 at HubSpot's own scale: 25,000 contacts stamped with one millisecond.

A bulk import or a workflow sets ``lastmodifieddate`` of many contacts to one instant. The
search API reaches at most 10,000 results of one query, so ``lastmodifieddate >= T``
sorted by date cannot page past them; and the order among equal sort keys is not
documented, so paging by offset among them could skip or repeat contacts. The sync walks
the instant by object id (``lastmodifieddate = T`` and ``hs_object_id > last``, sorted by
``hs_object_id``), then goes on after T. Every contact must arrive, with no 400.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.sync import sync_source
from sandbox.generator import generate_crm
from sandbox.hubspot_server import HubSpotSandbox
from snapshot.store import SnapshotStore
from tests.conftest import FIXED_END, HUBSPOT_TOKEN, hubspot_settings_for

BULK = 25_000
PAGE = 200


def test_twenty_five_thousand_contacts_at_one_instant_all_arrive(tmp_path: Path) -> None:
    crm = generate_crm(size=50, seed=11, end=FIXED_END)
    with HubSpotSandbox(
        crm, token=HUBSPOT_TOKEN, search_per_second=None, ten_second_budget=None
    ) as sandbox:
        assert sandbox.search_result_cap == 10_000  # HubSpot's documented cap, unchanged
        settings = hubspot_settings_for(sandbox)
        store = SnapshotStore(tmp_path / "s.db")
        sync_source("hubspot", store, settings)
        bulk = datetime.now(UTC).replace(microsecond=0)
        keys = [crm.add_lead(bulk).key for _ in range(BULK)]
        sandbox.reset_counters()

        summary = sync_source("hubspot", store, settings)

        assert sandbox.statuses[400] == 0
        assert summary.streams["contacts"].expected == BULK
        # one page at T (it reports more than the cap); T by id, 200 a page, until a page
        # comes back short (25,000 is a multiple of 200: an empty 126th page says the
        # instant is done); one empty page after T
        searches = sandbox.requests["POST /crm/v3/objects/contacts/search"]
        assert searches == 1 + (BULK // PAGE + 1) + 1
        stored = store.db.execute(
            "select count(*) from leads where created_at = ?",
            [bulk.strftime("%Y-%m-%dT%H:%M:%S.000Z")],
        ).fetchone()[0]
        assert stored == BULK == len(set(keys))
