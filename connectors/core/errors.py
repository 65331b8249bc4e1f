"""The ways a sync fails, as exceptions: for users (:class:`SyncError`, one redacted line
naming what failed, where, and the fix) and between a connector's ``send`` and the core."""

from __future__ import annotations

from connectors.core.answers import HttpAnswer


class SyncError(Exception):
    """A sync that could not finish. ``str(error)`` is one redacted line: what, where, fix."""


class RefusedError(SyncError):
    """The CRM refused a call for good (401, 403, 400…); ``status`` says which.

    ``answer`` is the refusal itself, for a connector that can act on one particular
    refusal (Salesforce's QUERY_TIMEOUT: narrow the query window and ask again).
    """

    def __init__(self, message: str, status: int, answer: HttpAnswer | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer


class ConnectionTrouble(Exception):
    """The exchange produced no complete HTTP answer (refused, reset, timed out, cut short)."""


class ConfigTrouble(Exception):
    """The exchange failed for a reason no retry cures (e.g. a TLS certificate problem)."""


class RecordError(Exception):
    """A record the CRM sent cannot be stored faithfully (e.g. a timestamp that is no instant).

    Raised by a stream's mapping; the engine turns it into a :class:`SyncError` naming the
    stream, and the message itself names the object type, record id and field.
    """


class Cancelled(Exception):
    """The engine no longer wants this page: raised in a prefetching worker before it
    sends (or retries) a request after the sync stopped, so it ends without one more."""
