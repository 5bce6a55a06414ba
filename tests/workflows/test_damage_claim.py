"""`DamageClaimWorkflow` on the time-skipping server (spec 3.4, 2.1): every branch of the
roof-leak intake tree, hazard first, the investigation visit (the shared visit part) with and
without a follow-up, each at-fault result, each liability decision, settlement, and the R&R
child that outlives the claim."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.damage import DamageClaim
from domain.om import OmCase
from domain.rr import RrProject
from starter.client import EventRejected, InvalidEvent, run_ops
from tests.workflows.harness import CaseDriver, CaseHarness, claim_input, stages

ClaimDriver = CaseDriver[DamageClaim]
EXPIRED = [{"kind": "roof_penetration", "active_until": "2026-11-19"}]
HAZARD = {"burning_smell": True}


def templates(case: ClaimDriver, kind: str) -> list[str]:
    """The templates of the homeowner messages of one channel, in order."""
    return [r.payload["template"] for r in case.records(kind)]


async def _investigating(om: CaseHarness, **changes: Any) -> ClaimDriver:
    case = await om.open_claim(claim_input(**changes))
    await case.stage("investigation")
    return case


async def _assessed(om: CaseHarness, at_fault: str) -> ClaimDriver:
    case = await _investigating(om)
    await case.book()
    await case.send("field_assessment", follow_up_required=False, at_fault=at_fault)
    return case


async def _at_liability(om: CaseHarness) -> ClaimDriver:
    case = await _assessed(om, "company")
    await case.stage("liability_determination")
    return case


# ---- intake: the roof-leak tree, one test per branch -----------------------------------------


async def test_company_installed_under_warranty_creates_the_claim(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        st = await case.status()
        assert stages(st)[:3] == ["intake", "claim_created", "investigation"]
        assert st.intake is not None and st.intake.under_warranty is True
        assert st.intake.recommendation == "company"
        assert case.keys("claim") == ["claim/record"]
        assert [r.payload["assignee"] for r in case.records("assignment")] == ["case_manager"]
        sa = await case.search_attributes()
        assert sa["ProcessType"] == "damage_claim" and sa["CaseStage"] == "investigation"


async def test_company_installed_out_of_warranty_is_denied_with_the_reason(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_claim(claim_input(entitlements=EXPIRED))
        st = await case.result()
        assert st.outcome == "denied" and stages(st) == ["intake", "closed"]
        assert case.records("claim") == []
        notice = case.notices()[0].payload
        assert case.notices()[0].kind == "text"  # phone only: a text, inside contact hours
        assert notice["template"] == "claim_denied"
        assert "no workmanship or roof-penetration warranty active on 2026-11-20" in \
            notice["params"]["reason"]
        assert (await case.search_attributes())["CaseOutcome"] == "denied"


async def _partner_dispatched(om: CaseHarness, **changes: Any) -> ClaimDriver:
    case = await om.open_claim(claim_input(installer="partner", entitlements=[],
                                           installer_accepting_service_work=True, **changes))
    st = await case.stage("dispatched_to_partner")
    assert st.intake is not None and st.intake.recommendation == "partner"
    assert st.waiting_for == "the partner's decision" and st.next_deadline is not None
    assert case.keys("dispatch") == ["claim/partner-dispatch"]
    return case


async def _partner_accepted(om: CaseHarness) -> ClaimDriver:
    case = await _partner_dispatched(om)
    st = await case.send("partner_decision", accepted=True)
    assert st.stage == "partner_in_progress" and st.partner_accepted is True
    assert st.waiting_for == "the partner's findings"
    return case


async def test_a_partner_finding_the_company_at_fault_goes_to_liability(om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_accepted(om)
        st = await case.send("partner_findings", at_fault="company")
        assert st.stage == "liability_determination" and st.at_fault == "company"
        assert st.partner_at_fault == "company"


async def test_a_partner_finding_itself_at_fault_repairs(om: CaseHarness) -> None:
    """Defect: a partner that found itself at fault made the claim `denied`, and the homeowner
    was told the company was not at fault. Now the partner repairs, the homeowner is told so."""
    async with om.worker():
        case = await _partner_accepted(om)
        st = await case.send("partner_findings", at_fault="partner")
        assert st.stage == "partner_repair" and st.outcome is None
        assert st.waiting_for == "the partner's repair"
        st = await case.settle(lambda s: bool(case.notices()))
        assert [n.payload["template"] for n in case.notices()] == ["claim_partner_repair"]
        assert (await case.search_attributes())["CaseStage"] == "partner_repair"
        st = await case.send("repair_completed")
        assert st.outcome == "repaired"
        assert (await case.search_attributes())["CaseOutcome"] == "repaired"


async def test_a_partner_finding_nobody_at_fault_denies_with_that_reason(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_accepted(om)
        st = await case.send("partner_findings", at_fault="none")
        assert st.outcome == "denied"
        reason = case.notices()[-1].payload["params"]["reason"]
        assert reason == "the damage was not caused by the installation"


async def test_a_partner_decline_sends_the_claim_to_the_company_investigation(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _partner_dispatched(om)
        st = await case.send("partner_decision", accepted=False)
        assert st.stage == "investigation" and st.partner_accepted is False
        assert st.attempts["partner_declines"] == 1
        st = await case.settle(lambda s: s.attempts.get("texts", 0) == 1)
        assert templates(case, "text") == ["self_scheduling_link"]


async def test_a_silent_partner_falls_back_after_three_business_days(om: CaseHarness) -> None:
    """The production holiday calendar, the homeowner's zone: the deadline is the end of the
    third business day after the dispatch."""
    from domain.rules.business_days import add_business_days, us_federal_holidays

    async with om.worker():
        case = await _partner_dispatched(om)
        st = await case.status()
        assert st.holidays  # resolved by the activity (no list in the policy)
        tz = ZoneInfo(st.time_zone or "UTC")
        dispatched = st.stage_history[-1].entered_at.astimezone(tz)
        holidays = us_federal_holidays(range(dispatched.year, dispatched.year + 2))
        last = add_business_days(dispatched.date(), 3, holidays)
        assert st.next_deadline is not None
        assert st.next_deadline.astimezone(tz) == datetime.combine(
            last + timedelta(days=1), time(0), tzinfo=tz)
        st = await case.fire_next_timer()
        st = await case.stage("investigation")
        assert st.attempts["partner_timeouts"] == 1 and st.partner_accepted is False
        assert "no answer from the partner in 3 business days" in (st.partner_fallback or "")


async def test_partner_not_accepting_with_the_company_as_warrantor_creates_the_claim(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om, installer="partner", entitlements=[],
                                    company_is_warrantor=True)
        st = await case.status()
        assert st.intake is not None and "company is the warrantor" in st.intake.reason
        assert case.keys("claim") == ["claim/record"] and case.records("dispatch") == []


async def test_partner_not_accepting_without_a_warrantor_is_denied(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_claim(claim_input(installer="partner", entitlements=[]))
        st = await case.result()
        assert st.outcome == "denied"
        assert "not the warrantor" in case.notices()[0].payload["params"]["reason"]


async def test_damage_that_is_not_a_roof_leak_needs_the_workmanship_warranty(
        om: CaseHarness) -> None:
    """Seed 000 asks "Under warranty?" of all property damage: the workmanship warranty (the
    roof-penetration one is for leaks)."""
    async with om.worker():
        case = await om.open_claim(claim_input(roof_leak=False))
        st = await case.result()
        assert st.outcome == "denied" and st.intake is not None
        assert st.intake.under_warranty is False
        assert "no workmanship warranty" in case.notices()[0].payload["params"]["reason"]
        covered = await _investigating(om, system_id=f"{st.system_id}-B", roof_leak=False,
                                       entitlements=[{"kind": "workmanship",
                                                      "active_until": "2030-01-01"}])
        st = await covered.status()
        assert st.intake is not None and st.intake.under_warranty is True


# ---- hazard first ------------------------------------------------------------------------------


async def test_a_hazardous_claim_hands_the_hazard_to_the_om_case_before_anything_else(
        om: CaseHarness) -> None:
    """Spec 2.3: the system's O&M case owns the safety notice and the P1 dispatch; the claim
    shows that case, sends neither, and goes on with its intake (calls, not texts)."""
    async with om.worker():
        case = await _investigating(om, hazard=HAZARD)
        st = await case.status()
        assert st.hazard_case_id == f"om-{st.system_id}" and st.hazard_handled
        assert st.hazardous and (await case.search_attributes())["Hazardous"] is True
        assert [r.kind for r in case.records()][:2] == ["claim", "assignment"]
        assert case.records("dispatch") == [] and case.notices("safety_notice") == []
        owner = om.driver(st.hazard_case_id, OmCase)
        o = await owner.settle(lambda s: bool(s.crm_records))
        assert o.hazardous and o.hazard_referrals == [case.case_id]
        assert o.process == "om_manual"  # the agreement is not a claim's fact
        assert [r.payload["template"] for r in owner.notices()][:1] == ["safety_notice"]
        assert owner.records("dispatch")[0].payload["priority"] == "P1"
        # No self-scheduling texts on a hazardous claim: calls, the first at once.
        st = await case.settle(lambda s: s.attempts.get("calls", 0) == 1)
        assert templates(case, "text") == []


async def test_a_hazardous_claim_denied_at_intake_leaves_the_p1_dispatch_open(
        om: CaseHarness) -> None:
    """Defect: the claim closed `denied` and closed the P1 dispatch it had just created with
    it; now the dispatch is the O&M case's, open until that case closes."""
    async with om.worker():
        case = await om.open_claim(claim_input(hazard=HAZARD, entitlements=[]))
        st = await case.until(lambda s: s.outcome is not None)
        assert st.outcome == "denied" and st.hazard_case_id
        closed = [r.payload for r in case.records("crm_close")]
        owner = om.driver(st.hazard_case_id, OmCase)
        o = await owner.settle(lambda s: bool(s.crm_records))
        dispatch = owner.records("dispatch")[0]
        assert all(dispatch.record_id not in c["record_ids"] for c in closed)
        assert owner.records("crm_close") == [] and o.outcome is None
        assert await owner.run_status() == "RUNNING"


async def test_hazardous_claim_nobody_reaches_is_escalated_never_failed(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om, hazard=HAZARD)
        st = await case.until(lambda s: s.stage == "liability_determination")
        assert st.escalated and st.investigation_result == "unreachable"
        assert st.attempts["calls"] == 3
        urgent = [r.payload for r in case.records("assignment") if r.payload["priority"] == "p1"]
        assert any("investigation not booked" in p["reason"] for p in urgent)
        assert await case.run_status() == "RUNNING"


# ---- the investigation (the shared visit part) --------------------------------------------------


async def test_investigation_texts_then_assessment_without_follow_up(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        st = await case.settle(lambda s: s.attempts.get("texts", 0) == 1)
        assert st.stage == "investigation" and templates(case, "text") == ["self_scheduling_link"]
        st = await case.book()
        assert st.stage == "investigation" and st.visit.appointment is not None
        st = await case.send("field_assessment", follow_up_required=False, at_fault="company")
        assert st.stage == "liability_determination" and st.at_fault == "company"
        assert st.attempts["investigation_visits"] == 1 and "follow_up_visits" not in st.attempts
        assert "pending_appt_findings" not in stages(st)  # the claim's own stage names


async def test_investigation_with_a_follow_up_appointment(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        await case.book("APT-1")
        st = await case.send("field_assessment", follow_up_required=True, at_fault="company")
        assert st.stage == "investigation" and st.visit.visit_no == 2
        assert st.attempts["follow_up_visits"] == 1
        await case.settle(lambda s: s.attempts.get("texts", 0) >= 1)
        assert case.keys("text") == ["visit1/text/1", "visit2/text/1"]
        await case.book("APT-2")
        st = await case.send("field_assessment", follow_up_required=False,
                             at_fault="not_company")
        assert st.outcome == "denied"


async def test_assessment_outcome_reminders_go_to_the_case_manager(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        await case.book()
        st = await case.until(lambda s: any("outcome-reminder" in k
                                            for k in case.keys("assignment")))
        assert st.stage == "investigation"
        assert st.waiting_for == "appointment outcome from the field tech"


@pytest.mark.parametrize("at_fault", ["company", "not_company", "undetermined"])
async def test_each_at_fault_result(om: CaseHarness, at_fault: str) -> None:
    async with om.worker():
        case = await _assessed(om, at_fault)
        st = await case.settle(lambda s: s.at_fault is not None and s.waiting_for is not None
                               or s.outcome is not None)
        assert st.at_fault == at_fault
        if at_fault == "not_company":
            assert st.outcome == "denied"
            assert "not at fault" in case.notices()[-1].payload["params"]["reason"]
            return
        assert st.stage == "liability_determination"
        asked = case.records("assignment")[-1].payload
        assert asked["assignee"] == "case_manager"
        assert asked["priority"] == ("high" if at_fault == "undetermined" else "normal")


# ---- liability and resolution ------------------------------------------------------------------


async def test_liability_deny_closes_denied_and_tells_the_homeowner(om: CaseHarness) -> None:
    async with om.worker():
        case = await _at_liability(om)
        st = await case.send("liability_determined", liable_party="roofer", decision="deny")
        assert st.outcome == "denied" and st.liability is not None
        assert case.notices()[-1].payload["template"] == "liability_deny"


@pytest.mark.parametrize(("repair_by", "kind"), [("internal_work", "work_order"),
                                                  ("service_partner", "dispatch")])
async def test_liability_repair_then_repair_completed(om: CaseHarness, repair_by: str,
                                                      kind: str) -> None:
    async with om.worker():
        case = await _at_liability(om)
        st = await case.send("liability_determined", liable_party="company", decision="repair",
                             repair_by=repair_by)
        assert st.stage == "resolution" and st.waiting_for == "repair"
        assert case.keys(kind) == ["claim/repair/1"]
        st = await case.send("repair_completed")
        assert st.outcome == "repaired"
        closed = case.records("crm_close")[0].payload
        assert closed["outcome"] == "repaired" and len(closed["record_ids"]) == 2


async def test_settlement_accepted(om: CaseHarness) -> None:
    async with om.worker():
        case = await _at_liability(om)
        st = await case.send("liability_determined", liable_party="company", decision="settle")
        assert st.stage == "settlement_quoting"
        st = await case.send("settlement_accepted")
        assert st.outcome == "settled"


async def test_settlement_declined_goes_back_to_liability(om: CaseHarness) -> None:
    async with om.worker():
        case = await _at_liability(om)
        await case.send("liability_determined", liable_party="company", decision="settle")
        st = await case.send("settlement_declined")
        assert st.stage == "liability_determination" and st.attempts["settlements_declined"] == 1
        st = await case.send("liability_determined", liable_party="company", decision="repair")
        assert st.stage == "resolution"
        assert case.keys("text")[-2:] == ["claim/liability-notice/1",
                                          "claim/liability-notice/2"]


@pytest.mark.parametrize(("decision", "changes", "conflict"), [
    ("deny", {"rr_required": True}, "rr_required is allowed only with a repair"),
    ("settle", {"rr_required": True}, "rr_required is allowed only with a repair"),
    ("deny", {"repair_by": "internal_work"}, "repair_by is allowed only with a repair"),
    ("settle", {"repair_by": "service_partner"}, "repair_by is allowed only with a repair"),
    ("repair", {"rr_required": True, "repair_by": "service_partner"},
     "with rr_required the R&R project does the repairs"),
])
async def test_an_inconsistent_liability_decision_is_refused_naming_the_conflict(
        om: CaseHarness, decision: str, changes: dict[str, Any], conflict: str) -> None:
    """Defect: `deny` with `rr_required` was taken without comment, and `settle` with it
    gave no project."""
    async with om.worker():
        case = await _at_liability(om)
        with pytest.raises(InvalidEvent, match=conflict):
            await case.send("liability_determined", liable_party="company", decision=decision,
                            **changes)
        st = await case.status()
        assert st.stage == "liability_determination" and st.liability is None
        assert st.outcome is None
        assert not [n for n in case.notices() if n.payload["template"].startswith("liability")]


async def _repair_and_settle(om: CaseHarness) -> ClaimDriver:
    case = await _at_liability(om)
    st = await case.send("liability_determined", liable_party="company",
                         decision="repair_and_settle", repair_by="service_partner")
    assert st.stage == "resolution" and st.settlement == "offered"
    assert case.keys("dispatch") == ["claim/repair/1"]
    await case.settle(lambda s: bool(case.notices()))
    assert case.notices()[-1].payload["template"] == "liability_repair_and_settle"
    return case


async def test_repair_and_settle_accepted_during_the_repair_closes_when_both_are_done(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _repair_and_settle(om)
        st = await case.send("settlement_accepted")
        assert st.stage == "resolution" and st.settlement == "accepted" and st.outcome is None
        st = await case.send("repair_completed")
        assert st.outcome == "repaired_and_settled"
        assert (await case.search_attributes())["CaseOutcome"] == "repaired_and_settled"


async def test_repair_and_settle_waits_for_the_answer_after_the_repair(om: CaseHarness) -> None:
    async with om.worker():
        case = await _repair_and_settle(om)
        st = await case.send("repair_completed")
        assert st.stage == "settlement_quoting" and st.repair_done and st.outcome is None
        assert st.waiting_for == "settlement answer"
        st = await case.send("settlement_declined")
        assert st.outcome == "settlement_declined"


async def test_repair_and_settle_declined_during_the_repair_tells_the_case_manager(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _repair_and_settle(om)
        st = await case.send("settlement_declined")
        assert st.stage == "resolution" and st.settlement == "declined"
        assert "declined the settlement" in case.records("assignment")[-1].payload["reason"]
        with pytest.raises(EventRejected, match="no settlement offer is waiting"):
            await case.send("settlement_accepted")
        st = await case.send("repair_completed")
        assert st.outcome == "settlement_declined"


async def test_a_settlement_answer_without_an_offer_is_refused(om: CaseHarness) -> None:
    async with om.worker():
        case = await _at_liability(om)
        await case.send("liability_determined", liable_party="company", decision="repair")
        with pytest.raises(EventRejected, match="no settlement offer is waiting"):
            await case.send("settlement_accepted")
        st = await case.status()
        assert st.stage == "resolution" and st.settlement is None and st.outcome is None


async def test_repair_and_settle_with_rr_waits_for_the_project_and_the_answer(
        om: CaseHarness) -> None:
    """A settled claim that needs the system removed gets its project (it used to get none)."""
    async with om.worker():
        case = await _at_liability(om)
        st = await case.send("liability_determined", liable_party="company",
                             decision="repair_and_settle", rr_required=True)
        assert st.stage == "project_in_progress" and st.settlement == "offered"
        project = om.driver(f"rr-{st.system_id}-CLM-1", RrProject)
        await project.stage("removal")
        st = await case.send("settlement_accepted")
        assert st.stage == "project_in_progress" and st.settlement == "accepted"
        for step in ("removal_completed", "roofing_completed", "reinstall_completed"):
            await project.send(step)
        st = await case.until(lambda s: s.outcome is not None)
        assert st.outcome == "repaired_and_settled"


async def _project_started(om: CaseHarness) -> tuple[ClaimDriver, CaseDriver[RrProject]]:
    case = await _at_liability(om)
    st = await case.send("liability_determined", liable_party="company", decision="repair",
                         rr_required=True)
    project_id = f"rr-{st.system_id}-CLM-1"
    assert st.stage == "project_in_progress" and st.project_id == project_id
    assert st.outcome is None and not st.project_repairs_added
    project = om.driver(project_id, RrProject)
    pst = await project.stage("removal")
    assert pst.variant == "damage" and pst.management == "company"
    assert pst.parent_claim_id == case.case_id
    sa = await project.search_attributes()
    assert sa["ProcessType"] == "removal_reinstall" and sa["SystemId"] == st.system_id
    return case, project


async def test_rr_required_starts_the_project_and_the_claim_waits_for_it(
        om: CaseHarness) -> None:
    """Spec 2.3: the claim stays open in `project_in_progress` until the project ends, then
    closes `repaired` (it used to close `project_created` at once)."""
    async with om.worker():
        case, project = await _project_started(om)
        assert await case.run_status() == "RUNNING"
        assert (await case.search_attributes())["CaseStage"] == "project_in_progress"
        for step in ("removal_completed", "roofing_completed", "reinstall_completed"):
            assert (await case.status()).stage == "project_in_progress"
            await project.send(step)
        assert (await project.result()).outcome == "completed"
        st = await case.result()
        assert st.outcome == "repaired"
        assert (await case.search_attributes())["CaseOutcome"] == "repaired"
        assert st.events[-1].name == "project_ended"


@pytest.mark.parametrize("how", ["cancel_case", "temporal_cancel"])
async def test_a_cancelled_project_sends_the_claim_back_to_liability(
        om: CaseHarness, how: str) -> None:
    """Defect: a cancelled project left accepted liability with nobody told. Now the claim
    goes back to liability with the case manager assigned, and can decide again."""
    async with om.worker():
        case, project = await _project_started(om)
        if how == "cancel_case":
            await run_ops(om.client, project.case_id, "cancel_case", {"reason": "homeowner moved"})
        else:
            await project.handle.cancel()
        assert (await project.result()).outcome == "cancelled"
        st = await case.until(lambda s: s.stage == "liability_determination")
        assert st.outcome is None and st.project_id is None
        told = [r.payload["reason"] for r in case.records("assignment")]
        assert any(f"{project.case_id} was cancelled" in r for r in told)
        st = await case.send("liability_determined", liable_party="company", decision="settle")
        assert st.stage == "settlement_quoting"


async def test_liability_wait_reminds_the_case_manager_weekly(om: CaseHarness) -> None:
    async with om.worker():
        case = await _at_liability(om)
        for _ in range(3):
            await case.fire_next_timer()
        reminders = [k for k in case.keys("assignment") if "liability-reminder" in k]
        assert reminders == ["claim/liability-reminder/1", "claim/liability-reminder/2",
                             "claim/liability-reminder/3"]


# ---- spec 2.1 ----------------------------------------------------------------------------------


async def test_no_phone_goes_to_the_case_manager_never_failed(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open_claim(claim_input(homeowner={"name": "Ana Ruiz",
                                                          "email": "ana@example.com"}))
        st = await case.stage("liability_determination")
        assert st.investigation_result == "no_usable_contact" and st.escalated
        assert (await case.search_attributes())["Escalated"] is True
        assert st.failures and "no usable phone" in st.failures[0].reason
        assert await case.run_status() == "RUNNING"


async def test_a_routine_claim_nobody_books_goes_to_the_case_manager(om: CaseHarness) -> None:
    """Texts, then calls, nobody answers (a phone-only homeowner, real contact hours): the
    claim is never closed `unreachable_pg_void` (an O&M outcome, forbidden for claims), it goes
    to the case manager to decide liability, not escalated, and stays open."""
    async with om.worker():
        case = await _investigating(om)
        st = await case.until(lambda s: s.stage == "liability_determination", max_timers=60)
        assert st.outcome is None and st.investigation_result == "unreachable"
        assert st.attempts["texts"] == 3 and st.attempts["calls"] == 3
        assert not st.escalated
        asked = [r.payload for r in case.records("assignment")
                 if "investigation not booked" in r.payload["reason"]]
        assert len(asked) == 1 and asked[0]["assignee"] == "case_manager"
        assert asked[0]["priority"] == "high"
        assert await case.run_status() == "RUNNING"
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "liability_determination" and "CaseOutcome" not in sa
        st = await case.send("liability_determined", liable_party="company", decision="deny")
        assert st.outcome == "denied"


async def test_a_project_id_in_a_start_the_project_did_not_make_is_ignored(
        om: CaseHarness) -> None:
    """Only the R&R project may say the damage is its own work: a claim started by anyone
    else with `project_id` goes through the intake tree (here: out of warranty, denied)."""
    async with om.worker():
        case = await om.open_claim(claim_input(entitlements=EXPIRED,
                                               project_id="rr-SYS-1-P1"))
        st = await case.result()
        assert st.outcome == "denied" and st.source_project_id is None
        assert st.intake is not None and "R&R" not in st.intake.reason


async def test_temporal_cancel_closes_the_claim(om: CaseHarness) -> None:
    """A cancel from the Web UI or the Temporal CLI: the ops record names who asked and why
    (issue 20: it recorded `"actor": null` and a fixed text)."""
    async with om.worker():
        case = await _investigating(om)
        await case.handle.cancel(reason="duplicate of CLM-9, per the homeowner")
        st = await case.result()
        assert st.outcome == "cancelled"
        [cancel] = [o for o in st.ops if o.command == "cancel_case"]
        assert cancel.text == ("cancellation requested in Temporal: duplicate of CLM-9, per "
                               "the homeowner")
        assert cancel.actor and cancel.actor == om.client.identity
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "closed" and sa["CaseOutcome"] == "cancelled"
        assert "NextDeadline" not in sa


async def test_texts_wait_for_contact_hours(om: CaseHarness) -> None:
    from tests.workflows.harness import zone_where_local_hour_is

    now = await om.env.get_current_time()
    night = zone_where_local_hour_is(22, now)
    async with om.worker():
        case = await om.open_claim(claim_input(
            homeowner={"name": "Ana Ruiz", "phone": "+14155550100", "time_zone": night},
            policy={"contact_hours": {"start": "08:00", "end": "20:00"}}))
        st = await case.stage("investigation")
        assert st.waiting_for == "contact hours for text 1" and case.records("text") == []
        assert st.next_deadline is not None and st.next_deadline - now > timedelta(hours=9)


# ---- bad input ---------------------------------------------------------------------------------


async def test_duplicate_malformed_and_out_of_stage_events(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        await case.book()
        with pytest.raises(InvalidEvent, match="field_assessment: at_fault"):
            await case.send("field_assessment", at_fault="maybe")
        with pytest.raises(EventRejected, match="does not fit stage 'investigation'"):
            await case.send("settlement_accepted")
        with pytest.raises(InvalidEvent, match="unknown event 'remote_fix_result'"):
            await case.send("remote_fix_result", resolved=True)
        first = await case.send("field_assessment", event_id="fa-1", at_fault="undetermined")
        again = await case.send("field_assessment", event_id="fa-1", at_fault="not_company")
        assert again.at_fault == "undetermined" and again.outcome is None
        assert first.stage == again.stage == "liability_determination"
        await case.signal("liability_determined", liable_party="x", decision="maybe")
        st = await case.settle(lambda s: s.rejected_total == 1)
        assert "decision" in st.rejected_events[0].reason and st.outcome is None


async def test_ops_on_a_claim(om: CaseHarness) -> None:
    async with om.worker():
        case = await _investigating(om)
        await run_ops(om.client, case.case_id, "add_note", {"text": "called the roofer"})
        answer = await run_ops(om.client, case.case_id, "escalate", {"reason": "VIP"})
        assert answer.escalated and answer.stage == "investigation"
        assert case.records("assignment")[-1].payload["priority"] == "high"
        answer = await run_ops(om.client, case.case_id, "cancel_case", {"reason": "duplicate"})
        assert answer.outcome == "cancelled"
        st = await case.status()
        assert [o.command for o in st.ops] == ["add_note", "escalate", "cancel_case"]
        with pytest.raises(EventRejected, match="closed"):
            await case.send("field_assessment", at_fault="company")
