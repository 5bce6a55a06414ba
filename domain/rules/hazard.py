"""Hazardous situations (spec 4.1): situations that could injure someone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class HazardFacts(BaseModel):
    """What the reporter observed; every fact defaults to false."""

    model_config = ConfigDict(extra="forbid")

    burning_smell: bool = False
    water_in_panel: bool = False
    battery_swelling: bool = False
    sparks_smoke_fire: bool = False
    power_loss: bool = False
    utility_outage: bool = False
    serviced_or_pto_within_30_days: bool = False
    without_hvac: bool = False


def hazard_reasons(facts: HazardFacts | None) -> list[str]:
    """The reasons a report is hazardous; empty when it is not."""
    if facts is None:
        return []
    reasons = [
        label
        for present, label in (
            (facts.burning_smell, "burning smell or smoke near equipment or panel"),
            (facts.water_in_panel, "water entering electrical equipment"),
            (facts.battery_swelling, "battery visibly swelling"),
            (facts.sparks_smoke_fire, "visible sparks, smoke or fire"),
        )
        if present
    ]
    # Power loss alone is common and usually the utility's: it is hazardous only when all three
    # conditions show it is ours and the household is exposed.
    if (
        facts.power_loss
        and not facts.utility_outage
        and facts.serviced_or_pto_within_30_days
        and facts.without_hvac
    ):
        reasons.append("power loss without HVAC after recent service or PTO")
    return reasons


def is_hazardous(facts: HazardFacts | None) -> bool:
    """Whether the facts describe a hazardous situation."""
    return bool(hazard_reasons(facts))
