"""``funnel``: which raw CRM values mean a lead entered each canonical stage, per source.

The audit maps raw values to stages from this block at read time, so changing a definition
never needs a re-sync. Every source must define ``mql``: without it the source has no
handoffs and every rule would be silently n/a. The sources themselves, with their example
``mql`` stages, are those registered in :mod:`config.sources`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from config.sla.wording import Problems, join_words, unknown_name
from config.sources import SOURCES, source_names


def _registered_source(value: object) -> str:
    """A source name from :data:`config.sources.SOURCES`, read when the file is validated.

    Worded as pydantic's ``Literal`` error was before the registry, so the problem line
    reads ``funnel.pipedrive: unknown source; sources are hubspot and salesforce``.
    """
    names = source_names()
    if isinstance(value, str) and value in names:
        return value
    raise ValueError(unknown_name("source", value, names))


Source = Annotated[str, BeforeValidator(_registered_source)]
CanonicalStage = Literal["mql", "sql", "opportunity", "customer", "recycled"]


class FunnelStage(BaseModel):
    """Raw CRM values that mean a lead entered one canonical stage (§2).

    Any listed field matching counts; ``converted`` is Salesforce's lead conversion;
    ``lead_stage`` a stage of HubSpot's Leads object (``hs_pipeline_stage`` of a lead
    associated with the contact, such as ``new-stage-id``).
    """

    model_config = ConfigDict(extra="forbid")

    stage: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    lead_stage: list[str] = Field(default_factory=list)
    converted: bool = False

    @model_validator(mode="after")
    def _matches_something(self) -> FunnelStage:
        if not (self.stage or self.status or self.lead_stage or self.converted):
            raise ValueError(
                "matches no lead; give stage, status, lead_stage or converted: true, "
                "such as {stage: [salesqualifiedlead]}"
            )
        return self


Funnel = dict[Source, dict[CanonicalStage, FunnelStage]]


def checked_funnel(funnel: dict[str, dict[str, FunnelStage]]) -> dict[str, dict[str, FunnelStage]]:
    """``funnel`` itself if every source defines ``mql`` and only converting sources convert.

    Raises :class:`Problems` with one line per source or stage at fault.
    """
    if not funnel:
        raise ValueError(
            "has no sources; map at least one CRM, such as "
            "hubspot: {mql: {stage: [marketingqualifiedlead]}}"
        )
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for source, stages in funnel.items():
        if "mql" not in stages:
            problems.append(
                (
                    (source, "mql"),
                    f"missing; every source needs an mql stage, such as "
                    f"mql: {SOURCES[source].mql_example}",
                )
            )
        if not SOURCES[source].converts_leads:
            problems.extend(
                ((source, stage, "converted"), _only_some_convert())
                for stage, spec in stages.items()
                if spec.converted
            )
    if problems:
        raise Problems(problems)
    return funnel


def _only_some_convert() -> str:
    """``only Salesforce leads convert; …``, naming every source that converts leads."""
    converting = [spec for spec in SOURCES.values() if spec.converts_leads]
    if not converting:
        return "no source's leads convert; remove it"
    titles = join_words([spec.title for spec in converting], "and")
    names = join_words([spec.name for spec in converting], "or")
    return f"only {titles} leads convert; remove it or move the stage under {names}"
