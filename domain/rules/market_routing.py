"""Who manages a removal and reinstall (spec 3.5, 4.2; seed 000 "R&R Intake")."""

from __future__ import annotations

from collections.abc import Collection

from domain.rr import Management, RemiOption, Variant


def rr_management(variant: Variant, market: str, remi_option: RemiOption | None,
                  non_remi_markets: Collection[str]) -> tuple[Management, str]:
    """The project's management and why: damage R&R is always company-managed; elective R&R is
    Remi-managed in a Remi market (every market not in `non_remi_markets`), full service unless
    the request asks for the company-quoted option; otherwise company-managed."""
    if variant == "damage":
        return "company", "damage R&R is always company-managed"
    if market.upper() in {m.upper() for m in non_remi_markets}:
        return "company", f"{market} is not a Remi market"
    if remi_option == "sunrun_quoted":
        return "remi_sunrun_quoted", f"{market} is a Remi market; Remi, company-quoted"
    return "remi_full_service", f"{market} is a Remi market; Remi full service"
