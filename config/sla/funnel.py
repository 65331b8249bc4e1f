"""``funnel``: which raw CRM values mean a lead entered each canonical stage, per source.

The audit maps raw values to stages from this block at read time, so changing a definition
never needs a re-sync. Every source must define ``mql``: without it the source has no
handoffs and every rule would be silently n/a.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from config.sla.wording import Problems

Source = Literal["hubspot", "salesforce"]
CanonicalStage = Literal["mql", "sql", "opportunity", "customer", "recycled"]
MQL_EXAMPLES: dict[str, str] = {
    "hubspot": "{stage: [marketingqualifiedlead]}",
    "salesforce": '{status: ["Marketing Qualified"]}',
}


class FunnelStage(BaseModel):
    """Raw CRM values that mean a lead entered one canonical stage (§2).

    Any listed field matching counts; ``converted`` is Salesforce's lead conversion.
    """

    model_config = ConfigDict(extra="forbid")

    stage: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    converted: bool = False

    @model_validator(mode="after")
    def _matches_something(self) -> FunnelStage:
        if not (self.stage or self.status or self.converted):
            raise ValueError(
                "matches no lead; give stage, status or converted: true, "
                "such as {stage: [salesqualifiedlead]}"
            )
        return self


Funnel = dict[Source, dict[CanonicalStage, FunnelStage]]


def checked_funnel(funnel: dict[str, dict[str, FunnelStage]]) -> dict[str, dict[str, FunnelStage]]:
    """``funnel`` itself if every source defines ``mql`` and only Salesforce converts.

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
                    f"mql: {MQL_EXAMPLES[source]}",
                )
            )
        if source != "salesforce":
            problems.extend(
                (
                    (source, stage, "converted"),
                    "only Salesforce leads convert; remove it or move the stage under salesforce",
                )
                for stage, spec in stages.items()
                if spec.converted
            )
    if problems:
        raise Problems(problems)
    return funnel
