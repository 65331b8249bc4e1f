"""The HubSpot exchange: ``hubspot-api-client`` calls turned into ``HttpAnswer`` s, and the
dialect that reads HubSpot's rate-limit headers and errors.

Every request goes through ``hubspot-api-client`` (``HubSpot(host=…)``): the generated
``*_with_http_info`` methods with ``_preload_content=False``, so the client builds the URL
and query string while we keep the status, the rate-limit headers and the body *as HubSpot
sent it*. The bearer token goes with each request (``_request_auth``), from the run's
token source (:mod:`connectors.hubspot.auth`): a static key, or an OAuth access token that
may change between two requests — and after a 401, once, before the request is repeated.

Raw JSON matters: it is the audit's evidence (``raw``), it lets a truncated or malformed
answer be retried instead of half-parsed, and it skips the client's model layer, which
re-parses every timestamp. The client's own urllib3 retries are switched off
(``retry=NO_RETRIES`` reaches each ``PoolManager``) so they never stack on the engine's
tenacity policy; it follows only same-host redirects (:mod:`connectors.hubspot.redirects`).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import urllib3

from connectors.core import ConfigTrouble, ConnectionTrouble, HttpAnswer, RateLimits
from connectors.hubspot.auth import (
    PRIVATE_APP,
    CredentialKind,
    OAuthClient,
    OAuthSession,
    StaticToken,
    TokenEndpointBusy,
    token_source,
)
from connectors.hubspot.redirects import NO_RETRIES
from connectors.hubspot.specs import SOURCE

SCOPES = (
    "crm.objects.contacts.read, crm.objects.owners.read and the engagement read scopes "
    "(sales-email-read for emails)"
)


# ------------------------------------------------------------------------------ dialect


def _header_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class HubSpotDialect:
    """How HubSpot states its limits and errors, and what a user does about each error."""

    source = SOURCE

    def __init__(self, base_url: str, kind: CredentialKind = PRIVATE_APP) -> None:
        self.base_url = base_url
        self.kind = kind

    def limits(self, answer: HttpAnswer) -> RateLimits:
        headers = answer.headers
        return RateLimits(
            window_max=_header_int(headers.get("x-hubspot-ratelimit-max")),
            window_remaining=_header_int(headers.get("x-hubspot-ratelimit-remaining")),
            window_ms=_header_int(headers.get("x-hubspot-ratelimit-interval-milliseconds")),
            daily_max=_header_int(headers.get("x-hubspot-ratelimit-daily")),
            daily_remaining=_header_int(headers.get("x-hubspot-ratelimit-daily-remaining")),
        )

    @staticmethod
    def _policy(answer: HttpAnswer) -> str:
        try:
            data = answer.json()
        except (ValueError, UnicodeDecodeError):
            return ""
        return str(data.get("policyName") or "").upper() if isinstance(data, dict) else ""

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        return self._policy(answer) == "DAILY" or "daily limit" in answer.message().lower()

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        if self._policy(answer) == "SECONDLY" or "secondly limit" in answer.message().lower():
            return 1.0
        return None

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        status = answer.status
        if status == 401:
            return self.kind.refused()
        if status == 403:
            return f"{self.kind.holder} lacks a scope for this call; grant it {SCOPES}"
        if status == 404:
            return f"check HUBSPOT_BASE_URL ({self.base_url}) points at the HubSpot API"
        if status == 400:
            return "HubSpot refused the request as malformed; report this line as a bug"
        if 300 <= status < 400:
            where = answer.headers.get("location") or "nowhere"
            return (
                f"HubSpot redirected the call to {where} (another host, or too many times), "
                f"which is not followed with the credentials; check HUBSPOT_BASE_URL "
                f"({self.base_url})"
            )
        return "check https://status.hubspot.com and run the sync again later"

    def unreachable_fix(self) -> str:
        return (
            f"HubSpot could not be reached at {self.base_url}: check the network, a proxy, "
            "and HUBSPOT_BASE_URL"
        )


# ---------------------------------------------------------------------------- transport


class HubSpotTransport:
    """The client library, one generated API object each, turned into ``HttpAnswer`` s.

    The discovery properties (``client.crm.objects.basic_api``) build a new ApiClient —
    and a new connection pool — on every access, so each API is fetched once here.
    """

    def __init__(
        self,
        credential: str | StaticToken | OAuthClient,
        base_url: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        ssl_ca_cert: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from hubspot import HubSpot
        from hubspot.crm.associations.v4 import exceptions as assoc_exceptions
        from hubspot.crm.objects import exceptions as object_exceptions
        from hubspot.crm.owners import exceptions as owner_exceptions
        from hubspot.crm.properties import exceptions as property_exceptions
        from hubspot.oauth import exceptions as oauth_exceptions

        client = HubSpot(host=base_url, retry=NO_RETRIES, ssl_ca_cert=ssl_ca_cert)
        self.basic = client.crm.objects.basic_api
        self.search = client.crm.objects.search_api
        self.batch = client.crm.objects.batch_api
        self.owners = client.crm.owners.owners_api
        self.associations = client.crm.associations.v4.batch_api
        self.properties = client.crm.properties.core_api
        self.timeout = (connect_timeout_s, read_timeout_s)
        self.api_errors: tuple[type[Exception], ...] = (
            object_exceptions.ApiException,
            owner_exceptions.ApiException,
            assoc_exceptions.ApiException,
            property_exceptions.ApiException,
            oauth_exceptions.ApiException,
        )
        self.tokens = client.oauth.tokens_api if isinstance(credential, OAuthClient) else None
        self.auth: StaticToken | OAuthSession = token_source(
            credential, self.request_token, monotonic
        )

    def pools(self) -> list[Any]:
        """The urllib3 pool managers in use (tests check their retry setting)."""
        apis = (
            self.basic,
            self.search,
            self.batch,
            self.owners,
            self.associations,
            self.properties,
        )
        if self.tokens is not None:
            apis = (*apis, self.tokens)
        return [api.api_client.rest_client.pool_manager for api in apis]

    def exchange(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> HttpAnswer:
        """Call a generated method with the current bearer token; any HTTP status is an
        answer. A 401 renews an OAuth token once and repeats the call: a second 401 is the
        answer. A busy token endpoint's 429/5xx is the answer too, so the engine retries."""
        try:
            token = self.auth.token()
            answer = self.send(method, *args, _request_auth=_bearer(token), **kwargs)
            if answer.status == 401 and self.auth.renew(token):
                bearer = _bearer(self.auth.token())
                answer = self.send(method, *args, _request_auth=bearer, **kwargs)
        except TokenEndpointBusy as busy:
            return busy.answer
        return answer

    def request_token(self, form: Mapping[str, str]) -> HttpAnswer:
        """``POST /oauth/v1/token`` (form-encoded) through the client's ``tokens_api``."""
        if self.tokens is None:  # pragma: no cover - only an OAuth session asks
            raise ConfigTrouble("no OAuth client is configured")
        return self.send(self.tokens.create_with_http_info, **form)

    def send(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> HttpAnswer:
        """Call a generated method without deserialisation; any HTTP status is an answer."""
        try:
            response = method(
                *args, _preload_content=False, _request_timeout=self.timeout, **kwargs
            )
        except self.api_errors as exc:
            status = getattr(exc, "status", 0) or 0
            if not status:
                reason = str(getattr(exc, "reason", "") or "").splitlines()
                raise ConfigTrouble(
                    f"TLS failed ({reason[0] if reason else 'unknown reason'}); if a proxy or a "
                    "private CA is in the way, set REQUESTS_CA_BUNDLE or SSL_CERT_FILE"
                ) from None
            return HttpAnswer.of(status, getattr(exc, "headers", None), getattr(exc, "body", b""))
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise ConnectionTrouble(_describe(exc)) from None
        try:
            body = response.data
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            raise ConnectionTrouble(f"answer cut short: {_describe(exc)}") from None
        finally:
            response.release_conn()
        return HttpAnswer.of(response.status, response.headers, body)

    # -- endpoints ----------------------------------------------------------------------

    def list_page(
        self,
        object_type: str,
        *,
        limit: int,
        after: str | None,
        properties: Sequence[str],
        history: Sequence[str] = (),
        associations: Sequence[str] = (),
        archived: bool = False,
    ) -> HttpAnswer:
        kwargs: dict[str, Any] = {"limit": limit, "properties": list(properties)}
        if after:
            kwargs["after"] = after
        if history:
            kwargs["properties_with_history"] = list(history)
        if associations:
            kwargs["associations"] = list(associations)
        if archived:
            kwargs["archived"] = True
        return self.exchange(self.basic.get_page_with_http_info, object_type, **kwargs)

    def search_page(self, object_type: str, body: dict[str, Any]) -> HttpAnswer:
        return self.exchange(self.search.do_search_with_http_info, object_type, body)

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        properties: Sequence[str],
        history: Sequence[str] = (),
        archived: bool = False,
    ) -> HttpAnswer:
        body: dict[str, Any] = {
            "inputs": [{"id": i} for i in ids],
            "properties": list(properties),
        }
        if history:
            body["propertiesWithHistory"] = list(history)
        kwargs = {"archived": True} if archived else {}
        return self.exchange(self.batch.read_with_http_info, object_type, body, **kwargs)

    def association_page(
        self, from_type: str, to_type: str, inputs: Sequence[Mapping[str, str]]
    ) -> HttpAnswer:
        body = {"inputs": [dict(i) for i in inputs]}
        return self.exchange(self.associations.get_page_with_http_info, from_type, to_type, body)

    def owners_page(self, *, limit: int, after: str | None, archived: bool) -> HttpAnswer:
        kwargs: dict[str, Any] = {"limit": limit}
        if after:
            kwargs["after"] = after
        if archived:
            kwargs["archived"] = True
        return self.exchange(self.owners.get_page_with_http_info, **kwargs)

    def property_definition(self, object_type: str, name: str) -> HttpAnswer:
        """``GET /crm/v3/properties/{objectType}/{propertyName}``: type, label, options."""
        return self.exchange(self.properties.get_by_name_with_http_info, object_type, name)

    def account_details(self) -> HttpAnswer:
        """``GET /account-info/v3/details``, which the client has no method for."""
        return self.plain_get("/account-info/v3/details")

    def dispositions(self) -> HttpAnswer:
        """``GET /calling/v1/dispositions`` (``[{id, label}]``), which the client lacks."""
        return self.plain_get("/calling/v1/dispositions")

    def plain_get(self, path: str) -> HttpAnswer:
        """A GET the client has no method for, with the client's host, token and timeout.

        Sent through a generated ApiClient's ``call_api`` rather than ``api_request``:
        the latter ignores ``host`` (it would reach api.hubapi.com from a sandbox), has
        no timeout and prints errors to stdout.
        """
        return self.exchange(
            self.owners.api_client.call_api,
            path,
            "GET",
            header_params={"Accept": "application/json"},
            auth_settings=["oauth2"],
            response_types_map={},
        )


def _bearer(token: str) -> dict[str, str]:
    """``_request_auth`` for one call: the header the client would build from its config."""
    return {"in": "header", "key": "Authorization", "type": "oauth2", "value": f"Bearer {token}"}


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
