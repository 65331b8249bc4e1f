"""Tiers: different promises for different handoffs (a demo request in 5 minutes, …).

```yaml
tiers:
  - name: demo requests
    when: {source: [demo_request]}        # segment / source / tier: lists of raw values
    first_touch: {within: 5m}
  - name: enterprise
    when: {segment: [Enterprise]}
    attempts: {min: 8}
```

A handoff takes the first tier, in file order, whose ``when`` it matches (every key given
must hold one of its values); a handoff matching none is judged by ``sales`` as written
(tier ``base``). A tier overrides only the keys it gives; the rest come from ``sales``.

Refused, because each would silently judge handoffs by another promise than the author
meant: two tiers on the same keys that share a value (a handoff could match both, and file
order alone would pick one), a tier an earlier tier shadows entirely (it could never match
anything), a ``tier`` key when ``segments.tier_field`` names no field, a tier that
overrides nothing, and two tiers with one name.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from config.sla.sales import Sales, known_channels, per_channel_problems, positive_gap
from config.sla.segments import Segments
from config.sla.values import AtLeastOne, Duration, Share

BASE_TIER = "base"
"""The tier of a handoff no tier matches: judged by ``sales`` as written."""

WHEN_KEYS = ("segment", "source", "tier")
OVERRIDDEN = ("first_touch", "attempts", "coverage", "recycle")
"""The ``sales`` blocks a tier can override."""

Problem = tuple[tuple[str | int, ...], str]


class FirstTouchTier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    within: Duration | None = None
    target: Share | None = None


class AttemptsTier(BaseModel):
    """A tier's attempts keys; ``per_channel`` replaces the base map as a whole (``{}``
    drops the per-channel minimums for the tier's handoffs)."""

    model_config = ConfigDict(extra="forbid")
    min: AtLeastOne | None = None
    window: Duration | None = None
    min_gap: Duration | None = None
    per_channel: dict[str, AtLeastOne] | None = None
    max_gap: Duration | None = None
    target: Share | None = None

    @field_validator("per_channel")
    @classmethod
    def _known_channels(cls, per_channel: dict[str, int] | None) -> dict[str, int] | None:
        return known_channels(per_channel)

    @field_validator("max_gap")
    @classmethod
    def _positive_gap(cls, gap: timedelta | None) -> timedelta | None:
        return positive_gap(gap)


class CoverageTier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: Share | None = None


class RecycleTier(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace: Duration | None = None
    target: Share | None = None


class TierWhen(BaseModel):
    """Which handoffs a tier takes: every key given must hold one of its values."""

    model_config = ConfigDict(extra="forbid")

    segment: list[str] | None = None
    source: list[str] | None = None
    tier: list[str] | None = None

    @field_validator("segment", "source", "tier")
    @classmethod
    def _some_value(cls, values: list[str] | None) -> list[str] | None:
        if values is not None and not values:
            raise ValueError("is empty, so the tier would match nothing; list values or remove it")
        return values

    @model_validator(mode="after")
    def _some_key(self) -> TierWhen:
        if not self.keys():
            raise ValueError(
                "names no field, so the tier would take every handoff; give segment, source "
                "or tier (to change every handoff, edit the sales block instead)"
            )
        return self

    def keys(self) -> dict[str, set[str]]:
        """The keys given, each with its values."""
        return {key: set(getattr(self, key)) for key in WHEN_KEYS if getattr(self, key)}


class Tier(BaseModel):
    """One tier: its name, which handoffs it takes, and the sales keys it overrides."""

    model_config = ConfigDict(extra="forbid")

    name: str
    when: TierWhen
    first_touch: FirstTouchTier | None = None
    attempts: AttemptsTier | None = None
    coverage: CoverageTier | None = None
    recycle: RecycleTier | None = None

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError('is empty; name the tier as reports should show it ("demo requests")')
        if name.strip().lower() == BASE_TIER:
            raise ValueError(f'"{BASE_TIER}" is the name of handoffs no tier takes; pick another')
        return name.strip()

    @model_validator(mode="after")
    def _overrides_something(self) -> Tier:
        if not self.overrides():
            raise ValueError(
                "changes nothing; give first_touch, attempts, coverage or recycle keys to override"
            )
        return self

    def overrides(self) -> dict[str, dict[str, object]]:
        """Block → the keys this tier gives (only those replace the base SLA's)."""
        out = {}
        for block in OVERRIDDEN:
            given = getattr(self, block)
            keys = given.model_dump(exclude_none=True) if given is not None else {}
            if keys:
                out[block] = keys
        return out

    def sales(self, base: Sales) -> Sales:
        """The base sales blocks with this tier's keys merged over them."""
        update = {
            block: getattr(base, block).model_copy(update=keys)
            for block, keys in self.overrides().items()
        }
        return base.model_copy(update=update)


def checked_tiers(tiers: list[Tier], segments: Segments) -> list[Problem]:
    """Problems across tiers: see the module docstring for why each is refused."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, tier in enumerate(tiers):
        where: tuple[str | int, ...] = ("tiers", index)
        if tier.name in seen:
            problems.append(
                ((*where, "name"), f'"{tier.name}" is already tiers[{seen[tier.name]}]; rename one')
            )
        seen.setdefault(tier.name, index)
        if tier.when.tier and segments.tier_field is None:
            problems.append(
                (
                    (*where, "when", "tier"),
                    "segments.tier_field names no field to read the tier from; add it "
                    "(for example segments: {tier_field: segment}) or use segment/source",
                )
            )
        for earlier in range(index):
            problem = _clash(tiers[earlier], earlier, tier)
            if problem:
                problems.append(((*where, "when", problem[0]), problem[1]))
                break
    return problems


def tier_attempts_problems(tiers: list[Tier], base: Sales) -> list[Problem]:
    """Per-channel minimums a tier's attempts (merged over the base) cannot meet.

    A tier that lowers ``min`` below the base's ``per_channel``, or sets a ``per_channel``
    above its own total, would judge its handoffs by a promise that contradicts itself.
    """
    problems: list[Problem] = []
    for index, tier in enumerate(tiers):
        given = tier.attempts.model_dump(exclude_none=True) if tier.attempts else {}
        if not {"min", "per_channel"} & set(given):
            continue
        merged = tier.sales(base).attempts
        where = ("tiers", index, "attempts")
        if "per_channel" in given:
            min_key = f"tiers[{index}].attempts.min" if "min" in given else "sales.attempts.min"
            found = per_channel_problems(merged, min_key=min_key)
            problems += [((*where, *path), message) for path, message in found]
            continue
        total = sum(merged.per_channel.values())
        if total > merged.min:
            listed = ", ".join(f"{name}: {least}" for name, least in merged.per_channel.items())
            problems.append(
                (
                    (*where, "min"),
                    f"{merged.min} is less than the channel minimums of "
                    f"sales.attempts.per_channel ({listed}; {total} in all); raise it to at "
                    "least that or give the tier its own per_channel",
                )
            )
    return problems


def _clash(first: Tier, first_index: int, later: Tier) -> tuple[str, str] | None:
    """(key, problem) when ``later`` overlaps ``first`` on the same keys or is shadowed."""
    a, b = first.when.keys(), later.when.keys()
    named = f'tier "{first.name}" (tiers[{first_index}])'
    if set(a) == set(b) and all(a[key] & b[key] for key in a):
        key = next(iter(a))
        shared = sorted(a[key] & b[key])[0]
        return key, (
            f'"{shared}" is also in {named}, which names the same keys, so a handoff could '
            "match both; list each value in one tier only"
        )
    if set(a) <= set(b) and all(b[key] <= a[key] for key in a):
        key = next(iter(a))
        return key, (
            f"matches nothing: every handoff it names is already taken by {named}, which "
            "comes first; move this tier above it or narrow that one"
        )
    return None
