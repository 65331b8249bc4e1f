"""The attempts rule's per-channel minimums and cadence: masks, reasons and words.

The facts come from :mod:`audit.persistence`; this module compares them with the SLA and
says, for a violation, which channel fell short ("4 of 3 calls, 1 of 2 e-mails (e-mails
short)") or which gap was too long. With neither ``per_channel`` nor ``max_gap`` in the
SLA every mask here is neutral and every word empty, so the rule reads as it always did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from audit.persistence import CHANNEL_COUNT, CHANNEL_MIN
from audit.wording import human_duration
from config.durations import duration_code
from config.sla.sales import Attempts

CHANNEL_WORDS: dict[str, tuple[str, str]] = {
    "call": ("call", "calls"),
    "email": ("e-mail", "e-mails"),
    "meeting": ("meeting", "meetings"),
    "message": ("message", "messages"),
    "task": ("task", "tasks"),
    "note": ("note", "notes"),
}
"""Each channel as a reader says it, singular and plural."""


def channel_words(name: str, count: int) -> str:
    one, many = CHANNEL_WORDS.get(name, (name, f"{name}s"))
    return one if count == 1 else many


def channels_short(facts: pd.DataFrame, channels: list[str]) -> np.ndarray:
    """handoffs × channels: whether the handoff has fewer of the channel than its tier asks."""
    if not channels:
        return np.zeros((len(facts), 0), dtype=bool)
    return np.column_stack(
        [
            facts[CHANNEL_COUNT + name].to_numpy() < facts[CHANNEL_MIN + name].to_numpy()
            for name in channels
        ]
    )


def cadence(facts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(no gap longer than allowed, the handoff's tier sets ``max_gap``) per handoff."""
    if "max_gap_s" not in facts:
        every = np.ones(len(facts), dtype=bool)
        return every, ~every
    allowed = facts["max_gap_s"].to_numpy()
    return facts["longest_gap_s"].to_numpy() <= allowed, np.isfinite(allowed)


def persistence_words(
    facts: pd.DataFrame, channels: list[str], index: np.ndarray, with_cadence: bool
) -> list[str]:
    """Per violating handoff at ``index``: its channels and its longest gap, in words.

    Worded once per distinct (counts, minimums, gap, allowed), like the rule's own reasons;
    empty for a handoff whose tier asks for neither (the reason stays as it was).
    """
    columns = [facts[CHANNEL_COUNT + name].to_numpy()[index].tolist() for name in channels]
    columns += [facts[CHANNEL_MIN + name].to_numpy()[index].tolist() for name in channels]
    if with_cadence:
        columns += [
            facts[name].to_numpy()[index].tolist() for name in ("longest_gap_s", "max_gap_s")
        ]
    if not columns:
        return [""] * len(index)
    keys = list(zip(*columns, strict=True))
    words = {key: _words(channels, key, with_cadence) for key in set(keys)}
    return [words[key] for key in keys]


def _words(channels: list[str], key: tuple[Any, ...], with_cadence: bool) -> str:
    width = len(channels)
    parts = [_channel_part(channels, list(key[:width]), list(key[width : 2 * width]))]
    if with_cadence:
        longest, allowed = key[2 * width :]
        if longest > allowed:
            gap, most = (human_duration(value / 60, business=True) for value in (longest, allowed))
            parts.append(f"longest gap between attempts {gap}, SLA at most {most}")
    return "".join(f"; {part}" for part in parts if part)


def _channel_part(channels: list[str], counts: list[int], minimums: list[int]) -> str:
    """ "4 of 3 calls, 1 of 2 e-mails (e-mails short)"; "" when the tier asks for none."""
    asked = [
        (name, int(n), int(m)) for name, n, m in zip(channels, counts, minimums, strict=True) if m
    ]
    if not asked:
        return ""
    listed = ", ".join(f"{n} of {m} {channel_words(name, m)}" for name, n, m in asked)
    short = [channel_words(name, 2) for name, n, m in asked if n < m]
    if not short:
        return listed
    return f"{listed} ({' and '.join(short)} short)"


def persistence_details(
    cfg: Attempts,
    channels: list[str],
    short: np.ndarray,
    gap_ok: np.ndarray,
    violating: np.ndarray,
) -> dict[str, Any]:
    """The rule's details when the SLA sets per-channel minimums or a cadence (else none):
    the base minimums and gap, and how many violating handoffs fell short of each."""
    details: dict[str, Any] = {}
    if channels:
        details["per_channel_min"] = dict(cfg.per_channel)
        details["short_by_channel"] = {
            name: int((short[:, position] & violating).sum())
            for position, name in enumerate(channels)
        }
    if cfg.max_gap is not None or not gap_ok.all():
        details["max_gap"] = None if cfg.max_gap is None else duration_code(cfg.max_gap)
        details["gap_too_long"] = int((~gap_ok & violating).sum())
    return details


def persistence_sentence(details: Mapping[str, Any]) -> str:
    """ " Per channel at least 3 calls and 2 e-mails; no more than 16h (business) between
    attempts." — or "" when the SLA asks for neither."""
    parts = []
    per_channel = details.get("per_channel_min")
    if isinstance(per_channel, Mapping) and per_channel:
        asked = [f"{least} {channel_words(name, least)}" for name, least in per_channel.items()]
        parts.append("per channel at least " + " and ".join(asked))
    gap = details.get("max_gap")
    if gap:
        parts.append(f"no more than {gap} (business) between attempts")
    if not parts:
        return ""
    text = "; ".join(parts)
    return f" {text[0].upper()}{text[1:]}."
