"""What an exchange with a CRM looks like to the sync core: the raw answer, the parsed
reply, the rate limits its headers state, and the dialect a connector supplies to read them.

Client libraries stay in the connectors: a connector hands the core a ``send`` callable
that performs one HTTP exchange and returns an :class:`HttpAnswer` (or raises
:class:`~connectors.core.errors.ConnectionTrouble`), so the core never needs to know which
library spoke.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTP exchange as the engine sees it: status, headers (lower-cased), raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @classmethod
    def of(
        cls, status: int, headers: Mapping[str, Any] | None, body: bytes | str | None
    ) -> HttpAnswer:
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        return cls(status, lowered, raw)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def message(self, limit: int = 200) -> str:
        """The CRM's own error message if the body carries one, else a short body excerpt."""
        try:
            data = self.json()
        except (ValueError, UnicodeDecodeError):
            data = None
        text = ""
        if isinstance(data, dict):
            text = str(data.get("message") or data.get("error") or "")
        elif isinstance(data, list) and data and isinstance(data[0], dict):
            text = str(data[0].get("message") or "")
        if not text:
            text = self.body[:limit].decode("utf-8", "replace")
        text = " ".join(text.split())
        return text[:limit]


@dataclass(frozen=True)
class Reply:
    """A successful answer, parsed: what a stream's ``fetch`` gets back."""

    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True)
class RateLimits:
    """What one answer's headers say about the CRM's limits (None = not stated)."""

    window_max: int | None = None
    window_remaining: int | None = None
    window_ms: int | None = None
    daily_max: int | None = None
    daily_remaining: int | None = None
    daily_used: int | None = None
    """Requests the whole account has made today, by every integration (Salesforce's
    ``Sforce-Limit-Info: api-usage=used/max``); when stated, the sync also stops once
    ``daily_used / daily_max`` reaches its share, so it never starves the others."""


class CrmDialect(Protocol):
    """What the engine must ask a connector about its CRM's answers and errors."""

    source: str

    def limits(self, answer: HttpAnswer) -> RateLimits: ...

    def is_daily_limit(self, answer: HttpAnswer) -> bool:
        """A 429 that only the next day cures: never retried."""
        ...

    def short_limit_wait(self, answer: HttpAnswer) -> float | None:
        """The wait a 429 from a short (per-second) limit needs, or None if it is not one."""
        ...

    def fix_for(self, answer: HttpAnswer, endpoint: str) -> str:
        """How a user fixes this non-retryable answer (the end of the one-line error)."""
        ...

    def unreachable_fix(self) -> str:
        """What to check when the CRM could not be reached at all, after every retry."""
        ...
