"""Marketing's side of the SLA: the volume it owes, its spread over reps, and the goals.

``mqls_per_month: derived`` computes the volume from ``goals`` (§6), so the goals' shares
must be more than 0: the arithmetic divides by them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from config.sla.values import Amount, Count, Duration, PositiveShare, Share, whole_number
from config.sla.wording import as_written


class Goals(BaseModel):
    """The business arithmetic behind ``mqls_per_month: derived`` (§6)."""

    model_config = ConfigDict(extra="forbid")

    revenue_per_month: Amount
    marketing_share: PositiveShare
    average_deal_size: Amount
    mql_to_customer: PositiveShare

    def customers_needed(self) -> float:
        """New customers a month that marketing's share of revenue needs."""
        return self.revenue_per_month * self.marketing_share / self.average_deal_size

    def mqls_needed(self) -> float:
        """MQLs a month that yield :meth:`customers_needed` at ``mql_to_customer``.

        Not rounded: the plan command decides how to present a fractional lead.
        """
        return self.customers_needed() / self.mql_to_customer


class PerRep(BaseModel):
    """MQLs each rep should receive in a month (rule ``mql_per_rep``)."""

    model_config = ConfigDict(extra="forbid")

    min: Count | None = None
    max: Count | None = None
    target: Share = 1.0
    warn_margin: Share | None = None

    @model_validator(mode="after")
    def _a_real_range(self) -> PerRep:
        if self.min is None and self.max is None:
            raise ValueError("gives neither min nor max; give at least one, such as {min: 40}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is more than max {self.max}; swap them")
        return self


class Conversion(BaseModel):
    """MQL→SQL conversion (rule ``conversion``): the share expected and its maturity.

    ``after`` is how long a handoff gets to progress before it is judged: a lead handed off
    yesterday has not failed to convert, it has not had the time. Without ``after`` every
    handoff is judged by as-of (docs/SEMANTICS.md §5). ``mql_to_sql: 0.3`` is short for
    ``{target: 0.3}``.
    """

    model_config = ConfigDict(extra="forbid")

    target: Share
    after: Duration | None = None


class Marketing(BaseModel):
    """Marketing's side: volume, spread across reps, and MQL→SQL conversion."""

    model_config = ConfigDict(extra="forbid")

    mqls_per_month: int | Literal["derived"] | None = None
    per_rep: PerRep | None = None
    mql_to_sql: Conversion | None = None
    warn_margin: Share = 0.1

    @field_validator("mql_to_sql", mode="before")
    @classmethod
    def _share_or_block(cls, value: object) -> object:
        """A bare share is the target alone (the short form the example SLA began with)."""
        if value is None or isinstance(value, dict | Conversion):
            return value
        return {"target": value}

    @property
    def conversion_target(self) -> float | None:
        """The MQL→SQL share expected, or None when the SLA sets none."""
        return None if self.mql_to_sql is None else self.mql_to_sql.target

    @field_validator("mqls_per_month", mode="before")
    @classmethod
    def _number_or_derived(cls, value: object) -> object:
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() == "derived":
            return "derived"
        try:
            return whole_number(value, minimum=1)
        except ValueError as problem:
            if "at least" in str(problem):
                raise
            raise ValueError(
                f"{as_written(value)} is not a number of MQLs or the word derived; "
                "write mqls_per_month: 600 or mqls_per_month: derived"
            ) from None
