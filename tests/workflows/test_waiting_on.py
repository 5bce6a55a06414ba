"""Who a case waits on, and since when (spec 2: `WaitingOn`, `StageEnteredAt`; issue 20), on
every process: kept current in the search attributes, the status and the current details, as
the case moves through its stages and closes. Real conditions: a phone-only homeowner in a real
zone, contact hours, the production holiday calendar."""

from __future__ import annotations

from datetime import time
from typing import Any

from domain.followup import PartnerFollowUp
from domain.inquiry import InquiryCase
from domain.processes import FOLLOWUP, INQUIRY, REACTIVATION
from domain.reactivation import Reactivation
from starter.client import run_ops
from tests.clock import move_to
from tests.workflows.harness import (
    CaseDriver,
    CaseHarness,
    claim_input,
    followup_input,
    inquiry_input,
    om_input,
    reactivation_input,
    rr_input,
)


async def _is(case: CaseDriver[Any], waiting_on: str) -> None:
    """The case waits on `waiting_on`, in its status and its search attributes, in the stage
    it entered at `StageEnteredAt`."""
    st = await case.settle(lambda s: s.waiting_on == waiting_on)
    sa = await case.search_attributes()
    assert sa["WaitingOn"] == waiting_on, (st.stage, sa)
    assert sa["StageEnteredAt"] == st.stage_history[-1].entered_at == st.stage_entered_at
    assert sa["CaseStage"] == st.stage


async def test_an_om_case(om: CaseHarness) -> None:
    """At night the case waits on its own timer (contact hours for the first text); from the
    morning on, on the homeowner booking."""
    await move_to(om.env, "tue", time(21, 30), business_day=True)
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await _is(case, "monitoring")  # the remote fix
        await case.send("remote_fix_result", resolved=False)
        st = await case.stage("self_scheduling_texts")
        assert st.waiting_for == "contact hours for text 1"
        await _is(case, "schedule")
        st = await case.fire_next_timer()  # 08:00: the first text goes
        await _is(case, "homeowner")
        assert st.attempts["texts"] == 1
        await run_ops(om.client, case.case_id, "cancel_case", {"reason": "test"})
        await _is(case, "none")


async def test_a_claim(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_claim(claim_input(installer="partner", entitlements=[],
                                               installer_accepting_service_work=True))
        await case.stage("dispatched_to_partner")
        await _is(case, "partner")
        await case.send("partner_decision", accepted=True)
        await case.send("partner_findings", at_fault="company")
        await case.stage("liability_determination")
        await _is(case, "case_manager")
        await case.send("liability_determined", liable_party="company", decision="settle")
        await _is(case, "homeowner")
        await case.send("settlement_accepted")
        await _is(case, "none")


async def test_a_project(om: CaseHarness) -> None:
    async with om.worker():
        project = await om.open_project(rr_input())
        await project.stage("removal")
        await _is(project, "field_tech")
        await project.send("removal_completed")
        await _is(project, "homeowner")  # the homeowner's roofer (elective)
        remi = await om.open_project(rr_input(market="AZ", remi_option="sunrun_quoted"))
        await remi.stage("quote_approval")
        await _is(remi, "homeowner")
        await remi.send("quote_approved", amount="100.00")
        await _is(remi, "third_party")  # Remi


async def test_a_reactivation(om: CaseHarness) -> None:
    today = (await om.env.get_current_time()).date()
    async with om.worker():
        waiting = await om.open_process(REACTIVATION, reactivation_input(
            payment_date=today.isoformat()), Reactivation)
        await waiting.stage("waiting_for_payment_to_clear")
        await _is(waiting, "schedule")
        case = await om.open_process(REACTIVATION, reactivation_input(), Reactivation)
        await case.stage("back_office_verification")
        await _is(case, "back_office")
        await case.send("payment_verified", approved=True)
        await _is(case, "o_and_m")


async def test_a_follow_up(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_process(FOLLOWUP, followup_input(), PartnerFollowUp)
        await case.stage("party_contacted")
        await _is(case, "third_party")
        await case.send("party_responded", comment="called")
        await _is(case, "homeowner")
        await case.send("homeowner_not_satisfied", comment="no")
        await _is(case, "third_party")
        await case.fire_next_timer()
        await case.stage("referred_to_sales")
        await _is(case, "sales")


async def test_an_inquiry_closes_waiting_on_nobody(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_process(INQUIRY, inquiry_input(inquiry="monitoring_access",
                                                            m3_approved=False), InquiryCase)
        await case.result()
        await _is(case, "none")


async def test_the_details_say_who_and_since_when(om: CaseHarness) -> None:
    from tests.workflows.test_ui_text import _details

    async with om.worker():
        case = await om.open_claim(claim_input())
        st = await case.stage("investigation")
        await case.settle(lambda s: s.waiting_on is not None)
        details = await _details(case)
        assert "**on:**" in details and "**stage since:**" in details
        assert st.stage_history[-1].entered_at.isoformat(timespec="minutes") in details
