"""A ``requests`` session that follows a redirect only while it stays on the same host.

Salesforce (or a proxy in front of an instance) may move a request to another path on the
same host; following it keeps the night's run going. A redirect to *another* host is not
followed: requests would drop the ``Authorization`` header and send the request anyway,
and the answer (a 401 from a host nobody configured) would hide the real cause. Instead
the ``3xx`` itself reaches the engine, which stops with a line naming the host.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests

MAX_REDIRECTS = 3


class SameHostSession(requests.Session):
    """``requests.Session`` whose redirects end where the host would change."""

    def __init__(self) -> None:
        super().__init__()
        self.max_redirects = MAX_REDIRECTS

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        here, there = urlsplit(resp.url), urlsplit(urljoin(resp.url, target))
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            return None
        return target
