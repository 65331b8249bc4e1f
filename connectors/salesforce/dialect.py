"""How Salesforce states its errors and limits: the ``errorCode`` of an error body, the
field an INVALID_FIELD answer names, the ``Sforce-Limit-Info`` usage header, and the fix a
user needs for each refusal."""

from __future__ import annotations

import re

from connectors.core import HttpAnswer, RateLimits
from connectors.salesforce.auth import LASTING_LOGINS
from connectors.salesforce.specs import SOURCE

_NO_SUCH_COLUMN = re.compile(r"No such column '(\w+)'")


def missing_column(answer: HttpAnswer | None) -> str | None:
    """The field an INVALID_FIELD answer names (``No such column 'X' on entity …``)."""
    if answer is None or error_code(answer) != "INVALID_FIELD":
        return None
    match = _NO_SUCH_COLUMN.search(answer.message(2000))
    return match.group(1) if match else None


def error_code(answer: HttpAnswer | None) -> str:
    """The ``errorCode`` of a Salesforce error body (a JSON list), or ``""``."""
    if answer is None:
        return ""
    try:
        data = answer.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return str(data[0].get("errorCode") or "")
    if isinstance(data, dict):
        return str(data.get("errorCode") or "")
    return ""


SESSION_FIX = (
    "the Salesforce session expired or is invalid (401 INVALID_SESSION_ID): a session id "
    "given in SALESFORCE_ACCESS_TOKEN lasts only until the org's session timeout; for a "
    f"lasting login set {LASTING_LOGINS}, or set a new SALESFORCE_ACCESS_TOKEN"
)
"""The fix when a bare session id (which cannot be renewed) is refused."""


def renewed_session_fix(flow: str) -> str:
    """The fix when a session just handed out by a login is refused too."""
    return (
        f"Salesforce refused the session the {flow} login had just handed out (401 "
        "INVALID_SESSION_ID): check that the user the app runs as is active and has the API "
        "Enabled permission, and that the app's OAuth scopes include 'api'"
    )


class SalesforceDialect:
    """How Salesforce states its limits and errors, and what a user does about each."""

    source = SOURCE

    def __init__(self, instance_url: str, *, session_fix: str = SESSION_FIX) -> None:
        self.instance_url = instance_url
        self.session_fix = session_fix
        """The fix for a 401: it depends on whether the login can be repeated."""

    def limits(self, answer: HttpAnswer) -> RateLimits:
        """``Sforce-Limit-Info: api-usage=18/5000``: the org's requests today, of its allowance.

        Read with simple-salesforce's own parser (what fills ``sf.api_usage``).
        """
        from simple_salesforce import Salesforce

        header = answer.headers.get("sforce-limit-info")
        usage = Salesforce.parse_api_usage(header).get("api-usage") if header else None
        if usage is None:
            return RateLimits()
        return RateLimits(
            daily_max=usage.total,
            daily_remaining=max(0, usage.total - usage.used),
            daily_used=usage.used,
        )

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        return error_code(answer) == "REQUEST_LIMIT_EXCEEDED"

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        return None

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        status, code = answer.status, error_code(answer)
        if status == 401:
            return self.session_fix
        if code == "REQUEST_LIMIT_EXCEEDED":
            return (
                "the org's daily API allowance is spent (REQUEST_LIMIT_EXCEEDED); run the sync "
                "again after it resets (Setup > System Overview shows the usage)"
            )
        if status == 403:
            return (
                "the Salesforce user may not do this: give it the API Enabled permission and "
                "read access to User, Lead, LeadHistory, Opportunity, Task and Event"
            )
        if code in ("INVALID_FIELD", "INVALID_TYPE"):
            return (
                "the Salesforce user cannot see a field or object this sync reads; grant it "
                "read access (field-level security), or report this line if it already has it"
            )
        if status == 400:
            return "Salesforce refused the request as malformed; report this line as a bug"
        if status == 404:
            return (
                f"check SALESFORCE_INSTANCE_URL ({self.instance_url}) is your org's instance "
                "(e.g. https://yourdomain.my.salesforce.com)"
            )
        if 300 <= status < 400:
            where = answer.headers.get("location") or "nowhere"
            return (
                f"Salesforce redirected the call to {where} (another host, or too many "
                f"times), which is not followed with the session; check "
                f"SALESFORCE_INSTANCE_URL ({self.instance_url})"
            )
        return "check https://status.salesforce.com and run the sync again later"

    def unreachable_fix(self) -> str:
        return (
            f"check that {self.instance_url} is reachable from this machine (DNS, proxy, "
            "firewall) and https://status.salesforce.com"
        )
