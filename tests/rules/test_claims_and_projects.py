"""The claim intake tree, warranties and R&R market routing as plain rules (spec 3.4, 3.5, 4.2,
4.3), with property-based checks where a rule has a range (dates, markets)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.damage import Entitlement
from domain.rules.market_routing import rr_management
from domain.rules.warranty import claim_intake, under_warranty
from domain.rules.zones import MARKET_ZONES
from tests.workflows.harness import claim_input

NON_REMI = ["HI", "PR", "WA", "NJ"]
dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2045, 12, 31))


@given(until=dates, reported=dates)
def test_an_entitlement_covers_the_report_date_up_to_its_last_day(until: date,
                                                                   reported: date) -> None:
    ent = [Entitlement(kind="roof_penetration", active_until=until)]
    assert under_warranty(ent, reported) == (reported <= until)


@given(start=dates, length=st.integers(0, 3650), offset=st.integers(-400, 4000))
def test_an_entitlement_with_a_start_covers_only_its_span(start: date, length: int,
                                                          offset: int) -> None:
    ent = [Entitlement(kind="workmanship", active_from=start,
                       active_until=start + timedelta(days=length))]
    reported = start + timedelta(days=offset)
    assert under_warranty(ent, reported) == (0 <= offset <= length)


@pytest.mark.parametrize(("changes", "decision", "recommendation"), [
    ({}, "create_claim", "company"),
    ({"entitlements": []}, "denied", None),
    ({"installer": "partner", "installer_accepting_service_work": True, "entitlements": []},
     "create_claim", "partner"),
    ({"installer": "partner", "company_is_warrantor": True, "entitlements": []},
     "create_claim", "company"),
    ({"installer": "partner", "entitlements": []}, "denied", None),
    ({"roof_leak": False, "entitlements": []}, "create_claim", "company"),
    ({"project_id": "rr-SYS-1-P1", "entitlements": []}, "create_claim", "company"),
    ({"assignment_recommendation": "partner"}, "create_claim", "partner"),
])
def test_the_intake_tree(changes: dict[str, Any], decision: str,
                         recommendation: str | None) -> None:
    result = claim_intake(claim_input(**changes))
    assert (result.decision, result.recommendation) == (decision, recommendation)
    assert result.reason


def test_a_warranty_that_ended_the_day_before_the_report_denies() -> None:
    result = claim_intake(claim_input(
        reported_on="2026-11-20",
        entitlements=[{"kind": "workmanship", "active_until": "2026-11-19"}]))
    assert result.decision == "denied" and "2026-11-20" in result.reason


@given(market=st.sampled_from(sorted(MARKET_ZONES)),
       option=st.sampled_from([None, "full_service", "sunrun_quoted"]))
def test_market_routing(market: str, option: Any) -> None:
    elective, why = rr_management("elective", market, option, NON_REMI)
    if market in NON_REMI:
        assert elective == "company" and "not a Remi market" in why
    else:
        assert elective == ("remi_sunrun_quoted" if option == "sunrun_quoted"
                            else "remi_full_service")
    assert rr_management("damage", market, option, NON_REMI)[0] == "company"


def test_the_remi_market_list_is_policy() -> None:
    assert rr_management("elective", "CA", None, ["CA"])[0] == "company"
    assert rr_management("elective", "NJ", None, [])[0] == "remi_full_service"
