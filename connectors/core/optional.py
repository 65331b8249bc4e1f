"""Calls whose answer a sync can do without: a refusal costs what they read, not the run.

Some reads only add to the snapshot — the portal id for record links, the labels of funnel
values, the Leads object — and a token may lack the scope for them (403) or the portal may
not have the object (404). Stopping the night's sync for that would lose everything else,
so such a call answers ``None`` with one warning that says what is lost and how to get it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from connectors.core.answers import HttpAnswer, Reply
from connectors.core.errors import RefusedError
from connectors.core.http import Api

log = logging.getLogger(__name__)

NOT_THERE = (403, 404)
"""Statuses that mean "not for this token or portal", not "something broke"."""


def optional_call(
    api: Api,
    endpoint: str,
    send: Callable[[], HttpAnswer],
    *,
    expect: Callable[[Any], bool],
    lost: str,
) -> Reply | None:
    """``api.call``, or None after a warning when the CRM answers 403 or 404.

    ``lost`` finishes the warning's sentence: what the snapshot goes without, and the fix.
    """
    try:
        return api.call(endpoint, send, expect=expect)
    except RefusedError as exc:
        if exc.status not in NOT_THERE:
            raise
        log.warning("%s: %s answered HTTP %s; %s", api.dialect.source, endpoint, exc.status, lost)
        return None
