"""The HubSpot sandbox, driven by the real hubspot-api-client as the connector will drive it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import urllib3
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.contacts import (
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)
from hubspot.crm.contacts.exceptions import ApiException, ServiceException, UnauthorizedException
from hubspot.crm.objects.notes.exceptions import ApiException as NotesApiException
from hubspot.crm.owners.exceptions import UnauthorizedException as OwnersUnauthorizedException
from urllib3.util import Retry

from sandbox.generator import CRM, generate_crm
from sandbox.hubspot_server import (
    HubSpotSandbox,
    contact_id,
    engagement_id,
    owner_id,
)

END = datetime(2026, 10, 15, 12, tzinfo=UTC)
FUNNEL = ["lifecyclestage", "hs_lead_status", "hubspot_owner_id"]


@pytest.fixture(scope="module")
def crm() -> CRM:
    return generate_crm(600, seed=5, end=END)


@pytest.fixture
def hs(crm: CRM) -> Iterator[HubSpotSandbox]:
    with HubSpotSandbox(crm, ten_second_budget=None, search_per_second=None) as sandbox:
        yield sandbox


def client(hs: HubSpotSandbox, token: str | None = None) -> HubSpot:
    """The real client, pointed at the sandbox, with urllib3's own retries off."""
    return HubSpot(access_token=token or hs.token, host=hs.base_url, retry=Retry(0))


def raw(hs: HubSpotSandbox, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {hs.token}", **kwargs.pop("headers", {})}
    return requests.request(method, hs.base_url + path, headers=headers, timeout=10, **kwargs)


def ms(at: datetime) -> str:
    return str(int(at.timestamp() * 1000))


# --------------------------------------------------------------------------- list


def test_listing_every_contact_with_history_matches_the_crm(hs: HubSpotSandbox, crm: CRM) -> None:
    api = client(hs).crm.contacts.basic_api
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = api.get_page(
            limit=50, after=after, properties=["email", *FUNNEL], properties_with_history=FUNNEL
        )
        pages += 1
        assert len(page.results) <= 50
        for item in page.results:
            seen.append(item.id)
            lead = crm.lead(int(item.id) - 100_000)
            stages = [h.value for h in item.properties_with_history["lifecyclestage"]]
            expected = [h.value for h in lead.history if h.field == "stage"]
            assert stages == expected[::-1]  # newest first, as HubSpot answers
            stamps = [h.timestamp for h in item.properties_with_history["lifecyclestage"]]
            assert stamps == sorted(stamps, reverse=True)
            assert item.properties["lifecyclestage"] == lead.stage
        if page.paging is None:
            break
        after = page.paging.next.after
    live = [lead for lead in crm.leads if not lead.archived]
    assert len(seen) == len(set(seen)) == len(live)
    assert pages == -(-len(live) // 50)
    assert hs.requests["GET /crm/v3/objects/contacts"] == pages


def test_archived_contacts_are_listed_apart_with_archived_at(hs: HubSpotSandbox, crm: CRM) -> None:
    page = client(hs).crm.contacts.basic_api.get_page(limit=100, archived=True)
    archived = [lead for lead in crm.leads if lead.archived]
    assert archived
    assert {r.id for r in page.results} == {contact_id(lead.key) for lead in archived}
    assert all(r.archived and r.archived_at is not None for r in page.results)


def test_limit_above_100_is_capped_and_50_with_history(hs: HubSpotSandbox) -> None:
    api = client(hs).crm.contacts.basic_api
    assert len(api.get_page(limit=500).results) == 100
    assert len(api.get_page(limit=100, properties_with_history=["lifecyclestage"]).results) == 50
    assert len(api.get_page().results) == 10  # HubSpot's default page size


def test_strict_limits_turn_an_oversized_page_into_a_400(crm: CRM) -> None:
    with HubSpotSandbox(crm, strict_limits=True) as hs:
        with pytest.raises(ApiException) as err:
            client(hs).crm.contacts.basic_api.get_page(limit=101)
        assert err.value.status == 400
        assert json.loads(err.value.body)["category"] == "VALIDATION_ERROR"


def test_only_requested_properties_come_back_with_nulls_for_missing_values(
    hs: HubSpotSandbox, crm: CRM
) -> None:
    unowned = next(lead for lead in crm.leads if lead.owner_key is None and not lead.archived)
    body = raw(
        hs,
        "GET",
        f"/crm/v3/objects/contacts/{contact_id(unowned.key)}",
        params={"properties": "email,hubspot_owner_id,no_such_property"},
    ).json()
    assert set(body["properties"]) == {
        "email",
        "hubspot_owner_id",
        "createdate",
        "lastmodifieddate",
        "hs_object_id",
    }
    assert body["properties"]["hubspot_owner_id"] is None
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24


def test_repeated_and_comma_separated_query_keys_mean_the_same(hs: HubSpotSandbox) -> None:
    repeated = raw(
        hs, "GET", "/crm/v3/objects/contacts?limit=3&properties=email&properties=company"
    ).json()
    commas = raw(hs, "GET", "/crm/v3/objects/contacts?limit=3&properties=email,company").json()
    assert repeated == commas
    assert set(repeated["results"][0]["properties"]) >= {"email", "company"}


def test_engagements_carry_their_type_properties_and_contact_associations(
    hs: HubSpotSandbox, crm: CRM
) -> None:
    page = client(hs).crm.objects.calls.basic_api.get_page(
        limit=100,
        properties=["hs_call_disposition", "hs_call_direction", "hs_timestamp", "hubspot_owner_id"],
        associations=["contacts"],
    )
    for item in page.results:
        act = crm.activity(int(item.id) - 40_000_000_000)
        assert act.kind == "call"
        assert item.properties["hs_call_disposition"] == act.disposition
        assert item.properties["hubspot_owner_id"] == owner_id(act.owner_key)
        live = [contact_id(k) for k in act.lead_keys if not crm.lead(k).archived]
        if not live:  # links to deleted contacts only: HubSpot leaves "associations" out
            assert item.associations is None
            continue
        linked = item.associations["contacts"].results
        assert [r.id for r in linked] == live
        assert {r.type for r in linked} == {"call_to_contact"}


# --------------------------------------------------------------------------- search


def test_search_by_lastmodifieddate_ascending_pages_through_every_change(
    hs: HubSpotSandbox, crm: CRM
) -> None:
    since = END - timedelta(days=20)
    since_ms = ms(since)
    api = client(hs).crm.contacts.search_api
    found: list[tuple[str, str]] = []
    after = None
    while True:
        request = PublicObjectSearchRequest(
            filter_groups=[
                {
                    "filters": [
                        {"propertyName": "lastmodifieddate", "operator": "GT", "value": since_ms}
                    ]
                }
            ],
            sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
            properties=["lifecyclestage"],
            limit=200,
            after=after,
        )
        page = api.do_search(public_object_search_request=request)
        found += [(r.properties["lastmodifieddate"], r.id) for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    expected = {
        contact_id(lead.key) for lead in crm.leads if lead.updated_at > since and not lead.archived
    }
    assert {i for _, i in found} == expected and page.total == len(expected)
    assert found == sorted(found)  # ascending, ties broken by id


def test_search_groups_or_and_filters_and(hs: HubSpotSandbox, crm: CRM) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"}
                ]
            },
            {
                "filters": [
                    {"propertyName": "hs_lead_status", "operator": "IN", "values": ["BAD_TIMING"]},
                    {"propertyName": "hubspot_owner_id", "operator": "HAS_PROPERTY"},
                ]
            },
        ],
        "limit": 200,
    }
    answer = raw(hs, "POST", "/crm/v3/objects/contacts/search", json=body).json()
    expected = [
        lead
        for lead in crm.leads
        if not lead.archived
        and (
            lead.stage == "customer" or (lead.status == "BAD_TIMING" and lead.owner_key is not None)
        )
    ]
    assert answer["total"] == len(expected) > 0


def test_search_never_returns_archived_records(hs: HubSpotSandbox, crm: CRM) -> None:
    archived = {contact_id(lead.key) for lead in crm.leads if lead.archived}
    body = {"limit": 200, "after": "0"}
    ids: set[str] = set()
    while True:
        answer = raw(hs, "POST", "/crm/v3/objects/contacts/search", json=body).json()
        ids |= {r["id"] for r in answer["results"]}
        if "paging" not in answer:
            break
        body["after"] = answer["paging"]["next"]["after"]
    assert not ids & archived
    assert len(ids) == answer["total"] == len(crm.leads) - len(archived)


def test_search_answers_carry_no_rate_limit_headers(hs: HubSpotSandbox) -> None:
    answer = raw(hs, "POST", "/crm/v3/objects/calls/search", json={"limit": 1})
    assert answer.status_code == 200
    assert not [h for h in answer.headers if h.lower().startswith("x-hubspot-ratelimit")]
    listed = raw(hs, "GET", "/crm/v3/objects/calls?limit=1")
    assert "X-HubSpot-RateLimit-Daily-Remaining" in listed.headers


def test_paging_past_the_search_cap_is_a_400(crm: CRM) -> None:
    assert HubSpotSandbox(crm).search_result_cap == 10_000
    with HubSpotSandbox(crm, search_result_cap=100, search_per_second=None) as hs:
        api = client(hs).crm.contacts.search_api
        first = api.do_search(public_object_search_request=PublicObjectSearchRequest(limit=100))
        assert first.total > 100 and first.paging.next.after == "100"
        with pytest.raises(ApiException) as err:
            api.do_search(
                public_object_search_request=PublicObjectSearchRequest(limit=100, after="100")
            )
        assert err.value.status == 400
        body = json.loads(err.value.body)
        assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
        assert "correlationId" in body


def test_search_limit_is_200(hs: HubSpotSandbox) -> None:
    answer = raw(hs, "POST", "/crm/v3/objects/contacts/search", json={"limit": 201})
    assert answer.status_code == 400


def test_more_than_five_searches_a_second_get_the_secondly_429(crm: CRM) -> None:
    with HubSpotSandbox(crm, ten_second_budget=None) as hs:
        statuses = [
            raw(hs, "POST", "/crm/v3/objects/contacts/search", json={"limit": 1}).status_code
            for _ in range(7)
        ]
        assert statuses[:5] == [200] * 5 and 429 in statuses[5:]
        refused = raw(hs, "POST", "/crm/v3/objects/contacts/search", json={"limit": 1})
        body = refused.json()
        assert body["message"] == "You have reached your secondly limit."
        assert body["policyName"] == "SECONDLY" and body["errorType"] == "RATE_LIMIT"
        assert hs.count_429 >= 2


def test_search_lag_hides_records_changed_in_the_last_seconds(crm: CRM) -> None:
    small = generate_crm(60, seed=2, end=END)
    now = datetime.now(UTC)
    lead = next(lead for lead in small.leads if not lead.archived)
    small.touch_lead(lead.key, now, status="CONNECTED")
    target = contact_id(lead.key)
    search = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "hs_object_id",
                        "operator": "EQ",
                        "value": target,
                    }
                ]
            }
        ]
    }
    with HubSpotSandbox(small, search_lag_s=30) as hs:
        assert raw(hs, "POST", "/crm/v3/objects/contacts/search", json=search).json()["total"] == 0
        listed = raw(hs, "GET", f"/crm/v3/objects/contacts/{contact_id(lead.key)}").json()
        assert listed["id"] == contact_id(lead.key)  # reads are not lagged
    with HubSpotSandbox(small) as hs:
        assert raw(hs, "POST", "/crm/v3/objects/contacts/search", json=search).json()["total"] == 1


# --------------------------------------------------------------------------- batch read


def _ids(crm: CRM, n: int) -> list[SimplePublicObjectId]:
    live = [lead for lead in crm.leads if not lead.archived][:n]
    return [SimplePublicObjectId(id=contact_id(lead.key)) for lead in live]


def test_batch_read_takes_100_inputs_or_50_with_history(hs: HubSpotSandbox, crm: CRM) -> None:
    api = client(hs).crm.contacts.batch_api
    ok = api.read(BatchReadInputSimplePublicObjectId(inputs=_ids(crm, 100), properties=["email"]))
    assert ok.status == "COMPLETE" and len(ok.results) == 100
    with_history = api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=_ids(crm, 50), properties=FUNNEL, properties_with_history=FUNNEL
        )
    )
    assert all(r.properties_with_history["lifecyclestage"] for r in with_history.results)
    with pytest.raises(ApiException) as too_many:
        api.read(BatchReadInputSimplePublicObjectId(inputs=_ids(crm, 101)))
    assert too_many.value.status == 400
    with pytest.raises(ApiException) as too_much_history:
        api.read(
            BatchReadInputSimplePublicObjectId(
                inputs=_ids(crm, 51), properties_with_history=["lifecyclestage"]
            )
        )
    assert too_much_history.value.status == 400
    assert json.loads(too_much_history.value.body)["message"] == (
        "The maximum number of inputs supported in a batch request for property histories is 50"
    )


def test_batch_read_of_unknown_or_archived_ids_is_a_207(hs: HubSpotSandbox, crm: CRM) -> None:
    gone = next(lead for lead in crm.leads if lead.archived)
    inputs = [*_ids(crm, 2), SimplePublicObjectId(id=contact_id(gone.key))]
    inputs.append(SimplePublicObjectId(id="999999999"))
    answer = raw(
        hs,
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": i.id} for i in inputs], "properties": ["email"]},
    )
    assert answer.status_code == 207
    body = answer.json()
    assert len(body["results"]) == 2 and body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert set(body["errors"][0]["context"]["ids"]) == {contact_id(gone.key), "999999999"}
    via_client = client(hs).crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(inputs=inputs)
    )
    assert via_client.num_errors == 1


# --------------------------------------------------------------------------- associations v4


def test_v4_association_batch_read_links_engagements_to_contacts(
    hs: HubSpotSandbox, crm: CRM
) -> None:
    emails = [a for a in crm.activities if a.kind == "email" and not a.archived][:40]
    api = client(hs).crm.associations.v4.batch_api
    request = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=engagement_id(a)) for a in emails]
    )
    answer = api.get_page("emails", "contacts", request)
    linked = {r._from.id: sorted(int(t.to_object_id) for t in r.to) for r in answer.results}
    for act in emails:
        live = sorted(100_000 + k for k in act.lead_keys if not crm.lead(k).archived)
        assert linked.get(engagement_id(act), []) == live
    types = {t.type_id for r in answer.results for to in r.to for t in to.association_types}
    assert types == {198}
    assert hs.requests["POST /crm/v4/associations/emails/contacts/batch/read"] == 1


def test_v4_ids_without_associations_come_back_as_207_errors(hs: HubSpotSandbox, crm: CRM) -> None:
    lonely = next(
        lead
        for lead in crm.leads
        if not lead.archived
        and not any(lead.key in a.lead_keys for a in crm.activities if a.kind == "meeting")
    )
    answer = raw(
        hs,
        "POST",
        "/crm/v4/associations/contacts/meetings/batch/read",
        json={"inputs": [{"id": contact_id(lonely.key)}]},
    )
    assert answer.status_code == 207
    error = answer.json()["errors"][0]
    assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    too_many = raw(
        hs,
        "POST",
        "/crm/v4/associations/calls/contacts/batch/read",
        json={"inputs": [{"id": str(i)} for i in range(1001)]},
    )
    assert too_many.status_code == 400


# --------------------------------------------------------------------------- owners


def test_owners_list_active_by_default_and_deactivated_when_archived(
    hs: HubSpotSandbox, crm: CRM
) -> None:
    api = client(hs).crm.owners.owners_api
    active: list = []
    after = None
    while True:
        page = api.get_page(limit=3, after=after)
        active += page.results
        if page.paging is None:
            break
        after = page.paging.next.after
    assert {o.id for o in active} == {owner_id(r.key) for r in crm.reps if r.active}
    gone = api.get_page(archived=True).results
    assert [o.email for o in gone] == [r.email for r in crm.reps if not r.active]
    assert gone[0].archived and gone[0].user_id_including_inactive
    assert all(o.type == "PERSON" and o.teams[0].primary for o in active)
    assert hs.requests["GET /crm/v3/owners/"] == 4


# --------------------------------------------------------------------------- limits and auth


def test_ten_second_budget_spent_gives_hubspots_429(crm: CRM) -> None:
    with HubSpotSandbox(crm, ten_second_budget=5, daily_budget=1000) as hs:
        answers = [raw(hs, "GET", "/crm/v3/objects/notes?limit=1") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert answers[0].headers["X-HubSpot-RateLimit-Max"] == "5"
        assert answers[0].headers["X-HubSpot-RateLimit-Remaining"] == "4"
        assert answers[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert answers[4].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "995"
        refused = answers[5]
        assert refused.headers["X-HubSpot-RateLimit-Remaining"] == "0"
        assert "Retry-After" not in refused.headers
        body = refused.json()
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["correlationId"]
        assert hs.count_429 == 1
        with pytest.raises(NotesApiException) as err:  # each API package has its own classes
            client(hs).crm.objects.notes.basic_api.get_page()
        assert err.value.status == 429


def test_retry_after_is_sent_only_when_asked(crm: CRM) -> None:
    with HubSpotSandbox(crm, ten_second_budget=1, retry_after_on_429=True) as hs:
        raw(hs, "GET", "/crm/v3/objects/notes?limit=1")
        refused = raw(hs, "GET", "/crm/v3/objects/notes?limit=1")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_daily_budget_spent_gives_the_daily_429(crm: CRM) -> None:
    with HubSpotSandbox(crm, ten_second_budget=None, daily_budget=2) as hs:
        statuses = [raw(hs, "GET", "/crm/v3/owners/").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert raw(hs, "GET", "/crm/v3/owners/").json()["policyName"] == "DAILY"


def test_missing_or_wrong_token_is_a_401(hs: HubSpotSandbox) -> None:
    answer = requests.get(hs.base_url + "/crm/v3/objects/contacts", timeout=10)
    assert answer.status_code == 401
    body = answer.json()
    assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
    assert body["message"].startswith("Authentication credentials not found.")
    with pytest.raises(UnauthorizedException):
        client(hs, token="wrong").crm.contacts.basic_api.get_page()


def test_a_revoked_token_stops_working(hs: HubSpotSandbox) -> None:
    old = hs.token
    hs.set_token("rotated")
    try:
        with pytest.raises(UnauthorizedException):
            client(hs, token=old).crm.contacts.basic_api.get_page()
        assert client(hs, token="rotated").crm.contacts.basic_api.get_page().results
    finally:
        hs.set_token(old)


# --------------------------------------------------------------------------- faults


def test_status_fault_answers_hubspots_error_body_once(hs: HubSpotSandbox) -> None:
    hs.inject("status", status=503, path_contains="/objects/contacts")
    api = client(hs).crm.contacts.basic_api
    with pytest.raises(ServiceException) as err:
        api.get_page()
    body = json.loads(err.value.body)
    assert err.value.status == 503 and body["status"] == "error" and body["correlationId"]
    assert api.get_page().results  # fired once only
    assert [f["kind"] for f in hs.fault_log] == ["status"]


def test_fault_only_fires_on_matching_paths(hs: HubSpotSandbox) -> None:
    hs.inject("status", status=502, path_contains="/objects/tasks")
    assert raw(hs, "GET", "/crm/v3/objects/notes?limit=1").status_code == 200
    assert raw(hs, "GET", "/crm/v3/objects/tasks?limit=1").status_code == 502


def test_reset_fault_closes_the_connection_without_an_answer(hs: HubSpotSandbox) -> None:
    hs.inject("reset", count=2)
    with pytest.raises((urllib3.exceptions.MaxRetryError, urllib3.exceptions.ProtocolError)):
        client(hs).crm.contacts.basic_api.get_page()
    with pytest.raises(requests.ConnectionError):
        raw(hs, "GET", "/crm/v3/owners/")
    assert raw(hs, "GET", "/crm/v3/owners/").status_code == 200
    assert [f["kind"] for f in hs.fault_log] == ["reset", "reset"]


def test_slow_fault_delays_a_normal_answer(hs: HubSpotSandbox) -> None:
    hs.inject("slow", delay_s=0.4)
    started = time.perf_counter()
    answer = raw(hs, "GET", "/crm/v3/owners/")
    assert answer.status_code == 200 and time.perf_counter() - started >= 0.4
    with pytest.raises(requests.Timeout):
        hs.inject("slow", delay_s=1.0)
        requests.get(
            hs.base_url + "/crm/v3/owners/",
            headers={"Authorization": f"Bearer {hs.token}"},
            timeout=0.2,
        )


def test_malformed_fault_sends_a_truncated_200(hs: HubSpotSandbox) -> None:
    hs.inject("malformed")
    answer = raw(hs, "GET", "/crm/v3/objects/contacts?limit=5")
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        json.loads(answer.text)


def test_unauthorized_fault_is_a_401_even_with_the_right_token(hs: HubSpotSandbox) -> None:
    hs.inject("unauthorized")
    with pytest.raises(OwnersUnauthorizedException):
        client(hs).crm.owners.owners_api.get_page()
    assert client(hs).crm.owners.owners_api.get_page().results


# --------------------------------------------------------------------------- edits and counters


def test_edits_between_syncs_show_at_once() -> None:
    small = generate_crm(60, seed=4, end=END)
    with HubSpotSandbox(small) as hs:
        lead = next(lead for lead in small.leads if not lead.archived)
        at = END + timedelta(hours=2)
        small.touch_lead(lead.key, at, stage="salesqualifiedlead", owner_key=3)
        body = raw(
            hs,
            "GET",
            f"/crm/v3/objects/contacts/{contact_id(lead.key)}",
            params={"properties": "lifecyclestage,hubspot_owner_id"},
        ).json()
        assert body["properties"]["lifecyclestage"] == "salesqualifiedlead"
        assert body["properties"]["hubspot_owner_id"] == owner_id(3)
        assert body["properties"]["lastmodifieddate"] == "2026-10-15T14:00:00.000Z"
        added = small.add_lead(at, email="new@lead.example")
        call = small.add_activity("call", at, [added.key], owner_key=1, status="COMPLETED")
        small.archive_lead(lead.key, at)
        listed = raw(hs, "GET", "/crm/v3/objects/contacts?limit=100").json()["results"]
        ids = {r["id"] for r in listed}
        assert contact_id(added.key) in ids and contact_id(lead.key) not in ids
        link = raw(
            hs,
            "POST",
            "/crm/v4/associations/calls/contacts/batch/read",
            json={"inputs": [{"id": engagement_id(call)}]},
        ).json()
        assert link["results"][0]["to"][0]["toObjectId"] == 100_000 + added.key


def test_requests_are_counted_by_template_and_can_be_reset(hs: HubSpotSandbox) -> None:
    hs.reset_counters()
    raw(hs, "GET", "/crm/v3/objects/0-1?limit=1")
    raw(hs, "POST", "/crm/v3/objects/calls/search", json={"limit": 1})
    raw(hs, "POST", "/crm/v3/objects/contacts/batch/read", json={"inputs": []})
    raw(hs, "GET", "/crm/v3/owners/")
    assert hs.requests == {
        "GET /crm/v3/objects/contacts": 1,
        "POST /crm/v3/objects/calls/search": 1,
        "POST /crm/v3/objects/contacts/batch/read": 1,
        "GET /crm/v3/owners/": 1,
    }
    assert hs.total_requests == 4
    hs.reset_counters()
    assert hs.total_requests == 0 and hs.count_429 == 0


def test_unknown_object_type_is_a_400(hs: HubSpotSandbox) -> None:
    answer = raw(hs, "GET", "/crm/v3/objects/widgets")
    assert answer.status_code == 400
    assert answer.json()["message"] == "Unable to infer object type from: widgets"


def test_a_page_of_a_hundred_thousand_leads_is_served_in_milliseconds() -> None:
    big = generate_crm(100_000, seed=9, end=END)
    with HubSpotSandbox(big, ten_second_budget=None) as hs:
        raw(hs, "GET", "/crm/v3/objects/contacts?limit=1")  # builds the indexes once
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {hs.token}"
        started = time.perf_counter()
        after = "150000"
        for _ in range(5):
            answer = session.get(
                f"{hs.base_url}/crm/v3/objects/contacts",
                params={"limit": 50, "after": after, "propertiesWithHistory": FUNNEL},
                timeout=10,
            )
            after = answer.json()["paging"]["next"]["after"]
        per_page = (time.perf_counter() - started) / 5
        assert per_page < 0.1, f"{per_page * 1000:.0f} ms a page"
