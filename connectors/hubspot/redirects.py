"""urllib3's part in a HubSpot request: no retries of its own, and redirects only on the host.

The engine (tenacity) owns every retry, so urllib3 must never repeat a request: any error
is raised as itself, at once. A ``3xx`` is different: HubSpot, or a load balancer in front
of it, may move a request to another path on the same host, and giving up there would end
the night's run for nothing. Such a redirect is followed (a few times at most) with the
same method, body and token. A redirect to *another* host is not followed: urllib3 would
drop the token and send the request anyway; instead the ``3xx`` reaches the engine, which
stops with a line naming the host (see ``HubSpotDialect.fix_for``).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any
from urllib.parse import urljoin

from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

MAX_REDIRECTS = 3


class SameHostRedirects(Retry):
    """A ``Retry`` that retries nothing and follows up to ``redirect`` same-host redirects."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> SameHostRedirects:
        if error is not None:
            raise error.with_traceback(_stacktrace)
        location = response.get_redirect_location() if response is not None else None
        if location and _pool is not None and not _pool.is_same_host(urljoin(url or "", location)):
            # With raise_on_redirect off, urllib3 hands this 3xx back as the answer.
            raise MaxRetryError(_pool, url, None)
        return super().increment(method, url, response, error, _pool, _stacktrace)


NO_RETRIES = SameHostRedirects(
    total=None,
    connect=None,
    read=None,
    status=None,
    other=None,
    redirect=MAX_REDIRECTS,
    raise_on_redirect=False,
    raise_on_status=False,
)
"""Handed to every generated Configuration (``HubSpot(retry=…)`` → ``configuration.retries``
→ ``PoolManager(retries=…)``)."""
