"""Intake through the workflows (spec 3.1): the track and its reasons, hazard, a report joining
the open case, a new case once the old one closed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.om import CLEANING_REFUSAL
from tests.workflows.harness import CaseHarness, om_input, stages

INELIGIBLE: list[tuple[dict[str, Any], str]] = [
    ({"installer_accepting_service_work": False},
     "installer not accepting service work (the company)"),
    ({"market": "ND"}, "out of market: ZIP not in the O&M service territory"),
    ({"agreement_type": "customer_owned"}, "customer-owned without Protection Plus"),
    ({"acquisition_channel": "new_homes"}, "acquisition channel not eligible: new_homes"),
    ({"acquisition_channel": "multifamily"}, "acquisition channel not eligible: multifamily"),
    ({"acquisition_channel": "military_privatized_housing"},
     "acquisition channel not eligible: military_privatized_housing"),
]


async def test_eligible_report_opens_the_simplified_track(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        st = await case.stage("problem_identified")
        assert st.process == "om_simplified"
        assert st.eligibility is not None
        assert (st.eligibility.track, st.eligibility.reasons) == ("simplified", [])
        assert (await case.handle.describe()).workflow_type == "OmSimplifiedWorkflow"


@pytest.mark.parametrize(("change", "reason"), INELIGIBLE,
                         ids=[r.split(":")[0].split(" (")[0] for _, r in INELIGIBLE])
async def test_each_ineligibility_reason_opens_the_manual_track(
        om: CaseHarness, change: dict[str, Any], reason: str) -> None:
    async with om.worker():
        case = await om.open(om_input(**change))
        st = await case.stage("findings_review", "dispatched_to_partner")
        assert st.process == "om_manual"
        assert st.eligibility is not None
        assert (st.eligibility.track, st.eligibility.reasons) == ("manual", [reason])
        assert reason in case.records("assignment")[0].payload["reason"]


async def test_customer_owned_with_protection_plus_stays_simplified(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(agreement_type="customer_owned", protection_plus=True))
        st = await case.stage("problem_identified")
        assert st.process == "om_simplified"


async def test_hazardous_report_is_marked_and_skips_self_scheduling(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(case_reason="hazardous_situation"))
        st = await case.stage("outbound_calls")
        assert st.hazardous and "self_scheduling_texts" not in stages(st)
        assert (await case.search_attributes())["Hazardous"] is True


def test_cleaning_requests_are_refused_with_the_standard_message() -> None:
    with pytest.raises(ValidationError) as err:
        om_input(case_reason="cleaning")
    assert CLEANING_REFUSAL in str(err.value)


async def test_second_report_joins_the_open_case(om: CaseHarness) -> None:
    async with om.worker():
        first = await om.open(om_input("SYS-JOIN"))
        st = await first.stage("problem_identified")
        run_id = (await first.handle.describe()).run_id
        again = await om.open(om_input("SYS-JOIN", description="homeowner calls: no power"))
        st = await again.settle(lambda s: s.related_reports == 1)
        assert st.stage == "problem_identified"
        assert (await again.handle.describe()).run_id == run_id  # no second case
        assert [e.name for e in st.events] == ["issue_reported", "issue_reported"]
        # The very same report sent again is a retry: acknowledged and ignored.
        await om.open(om_input("SYS-JOIN", description="homeowner calls: no power"))
        st = await again.settle()
        assert st.related_reports == 1 and len(st.events) == 2
        assert first.keys("remote_fix_request") == ["remote-fix"]


async def test_a_closed_case_never_blocks_a_new_one(om: CaseHarness) -> None:
    async with om.worker():
        first = await om.open(om_input("SYS-AGAIN"))
        await first.stage("problem_identified")
        await first.send("remote_fix_result", resolved=True)
        closed = await first.result()
        assert closed.outcome == "resolved_remotely"
        second = await om.open(om_input("SYS-AGAIN", description="it failed again"))
        st = await second.stage("problem_identified")
        assert st.outcome is None and st.related_reports == 0
        assert stages(st) == ["problem_identified"]
        assert st.instance != closed.instance
        # Keys name the case instance: the new case asks for a remote fix again, it does not
        # find the old case's record under the same workflow ID.
        assert second.keys("remote_fix_request", all_instances=True) == ["remote-fix",
                                                                         "remote-fix"]
