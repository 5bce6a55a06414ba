"""Every process's main path the way a homeowner's week goes (the developers' guide, spec 2.1,
2.2): a phone-only homeowner at a San Francisco address, 08:00-20:00, the production holiday
calendar, and the case opened on a weekday evening, in the middle of the night, or early on a
Saturday. Each path runs to its outcome, and every text and call in every run of the case (and
of the case it started) lies inside contact hours in the homeowner's zone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any

import pytest

from domain.case import CaseState
from domain.followup import PartnerFollowUp
from domain.inquiry import InquiryCase
from domain.om import OmCase
from domain.processes import FOLLOWUP, INQUIRY, REACTIVATION
from domain.reactivation import Reactivation
from domain.rules.contact_hours import ContactHours
from tests.clock import move_to
from tests.histories.messages import assert_inside_contact_hours
from tests.workflows.harness import (
    CaseDriver,
    CaseHarness,
    claim_input,
    followup_input,
    health_stand_in,
    inquiry_input,
    om_input,
    reactivation_input,
    rr_input,
)

Path = Callable[[CaseHarness], Awaitable[list[CaseDriver[Any]]]]
STARTS = [
    pytest.param(("tue", time(19, 30)), id="weekday-evening"),
    pytest.param(("wed", time(2, 30)), id="night"),
    pytest.param(("sat", time(7, 0)), id="weekend"),
]


def _texts(case: CaseDriver[Any]) -> Callable[[CaseState], bool]:
    return lambda s: s.attempts.get("texts", 0) >= 1


async def _visit(case: CaseDriver[Any], outcome: str, **payload: Any) -> None:
    """Book the visit once the first text is out, and report its outcome after the window."""
    await case.until(_texts(case))
    await case.book()
    await case.until(lambda s: s.waiting_for is not None and "outcome" in s.waiting_for
                     or s.stage in ("pending_appt_findings",))
    await case.send(outcome, **payload)


async def om_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """Remote fix not resolved, texts, a booked visit and its reminder, validation."""
    case = await om.open(om_input())
    await case.stage("problem_identified")
    await case.send("remote_fix_result", resolved=False)
    await _visit(case, "appointment_outcome", appointment_id="APT-1", result="completed")
    st = await case.until(lambda s: s.outcome is not None)
    assert st.outcome == "resolved"
    return [case]


async def claim_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """Investigation visit, liability (a repair), the repair done."""
    case = await om.open_claim(claim_input())
    await case.stage("investigation")
    await _visit(case, "field_assessment", follow_up_required=False, at_fault="company")
    await case.until(lambda s: s.stage == "liability_determination")
    await case.send("liability_determined", liable_party="company", decision="repair",
                    repair_by="internal_work")
    await case.send("repair_completed")
    st = await case.until(lambda s: not s.outbox)
    assert st.outcome == "repaired"
    return [case]


async def rr_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """Five steps, the removal overrunning twice (status updates and check-ins)."""
    case = await om.open_project(rr_input())
    await case.stage("removal")
    await case.until(lambda s: s.attempts.get("status_updates", 0) >= 2 and not s.outbox)
    for event in ("removal_completed", "roofing_completed", "reinstall_completed"):
        await case.send(event)
    st = await case.until(lambda s: not s.outbox)
    assert st.outcome == "completed"
    return [case]


async def reactivation_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """A payment made yesterday: the clearing wait, the back office, O&M."""
    today = (await om.env.get_current_time()).date()
    case = await om.open_process(REACTIVATION, reactivation_input(
        payment_date=(today - timedelta(days=1)).isoformat()), Reactivation)
    await case.until(lambda s: s.stage == "back_office_verification", max_timers=60)
    await case.send("payment_verified", approved=True)
    await case.send("reactivation_completed")
    st = await case.until(lambda s: not s.outbox)
    assert st.outcome == "reactivated"
    return [case]


async def followup_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """Concert/Beam: three weekly commitments by text, the Sales referral, resolved."""
    case = await om.open_process(FOLLOWUP, followup_input(concert_beam=True, party_email=None),
                                 PartnerFollowUp)
    await case.stage("party_contacted")
    await case.until(lambda s: s.reminders["commitment"].count >= 3 and not s.outbox)
    await case.send("case_resolved", comment="GTR fixed it")
    st = await case.until(lambda s: not s.outbox)
    assert st.outcome == "resolved"
    return [case]


async def inquiry_path(om: CaseHarness) -> list[CaseDriver[Any]]:
    """A maintenance request: the O&M case opened (its texts start), the reply sent."""
    inquiry = await om.open_process(INQUIRY, inquiry_input(), InquiryCase)
    st = await inquiry.until(lambda s: s.outcome is not None and not s.outbox)
    assert st.outcome == "om_case" and st.linked_case_id
    om_case = om.driver(st.linked_case_id, OmCase)
    await om_case.stage("problem_identified")
    await om_case.send("remote_fix_result", resolved=False)
    await om_case.until(_texts(om_case))
    return [inquiry, om_case]


PATHS = [pytest.param(p, id=p.__name__.removesuffix("_path"))
         for p in (om_path, claim_path, rr_path, reactivation_path, followup_path, inquiry_path)]


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("path", PATHS)
async def test_the_main_path_keeps_to_contact_hours(om: CaseHarness, path: Path,
                                                    start: tuple[str, time]) -> None:
    weekday, at = start
    await move_to(om.env, weekday, at)
    async with om.worker(health_stand_in(True)):
        cases = await path(om)
        checked = 0
        for case in cases:
            st = await case.status()
            assert st.time_zone == "America/Los_Angeles"
            checked += assert_inside_contact_hours(await case.histories(), st.time_zone,
                                                   ContactHours())
            assert st.dropped_messages == []
        assert checked >= 1, "no text or call was checked"
