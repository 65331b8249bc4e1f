"""Redaction: known secrets and credential shapes disappear from every message."""

from __future__ import annotations

import logging

import pytest

from config.redact import MASK, RedactingFilter, Redactor, redact, redacting_logs

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    "text",
    [
        f"token {TOKEN} rejected",
        "Authorization: Bearer abc.def-ghi",
        "GET /x?access_token=abcdef123&limit=1",
        '{"access_token": "abcdef123", "limit": 1}',
        "password=letmein-now",
        "hapikey=1234-5678",
    ],
)
def test_secrets_and_credential_shapes_are_masked(text: str) -> None:
    cleaned = redact(text, [TOKEN])
    assert MASK in cleaned
    for secret in (TOKEN, "abc.def-ghi", "abcdef123", "letmein-now", "1234-5678"):
        assert secret not in cleaned


def test_ordinary_text_is_left_alone() -> None:
    text = "hubspot contacts: 120 records in 7 requests (0 retries), limit=50"
    assert redact(text, [TOKEN]) == text


def test_short_secrets_are_not_replaced_everywhere() -> None:
    assert redact("a count of 42", ["42"]) == "a count of 42"


def test_logging_filter_redacts_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.redact")
    with caplog.at_level(logging.DEBUG), redacting_logs(Redactor([TOKEN])):
        logger.warning("calling with %s", TOKEN)
        try:
            raise RuntimeError(f"failed with {TOKEN}")
        except RuntimeError:
            logger.exception("boom")
    assert TOKEN not in caplog.text
    assert caplog.text.count(MASK) >= 2


def test_filter_can_be_attached_to_a_handler() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "Bearer %s", ("zzz-token",), None)
    RedactingFilter(Redactor()).filter(record)
    assert record.getMessage() == f"Bearer {MASK}"
