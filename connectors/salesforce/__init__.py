"""Salesforce → snapshot: users, leads with their funnel history, conversions, won
opportunities, and tasks and events linked to leads.

Every request goes through ``simple-salesforce`` — ``query`` for a query's first page,
``query_more(nextRecordsUrl, identifier_is_url=True)`` for the next ones (``include_deleted``
makes both ``queryAll``), ``limits()``, and the Bulk API 2.0 client behind ``sf.bulk2`` —
one HTTP exchange per engine ``send``, so the shared engine retries, throttles, counts and
commits page by page exactly as for HubSpot. The library raises on any status ≥ 300 and
parses bodies itself; a response hook on our ``requests.Session`` keeps the raw answer
(status, headers, body), which is what the engine judges: a refusal, a 5xx to retry, a
truncated body, the ``Sforce-Limit-Info`` usage header.

How each stream syncs (all incremental after the first run, all resumable mid-scan):

* **users, leads, tasks, events** — ``queryAll`` ordered by ``SystemModstamp, Id`` from the
  cursor (``>=``, with a look-back on the next run). ``queryAll`` returns deleted records
  too (``IsDeleted = true``, SystemModstamp = deletion): one scan per object sees changes
  and deletions alike, and a lead created and deleted between two syncs arrives whole.
  Users are read with ``query``: a user is deactivated, never deleted.
* **lead_history** — ``LeadHistory`` rows for Status, Owner and leadConverted by
  ``CreatedDate`` (history rows never change once written).
* **lead_conversions** — converted leads whose ``leadConverted`` history row never came:
  the conversion instant falls back to ``ConvertedDate``. Read only up to a look-back
  before the history stream began, so a conversion whose row is still on its way does not
  get a second, coarser instant.
* **opportunities** — won opportunities (``IsWon = true``); the lead converted into one
  gets a ``stage`` event with the opportunity's ``StageName``.

Small deltas page through REST (≤ 2,000 records a page); when a query's first page says
(``totalSize``) that the window holds more than ``bulk_threshold`` records, the window is
read by a Bulk API 2.0 query job instead (unordered CSV pages walked by ``Sforce-Locator``;
the cursor holds the job id and locator, so a killed sync resumes mid-job). A query that
fails with ``QUERY_TIMEOUT`` is asked again for the first half of its date window (a first
sync's window starts at the org's first user, not in 1999), halved until it answers; the
next window then starts where it ended, twice as wide. The look-back, the retries and the
order of commits are the engine's, as for HubSpot.

**Funnel history.** Salesforce records no history row for the values a lead is *created*
with, so the value of Status and Owner at ``CreatedDate`` is derived: the first history
row's ``OldValue`` if there is one, else the lead's current value (a lead created straight
into "Marketing Qualified" has no Status row and still enters MQL at its creation). The
lead and its history arrive in different streams, so the snapshot is where they meet:

* the leads stream writes the current value at ``CreatedDate`` for each field that has no
  change rows yet;
* the history stream, on the first change of a field, writes that change's ``OldValue``
  at ``CreatedDate`` — replacing the leads stream's guess when the lead changed before
  its history was read. Both run in one sync, so the snapshot is right when it ends;
* a lead created after the leads query and changed before the history query (its history
  came first, with no CreatedDate to anchor to) has its history read on its own the next
  run — one query, rarely needed.

Owner changes come as two rows at one instant (the Ids, DataType ``EntityId``; the
names, ``Text``): the Id row is kept, and the value is ``salesforce:{user id}``; an owner
that is a queue (``00G…``) is stored as no owner, since no rep holds the lead.

What is lost on the way, on purpose and documented: ``ConvertedDate`` and ``CloseDate``
are dates, so the fallback conversion instant and the won-opportunity instant are that
date's midnight in UTC (not earlier than the lead's creation / conversion) — up to a day
off; emails logged as tasks carry no direction in Salesforce and are taken as outbound.

The package, one job a module: ``specs`` (the objects and SOQL, as data), ``options``,
``dialect`` (error bodies, limits, fixes), ``transport`` (simple-salesforce on our TLS
session), ``reader`` (REST pages and Bulk API jobs through the engine), ``mapping``
(records → rows), ``facts`` (snapshot reads), ``soql_stream`` (the shared query engine),
``streams`` (one class per stream), ``connector`` (the source and its builder). The names
other packages import are re-exported here.
"""

from connectors.salesforce.connector import SalesforceConnector, build_connector
from connectors.salesforce.dialect import SESSION_FIX, SalesforceDialect
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.reader import parse_bulk_page
from connectors.salesforce.transport import SalesforceTransport, ca_bundle_path, tls_session

__all__ = [
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
