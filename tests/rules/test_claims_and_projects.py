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
    # Damage that is not a roof leak: the workmanship warranty only (seed 000: "Under
    # warranty?" of all property damage).
    ({"roof_leak": False, "entitlements": []}, "denied", None),
    ({"roof_leak": False}, "denied", None),  # a roof-penetration warranty does not cover it
    ({"roof_leak": False, "entitlements": [{"kind": "workmanship",
                                            "active_until": "2030-01-01"}]},
     "create_claim", "company"),
    ({"roof_leak": False, "installer": "partner", "installer_accepting_service_work": True,
      "entitlements": []}, "create_claim", "partner"),
    ({"roof_leak": False, "installer": "partner", "company_is_warrantor": True,
      "entitlements": []}, "create_claim", "company"),
    ({"project_id": "rr-SYS-1-P1", "entitlements": []}, "create_claim", "company"),
    ({"assignment_recommendation": "partner"}, "create_claim", "partner"),
])
def test_the_intake_tree(changes: dict[str, Any], decision: str,
                         recommendation: str | None) -> None:
    result = claim_intake(claim_input(**changes))
    assert (result.decision, result.recommendation) == (decision, recommendation)
    assert result.reason


def test_claims_recorded_before_the_non_leak_check_keep_their_intake() -> None:
    result = claim_intake(claim_input(roof_leak=False, entitlements=[]),
                          non_leak_warranty=False)
    assert result.decision == "create_claim" and result.under_warranty is None


@given(until=dates, reported=dates)
def test_non_leak_damage_is_covered_by_workmanship_up_to_its_last_day(until: date,
                                                                      reported: date) -> None:
    result = claim_intake(claim_input(
        roof_leak=False, reported_on=reported,
        entitlements=[{"kind": "workmanship", "active_until": until},
                      {"kind": "roof_penetration", "active_until": date(2045, 12, 31)}]))
    assert result.decision == ("create_claim" if reported <= until else "denied")


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


@given(project_no=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True),
       n=st.integers(1, 999))
def test_a_damage_claim_number_is_always_a_valid_key_and_names_its_project(
        project_no: str, n: int) -> None:
    """Spec 2.1: a child input built in a workflow must not fail validation."""
    from domain.links import damage_claim_no

    claim_no = damage_claim_no(project_no, n)
    assert claim_input(claim_no=claim_no).claim_no == claim_no  # a valid business key
    assert claim_no.endswith(f"-D{n}")
    if len(project_no) + len(f"-D{n}") <= 64:
        assert claim_no == f"{project_no}-D{n}"
    else:  # cut, with a digest of the whole: two long numbers sharing a prefix stay apart
        assert damage_claim_no(project_no[:-1] + ("x" if project_no[-1] != "x" else "y"),
                               n) != claim_no


def _policy_durations() -> list[tuple[str, type[Any], str]]:
    from datetime import timedelta as td

    from domain.processes import PROCESSES

    rows = []
    for name, process in PROCESSES.items():
        policy_model = process.input_model.model_fields["policy"].annotation
        assert isinstance(policy_model, type)
        for field, info in policy_model.model_fields.items():
            if info.annotation is td:
                rows.append((name, policy_model, field))
    return rows


@pytest.mark.parametrize(("process", "policy", "field"), _policy_durations(),
                         ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("value", [0, "PT0S", "-PT1H", -60])
def test_a_zero_or_negative_policy_duration_is_refused_naming_the_field(
        process: str, policy: type[Any], field: str, value: Any) -> None:
    """Spec 2.1: `overrun_reminder_interval: 0` or `-PT1H` was accepted and then failed the
    workflow task for ever; every duration of every process's policy is refused at the start."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=f"{field} must be a positive duration"):
        policy.model_validate({field: value})
    assert getattr(policy.model_validate({field: "PT1M"}), field).total_seconds() == 60
