"""Every path of the manual O&M track (spec 3.3), driven through events and time."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.rr import RrProject
from starter.client import EventRejected, run_ops
from tests.clock import HOME_ZONE
from tests.workflows.harness import CaseHarness, OmDriver, om_input, stages

# Eligible for nothing but the manual track: the acquisition channel excludes it.
MANUAL: dict[str, Any] = {"acquisition_channel": "new_homes"}


async def _partner_case(om: CaseHarness, **kw: Any) -> OmDriver:
    case = await om.open(om_input(installer="partner", **{**MANUAL, **kw}))
    await case.stage("dispatched_to_partner")
    return case


async def _company_case(om: CaseHarness, **kw: Any) -> OmDriver:
    case = await om.open(om_input(**{**MANUAL, **kw}))
    await case.stage("findings_review")
    return case


async def _to_liability(om: CaseHarness) -> OmDriver:
    case = await _company_case(om)
    await case.send("findings_submitted", summary="hail damage on two modules",
                    at_fault_party="weather")
    await case.stage("liability_determination")
    return case


async def test_manual_case_starts_with_a_case_manager(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        st = await case.status()
        assert st.process == "om_manual"
        assert st.eligibility is not None and st.eligibility.track == "manual"
        assert st.eligibility.reasons == ["acquisition channel not eligible: new_homes"]
        first = case.records("assignment")[0]
        assert first.payload["assignee"] == "case_manager"
        assert "new_homes" in first.payload["reason"]
        sa = await case.search_attributes()
        assert sa["ProcessType"] == "om_manual" and sa["CaseStage"] == "findings_review"
        desc = await case.handle.describe()
        assert desc.workflow_type == "OmManualWorkflow"


async def test_company_branch_creates_the_work_order(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        st = await case.status()
        assert st.branch == "company"
        assert stages(st) == ["installer_routing", "dispatched_to_branch", "findings_review"]
        assert case.keys("work_order") == ["manual/work-order"]
        assert case.records("dispatch") == []


async def test_partner_that_does_not_accept_service_work_goes_to_the_branch(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(installer="partner",
                                      installer_accepting_service_work=False))
        st = await case.stage("findings_review")
        assert st.branch == "company" and "dispatched_to_partner" not in stages(st)
        assert st.eligibility is not None
        assert st.eligibility.reasons == [
            "installer not accepting service work (the install partner)"]


async def test_partner_accepts(om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_case(om)
        st = await case.status()
        assert st.waiting_for == "partner's decision"
        assert case.keys("dispatch") == ["manual/partner-dispatch"]
        assert (await case.search_attributes())["CaseStage"] == "dispatched_to_partner"
        st = await case.send("partner_decision", accepted=True)
        assert st.stage == "findings_review" and st.branch == "partner"
        assert case.records("work_order") == []


async def test_partner_declines_falls_back_to_the_branch(om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_case(om)
        st = await case.send("partner_decision", accepted=False)
        assert st.stage == "findings_review" and st.branch == "company"
        assert stages(st)[-3:] == ["dispatched_to_partner", "dispatched_to_branch",
                                   "findings_review"]
        assert case.keys("work_order") == ["manual/work-order"]


async def test_partner_silent_for_3_business_days_falls_back(om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_case(om)
        st = await case.status()
        assert st.next_deadline is not None
        started = st.stage_history[-1].entered_at.astimezone(ZoneInfo(HOME_ZONE))
        deadline = st.next_deadline.astimezone(ZoneInfo(HOME_ZONE))
        # Due at the end (local midnight) of the 3rd business day after dispatch.
        assert deadline.time() == time(0)
        between = [started.date() + timedelta(days=d)
                   for d in range(1, (deadline.date() - started.date()).days)]
        assert sum(1 for d in between if d.weekday() < 5) == 3
        assert between[-1].weekday() < 5
        st = await case.fire_next_timer()
        st = await case.stage("findings_review")
        assert st.attempts["partner_timeouts"] == 1 and st.branch == "company"
        assert case.keys("work_order") == ["manual/work-order"]


async def test_partner_decision_outside_its_stage_is_rejected(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        with pytest.raises(EventRejected, match="partner_decision does not fit stage "
                                                "'findings_review'"):
            await case.send("partner_decision", accepted=True)
        assert (await case.status()).rejected_events == []  # an Update leaves no trace


async def test_findings_then_deny_closes_denied(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_liability(om)
        st = await case.status()
        assert st.findings_summary == "hail damage on two modules"
        st = await case.send("liability_determined", liable_party="homeowner",
                             decision="deny")
        assert st.outcome == "denied"
        assert case.keys("text") == ["manual/liability-notice/1"]
        assert case.notices()[-1].payload["template"] == "liability_deny"
        assert stages(await case.result())[-3:] == ["liability_determination", "resolution",
                                                   "closed"]
        assert (await case.search_attributes())["CaseOutcome"] == "denied"


async def test_repair_waits_for_completion(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_liability(om)
        st = await case.send("liability_determined", liable_party="company",
                             decision="repair")
        assert st.stage == "resolution" and st.waiting_for == "repair"
        st = await case.send("repair_completed")
        assert st.outcome == "repaired"


async def test_repair_needing_removal_waits_for_its_rr_project(om: CaseHarness) -> None:
    """Spec 2.3 / 3.3: the case waits in `project_in_progress` for the project it started and
    closes `repaired` when the project completes."""
    async with om.worker():
        case = await _to_liability(om)
        st = await case.send("liability_determined", liable_party="company",
                             decision="repair", rr_required=True)
        assert st.stage == "project_in_progress" and st.outcome is None
        full = await case.status()
        assert full.project_id is not None and full.project_id.startswith(
            f"rr-{full.system_id}-om")
        project = om.driver(full.project_id, RrProject)
        pst = await project.stage("removal")
        assert pst.variant == "damage" and pst.parent_claim_id == case.case_id
        for step in ("removal_completed", "roofing_completed", "reinstall_completed"):
            await project.send(step)
        assert (await case.result()).outcome == "repaired"


async def test_a_cancelled_project_sends_the_case_back_to_liability(om: CaseHarness) -> None:
    """Defect: the O&M case had closed `project_created`; a cancelled project then left the
    repair undone with nobody told."""
    async with om.worker():
        case = await _to_liability(om)
        st = await case.send("liability_determined", liable_party="company",
                             decision="repair", rr_required=True)
        project = om.driver(st.project_id or "", RrProject)
        await project.stage("removal")
        await project.handle.cancel()
        st = await case.until(lambda s: s.stage == "liability_determination")
        assert st.outcome is None and await case.run_status() == "RUNNING"
        assert any("was cancelled" in r.payload["reason"] for r in case.records("assignment"))


async def test_settlement_accepted(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_liability(om)
        st = await case.send("liability_determined", liable_party="company",
                             decision="settle")
        assert st.waiting_for == "settlement answer"
        st = await case.send("settlement_accepted")
        assert st.outcome == "settled"


async def test_settlement_declined_goes_back_to_liability(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_liability(om)
        await case.send("liability_determined", liable_party="company", decision="settle")
        st = await case.send("settlement_declined")
        assert st.stage == "liability_determination"
        st = await case.send("liability_determined", liable_party="company",
                             decision="repair")
        st = await case.send("repair_completed")
        assert st.outcome == "repaired" and st.attempts["liability_decisions"] == 2
        assert case.keys("text") == ["manual/liability-notice/1",
                                     "manual/liability-notice/2"]


async def test_weekly_reminders_to_the_case_manager(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        st = await case.status()
        now = await case.env.get_current_time()
        assert st.next_deadline is not None
        assert abs((st.next_deadline - now) - timedelta(days=7)) < timedelta(minutes=1)
        await case.fire_next_timer()
        await case.fire_next_timer()
        await case.settle(lambda s: len([k for k in case.keys("assignment")
                                         if "reminder" in k]) == 2)
        assert [k for k in case.keys("assignment") if "reminder" in k] == [
            "manual/findings-reminder/1", "manual/findings-reminder/2"]
        st = await case.send("findings_submitted", summary="loose connector")
        assert st.stage == "liability_determination"
        await case.fire_next_timer()
        await case.settle(lambda s: "manual/liability-reminder/1" in case.keys("assignment"))


async def test_ops_escalate_on_the_manual_track_goes_to_ses_support(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        answer = await run_ops(om.client, case.case_id, "escalate",
                               {"reason": "homeowner called three times", "actor": "ops-1"})
        assert answer.escalated and answer.stage == "findings_review"
        st = await case.status()
        assert st.ops[-1].command == "escalate" and st.ops[-1].actor == "ops-1"
        assert case.records("assignment")[-1].payload["assignee"] == "ses_support"
        assert (await case.search_attributes())["Escalated"] is True


async def test_hazardous_manual_case_gets_a_priority_dispatch(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om, case_reason="hazardous_situation")
        st = await case.status()
        assert st.hazardous
        assert case.keys("dispatch") == ["priority-dispatch"]
        assert case.records("assignment")[0].payload["priority"] == "p1"
        assert (await case.search_attributes())["Hazardous"] is True


async def test_text_opt_out_is_kept_on_the_manual_track(om: CaseHarness) -> None:
    async with om.worker():
        case = await _company_case(om)
        st = await case.send("text_opt_out")
        assert st.visit.text_opted_out and st.stage == "findings_review"


async def test_a_long_wait_continues_as_new_and_resumes_where_it_was(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(**MANUAL, policy={"continue_as_new_after_events": 40}))
        await case.stage("findings_review")
        st = await case.until(lambda s: s.runs == 2 and s.waiting_for is not None,
                              max_timers=12)
        assert st.process == "om_manual" and st.stage == "findings_review"
        assert st.outcome is None and not st.escalated
        count = st.reminders["findings"].count
        assert count >= 1 and st.reminders["findings"].next_due is not None
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "findings_review" and "CaseOutcome" not in sa
        await case.fire_next_timer()
        st = await case.settle(lambda s: s.reminders["findings"].count == count + 1)
        keys = [k for k in case.keys("assignment") if "findings-reminder" in k]
        assert keys == [f"manual/findings-reminder/{n}" for n in range(1, count + 2)]
        assert case.keys("assignment").count("manual/case-manager") == 1  # not assigned again
        await case.send("findings_submitted", summary="loose connector")
        await case.send("liability_determined", liable_party="company", decision="repair")
        await case.send("repair_completed")
        assert (await case.result()).outcome == "repaired"
