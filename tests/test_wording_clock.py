"""One clock, human durations: the two wording helpers every report uses (issue 16, item 5)."""

from __future__ import annotations

import pytest

from audit.wording import MISSING, human_duration, local_instant


@pytest.mark.parametrize(
    ("minutes", "business", "text"),
    [
        (132.0, True, "2 h 12 min (business)"),
        (3140.4, True, "52 h 20 min (business)"),  # business time never says days
        (3140.4, False, "2 d 4 h 20 min"),
        (60.0, False, "1 h"),
        (12.4, True, "12 min (business)"),
        (12.5, False, "12 min"),  # round half to even: 12.5 → 12
        (0.5, True, "30 s (business)"),
        (0.0, False, "0 s"),
        (1440.0, False, "1 d"),
        (None, True, MISSING),
        (float("nan"), False, MISSING),
    ],
)
def test_human_duration(minutes: float | None, business: bool, text: str) -> None:
    assert human_duration(minutes, business=business) == text


@pytest.mark.parametrize(
    ("instant", "zone", "text"),
    [
        # Paris in summer time (+02:00) and, after 25 October 2026, in winter time (+01:00)
        ("2026-10-02T13:00:00.000Z", "Europe/Paris", "2026-10-02 15:00 +02:00"),
        ("2026-10-26T13:00:00.000Z", "Europe/Paris", "2026-10-26 14:00 +01:00"),
        # the hour that happens twice on 25 October: the offset tells them apart
        ("2026-10-25T00:30:00.000Z", "Europe/Paris", "2026-10-25 02:30 +02:00"),
        ("2026-10-25T01:30:00.000Z", "Europe/Paris", "2026-10-25 02:30 +01:00"),
        ("2026-11-02T13:00:00.000Z", "America/New_York", "2026-11-02 08:00 -05:00"),
        ("2026-11-02T13:00:00.000Z", "Asia/Kolkata", "2026-11-02 18:30 +05:30"),
        (None, "Europe/Paris", MISSING),
        ("not a time", "Europe/Paris", "not a time"),
    ],
)
def test_local_instant(instant: str | None, zone: str, text: str) -> None:
    assert local_instant(instant, zone) == text


def test_local_instant_with_seconds() -> None:
    assert local_instant("2026-10-02T13:00:07.250Z", "UTC", seconds=True) == (
        "2026-10-02 13:00:07 +00:00"
    )
