"""The SLA's holidays: explicit local dates, a country's public holidays, or both.

``holidays: [2026-10-12, 2026-11-02]`` lists the days; ``holidays: {country: BR,
subdivision: SP, dates: [2026-12-24]}`` takes Brazil's and São Paulo's public holidays from
the ``holidays`` package (kept up to date by its maintainers for some 150 countries, moving
feasts and one-off holidays included: a table of our own would be wrong within a year) plus
the listed days. Years are resolved on demand: an audit asks for the years it spans.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.sla.values import Holiday

SUBDIVISIONS_SHOWN = 12
"""Subdivision codes an error lists before "and N more"."""


class Holidays(BaseModel):
    """``holidays``: a country's public holidays (optional) and explicit local dates."""

    model_config = ConfigDict(extra="forbid")

    country: str | None = None
    subdivision: str | None = None
    dates: list[Holiday] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _list_or_block(cls, value: object) -> object:
        """A bare list is the explicit dates alone (the form every earlier SLA file uses);
        ``dates:`` with only commented-out lines under it lists none."""
        if isinstance(value, list):
            return {"dates": value}
        if isinstance(value, dict) and "dates" in value and value["dates"] is None:
            return {key: item for key, item in value.items() if key != "dates"}
        return value

    @model_validator(mode="after")
    def _known_country(self) -> Holidays:
        if self.country is None:
            if self.subdivision is not None:
                raise ValueError("gives a subdivision without a country; add country: BR")
            return self
        self.country = self.country.strip().upper()
        if self.subdivision is not None:
            self.subdivision = self.subdivision.strip().upper()
        if _usable(self.country, self.subdivision):
            return self  # the common case: no need to load every country's module
        known = _supported()
        if self.country not in known:
            raise ValueError(
                f"country {self.country!r} is not one the holidays package knows; write its "
                "ISO 3166 code, such as BR, US, DE or PT"
            )
        if self.subdivision is not None:
            codes = known[self.country]
            if self.subdivision not in codes:
                shown = ", ".join(codes[:SUBDIVISIONS_SHOWN])
                more = f" and {len(codes) - SUBDIVISIONS_SHOWN} more" if len(codes) > 12 else ""
                raise ValueError(
                    f"subdivision {self.subdivision!r} is not one of {self.country}'s; use one "
                    f"of {shown}{more}"
                    if codes
                    else f"{self.country} has no subdivisions"
                )
        return self

    def __bool__(self) -> bool:
        return bool(self.dates) or self.country is not None

    def resolved(self, years: Iterable[int]) -> dict[date, str]:
        """Every holiday of ``years``: the country's (with their names) and the listed dates."""
        days: dict[date, str] = {}
        if self.country is not None:
            for year in years:
                days.update(_country_year(self.country, self.subdivision, year))
        for day in self.dates:
            days.setdefault(day, "listed in the SLA file")
        return dict(sorted(days.items()))

    def dates_in(self, years: Iterable[int]) -> frozenset[date]:
        """The holiday dates of ``years`` (what the business calendar closes)."""
        return frozenset(self.resolved(years))


def _usable(country: str, subdivision: str | None) -> bool:
    """Whether the package has this country (and subdivision), loading only that country."""
    try:
        _country_year(country, subdivision, date.today().year)
    except NotImplementedError:
        return False
    return True


@lru_cache(maxsize=1)
def _supported() -> dict[str, list[str]]:
    import holidays

    return {
        code: list(subdivisions)
        for code, subdivisions in holidays.list_supported_countries().items()
    }


@lru_cache(maxsize=256)
def _country_year(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year).items())
