"""The fast paths of ``snapshot.instants`` give exactly what the full parse gives.

``normalize_instant`` rewrites UTC text in the usual CRM forms by slicing, and
``format_instant`` renders through ``isoformat``; both must be byte-identical to the
original parse-and-``strftime`` path, including which inputs are refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snapshot.instants import (
    INSTANT_FORMAT,
    InstantError,
    format_instant,
    normalize_instant,
    parse_instant,
)


def reference_format(value: datetime) -> str:
    """``format_instant`` as it was before its fast path."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InstantError("naive")
    return value.astimezone(UTC).strftime(INSTANT_FORMAT)[:-3] + "Z"


def reference_normalize(text: str) -> str | None:
    """``normalize_instant`` as it was before its fast path (``None`` = refused)."""
    if text == "":
        return None
    try:
        return reference_format(parse_instant(text))
    except InstantError:
        return "refused"


def normalized_or_refused(text: str) -> str | None:
    try:
        return normalize_instant(text)
    except InstantError:
        return "refused"


aware = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-7, minutes=-30))]
    ),
)


def fixed_text(value: datetime) -> str:
    """The snapshot's format, written by hand (zero-padded years, unlike strftime)."""
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


SUFFIXES = ("Z", "z", "+00:00", "+0000", "-00:00", "+01:00", "+0100", "")


@st.composite
def crm_texts(draw: st.DrawFn) -> str:
    """Instant text in the forms CRMs send, then perhaps damaged one character at a time."""
    utc = draw(aware).astimezone(UTC)
    stem = fixed_text(utc)[:19]
    fraction = draw(
        st.sampled_from(["", ".000", f".{utc.microsecond // 1000:03d}", ".5", ".123456"])
    )
    text = stem + fraction + draw(st.sampled_from(SUFFIXES))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text) - 1))
        char = draw(st.sampled_from("0123456789:-T.Z +x٣"))
        text = text[:at] + char + text[at + 1 :]
    if draw(st.booleans()):
        text = draw(st.sampled_from(["", " "])) + text + draw(st.sampled_from(["", " ", "\n"]))
    return text


@settings(max_examples=3000, deadline=None)
@given(crm_texts())
def test_fast_normalize_equals_full_parse(text: str) -> None:
    assert normalized_or_refused(text) == reference_normalize(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789-:T.Z+ z", max_size=30))
def test_fast_normalize_equals_full_parse_on_any_text(text: str) -> None:
    assert normalized_or_refused(text) == reference_normalize(text)


@settings(max_examples=2000, deadline=None)
@given(aware)
def test_fast_format_equals_strftime(value: datetime) -> None:
    assert format_instant(value) == reference_format(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05T14:03:00.123Z", "2026-10-05T14:03:00.123Z"),
        ("2026-10-05T14:03:00Z", "2026-10-05T14:03:00.000Z"),
        ("2026-10-05T14:03:00.000+0000", "2026-10-05T14:03:00.000Z"),
        ("2026-10-05T14:03:00.999+00:00", "2026-10-05T14:03:00.999Z"),
        ("2026-10-05T16:03:00.123+02:00", "2026-10-05T14:03:00.123Z"),
        ("2026-10-05T14:03:00.123456Z", "2026-10-05T14:03:00.123Z"),
        ("2024-02-29T00:00:00.000Z", "2024-02-29T00:00:00.000Z"),
        ("0999-01-01T00:00:00.000Z", "999-01-01T00:00:00.000Z"),
        (None, None),
        ("", None),
    ],
)
def test_normalize_examples(text: str | None, expected: str | None) -> None:
    assert normalize_instant(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30T00:00:00.000Z",
        "2025-02-29T00:00:00.000Z",
        "2026-13-01T00:00:00.000Z",
        "2026-10-05T24:00:00.000Z",
        "2026-10-05T14:60:00.000Z",
        "2026-10-05T14:03:60.000Z",
        "2026-10-05T14:03:00.000",
        "2026-10-0٥T14:03:00.000Z",
        "last tuesday",
    ],
)
def test_normalize_refuses_what_the_parse_refuses(text: str) -> None:
    with pytest.raises(InstantError):
        normalize_instant(text)
