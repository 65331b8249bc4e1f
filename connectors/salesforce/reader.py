"""The Salesforce calls the streams make — REST query pages (``query``, ``queryAll``,
``nextRecordsUrl``) and Bulk API 2.0 query jobs (create, poll, CSV result pages) — each
through the engine's ``Api.call``, so retries, throttling and request counts stay the
engine's."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.core import Api, HttpAnswer, Reply
from connectors.salesforce.options import SalesforceOptions
from connectors.salesforce.specs import SObjectSpec
from connectors.salesforce.transport import SalesforceTransport


def _query_shape(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("records"), list) and "done" in data


def parse_bulk_page(answer: HttpAnswer) -> tuple[list[dict[str, str]], str | None]:
    """A Bulk API 2.0 results page: CSV rows, and the locator of the next page (None: last).

    ``Sforce-NumberOfRecords`` must match the rows read, or the page was cut short: a
    ``ValueError``, which the engine retries like a truncated JSON answer.
    """
    announced = answer.headers.get("sforce-numberofrecords")
    if announced is None or not announced.strip().isdigit():
        raise ValueError("no Sforce-NumberOfRecords header")
    text = answer.body.decode("utf-8").replace("\x00", "")
    rows = list(csv.DictReader(io.StringIO(text, newline=""))) if text.strip() else []
    if len(rows) != int(announced):
        raise ValueError(f"{len(rows)} CSV rows where {announced} were announced")
    locator = answer.headers.get("sforce-locator")
    return rows, (locator if locator not in (None, "", "null") else None)


@dataclass
class SalesforceReader:
    """The Salesforce calls the streams make, each through ``Api.call`` (retry + count)."""

    transport: SalesforceTransport
    options: SalesforceOptions

    def query(self, api: Api, spec: SObjectSpec, soql: str) -> Reply:
        verb = "queryAll" if spec.include_deleted else "query"
        return api.call(
            f"GET /{verb} ({spec.sobject})",
            lambda: self.transport.query(
                soql, include_deleted=spec.include_deleted, batch_size=self.options.batch_size
            ),
            expect=_query_shape,
        )

    def query_more(self, api: Api, spec: SObjectSpec, next_url: str) -> Reply:
        return api.call(
            f"GET nextRecordsUrl ({spec.sobject})",
            lambda: self.transport.query_more(next_url, batch_size=self.options.batch_size),
            expect=_query_shape,
        )

    def records(self, api: Api, spec: SObjectSpec, soql: str) -> list[dict[str, Any]]:
        """Every record of a (small) query, following ``nextRecordsUrl``."""
        reply = self.query(api, spec, soql)
        records = list(reply.data["records"])
        while not reply.data["done"] and reply.data.get("nextRecordsUrl"):
            reply = self.query_more(api, spec, str(reply.data["nextRecordsUrl"]))
            records.extend(reply.data["records"])
        return [without_attributes(r) for r in records]

    def start_job(self, api: Api, spec: SObjectSpec, soql: str) -> str:
        """Create a Bulk API 2.0 query job and wait until it is ``JobComplete``."""
        reply = api.call(
            f"POST /jobs/query ({spec.sobject})",
            lambda: self.transport.bulk_create(
                spec.sobject, soql, include_deleted=spec.include_deleted
            ),
            expect=lambda d: isinstance(d, dict) and bool(d.get("id")),
        )
        job = str(reply.data["id"])
        delay, waited = self.options.bulk_poll_s, 0.0
        while True:
            status = api.call(
                f"GET /jobs/query/{{id}} ({spec.sobject})",
                lambda: self.transport.bulk_job(spec.sobject, job),
                expect=lambda d: isinstance(d, dict) and "state" in d,
            ).data
            state = str(status["state"])
            if state == "JobComplete":
                return job
            if state in ("Failed", "Aborted"):
                reason = " ".join(str(status.get("errorMessage") or "no reason given").split())
                raise api.fail(
                    f"the Bulk API query job {job} for {spec.sobject} ended {state} "
                    f"({reason[:200]}); run the sync again (it resumes where it stopped)"
                )
            if waited >= self.options.bulk_wait_s:
                raise api.fail(
                    f"the Bulk API query job {job} for {spec.sobject} was still {state} after "
                    f"{waited:.0f}s; run the sync again later (it resumes where it stopped)"
                )
            api.clock.sleep(delay)
            waited += delay
            delay = min(delay * 2, self.options.bulk_poll_max_s)

    def job_page(
        self, api: Api, spec: SObjectSpec, job: str, locator: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        reply = api.call(
            f"GET /jobs/query/{{id}}/results ({spec.sobject})",
            lambda: self.transport.bulk_results(
                spec.sobject, job, locator, self.options.bulk_page_size
            ),
            parse=parse_bulk_page,
        )
        rows, next_locator = reply.data
        return [spec.from_csv(row) for row in rows], next_locator


def without_attributes(record: Mapping[str, Any]) -> dict[str, Any]:
    """A REST record without its ``attributes`` (type and an API-versioned URL)."""
    return {k: v for k, v in record.items() if k != "attributes"}
