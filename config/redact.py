"""Scrub credentials from any text before it reaches a log, an error line or the snapshot.

Two layers, because either alone misses something: the *known* secrets (exact strings
from :meth:`config.settings.Settings.secrets`) catch a token wherever a library echoes
it, and the *shapes* (``Bearer …``, ``access_token=…``, ``"password": "…"``) catch
credentials we were never told about, such as a session id a CRM hands back.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

MASK = "[REDACTED]"

# Secrets shorter than this are not replaced verbatim: masking every "a" or "42" in a
# message would destroy it while protecting nothing a shape rule does not catch.
MIN_SECRET_LENGTH = 6

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic|oauth)\s+[A-Za-z0-9\-._~+/=:]+"), rf"\1 {MASK}"),
    (
        re.compile(
            r"(?i)\b((?:access|refresh|security|session|auth|api|id)?_?token|password|passwd|"
            r"secret|client_secret|hapikey|api_?key|session_?id|sid)"
            r"(\s*[=:]\s*)(?![\"'])[^\s&,;\"'}\]]+"
        ),
        rf"\1\2{MASK}",
    ),
    (
        re.compile(
            r"(?i)([\"'](?:access_?token|refresh_?token|security_?token|token|password|"
            r"client_?secret|session_?id|authorization|api_?key)[\"']\s*:\s*[\"'])[^\"']*([\"'])"
        ),
        rf"\1{MASK}\2",
    ),
    (re.compile(r"(?i)(authorization\s*[=:]\s*)(?![\"'])[^\s,;}\]]+"), rf"\1{MASK}"),
)


class Redactor:
    """Replace known secrets and credential-shaped substrings with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        unique = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        self.secrets: tuple[str, ...] = tuple(sorted(unique, key=len, reverse=True))

    def __call__(self, text: object) -> str:
        result = str(text)
        for secret in self.secrets:
            result = result.replace(secret, MASK)
        for pattern, replacement in _SHAPES:
            result = pattern.sub(replacement, result)
        return result

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor((*self.secrets, *secrets))


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """One-off redaction: ``redact(message, settings.secrets())``."""
    return Redactor(secrets)(text)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through a :class:`Redactor`.

    The message is formatted first (``msg % args``) and the args dropped, because a
    secret may sit in an argument, not in the format string. Exception text is
    rendered and redacted too, since handlers would otherwise print it raw.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self.redactor(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


@contextmanager
def redacting_logs(
    redactor: Redactor, logger: logging.Logger | None = None
) -> Iterator[RedactingFilter]:
    """Install a :class:`RedactingFilter` on every handler of ``logger`` (root by default).

    Handler filters (unlike logger filters) see records propagated from every child
    logger, including the client libraries' own, so nothing logged while the block runs
    can carry a secret out.
    """
    target = logger or logging.getLogger()
    flt = RedactingFilter(redactor)
    handlers = list(target.handlers)
    for handler in handlers:
        handler.addFilter(flt)
    try:
        yield flt
    finally:
        for handler in handlers:
            handler.removeFilter(flt)
