"""The recorded case paths whose histories the replay test replays. Each is one whole path of
a workflow, as long as the process allows, so a change that would break a running case at any
of its steps fails the replay.

The histories recorded on earlier code stand for cases that were running when the code
changed (they replay through `workflow.patched`): they are kept as recorded, never re-recorded.
The `night_*` and `*_v3` paths were recorded on the outbox's code (the case-base-v3 patch):
a phone-only homeowner, real contact hours and calendar, decisions and events at night."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time, timedelta
from typing import Any

from temporalio.client import WorkflowHistory

from domain.damage import DamageClaim
from domain.followup import PartnerFollowUp
from domain.inquiry import InquiryCase
from domain.om import OmCase, OmCaseInput
from domain.processes import FOLLOWUP, INQUIRY, REACTIVATION
from domain.reactivation import Reactivation
from domain.rr import RrProject
from starter.client import run_ops
from tests.clock import move_to
from tests.workflows.harness import (
    CaseDriver,
    CaseHarness,
    OmDriver,
    claim_input,
    followup_input,
    health_stand_in,
    inquiry_input,
    om_input,
    reactivation_input,
    rr_input,
)

Scenario = Callable[[CaseHarness], Awaitable[list[WorkflowHistory]]]
# Real contact hours in the homeowner's own zone: the contact-hours check over these histories
# (test_contact_hours.py) then means something.
HOMEOWNER = {"name": "Ana Ruiz", "phone": "+14155550100", "email": "ana@example.com",
             "address": "1 Main St, San Francisco, CA 94103", "time_zone": "America/Los_Angeles"}
POLICY = {"contact_hours": {"start": "08:00", "end": "20:00"}}


def _input(system_id: str, **changes: object) -> OmCaseInput:
    return om_input(system_id, homeowner=HOMEOWNER, policy=POLICY, **changes)


async def _book(case: OmDriver, appointment_id: str) -> None:
    await case.book(appointment_id)
    await case.stage("appointment_scheduled")


async def _histories(case: CaseDriver[Any]) -> list[WorkflowHistory]:
    """Every run of the case, oldest first (continue-as-new makes more than one)."""
    return await case.histories()


async def simplified_to_manual_to_repaired(om: CaseHarness) -> list[WorkflowHistory]:
    """The longest O&M path: remote fix unanswered, three texts, calls, a phone booking, an
    appointment with its reminders, a follow-up waiting for equipment (weekly ETA checks), an
    unhealthy validation, a second visit not completed, continue-as-new into the manual track,
    the partner silent for 3 business days, the branch, findings with a weekly reminder, a
    settlement declined, then a repair."""
    async with om.worker(health_stand_in(False)):
        case = await om.open(_input("SYS-REPLAY-LONG", installer="partner",
                                    description="inverter error 21"))
        await case.stage("problem_identified")
        await case.until(lambda s: s.attempts.get("calls") == 1)
        await case.send("text_opt_out")
        await case.send("call_attempt_result", reached=True, scheduled=True)
        await case.settle(lambda s: s.waiting_for == "appointment details after phone booking")
        await _book(case, "APT-1")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.fire_next_timer()  # outcome reminder
        await case.send("appointment_outcome", appointment_id="APT-1",
                        result="completed_follow_up_required", equipment_available=False)
        await case.fire_next_timer()  # weekly ETA check
        await case.send("equipment_available")
        await case.stage("outbound_calls", "self_scheduling_texts")
        await _book(case, "APT-2")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", appointment_id="APT-2", result="completed",
                        asset_update_needed=True)
        await case.until(lambda s: s.attempts.get("failed_appointments") == 1)
        await case.stage("outbound_calls", "self_scheduling_texts")
        await case.send("issue_reported", **_input(
            "SYS-REPLAY-LONG", installer="partner", description="still down").report()
            .model_dump(mode="json"))
        await _book(case, "APT-3")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", appointment_id="APT-3", result="not_completed")
        await case.stage("dispatched_to_partner")
        await case.fire_next_timer()  # 3 business days without the partner's answer
        await case.stage("findings_review")
        await case.fire_next_timer()  # weekly reminder
        await case.send("findings_submitted", summary="failed inverter board")
        await case.send("liability_determined", liable_party="company", decision="settle")
        await case.send("settlement_declined")
        await case.send("liability_determined", liable_party="company", decision="repair")
        await case.send("repair_completed")
        result = await case.result()
        assert result.outcome == "repaired", result.outcome
        return await _histories(case)


async def simplified_resolved(om: CaseHarness) -> list[WorkflowHistory]:
    """The simplified track's own end: texts, booking, visit, healthy validation, asset
    update, resolved; with a rejected signal and an ops note on the way."""
    async with om.worker(health_stand_in(True)):
        case = await om.open(_input("SYS-REPLAY-OK"))
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await case.until(lambda s: s.attempts.get("texts") == 1)
        await case.signal("appointment_outcome", appointment_id="APT-0", result="completed")
        await run_ops(om.client, case.case_id, "add_note", {"text": "homeowner works nights"})
        await _book(case, "APT-1")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed",
                        asset_update_needed=True)
        await case.until(lambda s: s.outcome is not None)
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


async def manual_hazardous_cancelled(om: CaseHarness) -> list[WorkflowHistory]:
    """A hazardous manual case: priority dispatch, partner accepts, ops escalate, cancel."""
    async with om.worker():
        case = await om.open(_input("SYS-REPLAY-HAZ", installer="partner",
                                    acquisition_channel="new_homes",
                                    case_reason="hazardous_situation"))
        await case.stage("dispatched_to_partner")
        await case.send("partner_decision", accepted=True)
        await run_ops(om.client, case.case_id, "escalate", {"reason": "homeowner called twice"})
        await run_ops(om.client, case.case_id, "cancel_case", {"reason": "duplicate case"})
        assert (await case.result()).outcome == "cancelled"
        return await _histories(case)


async def claim_investigated_settlement_declined_rr(om: CaseHarness) -> list[WorkflowHistory]:
    """A roof-leak claim: intake under warranty, investigation texts, a booked visit with its
    reminder, a follow-up visit booked by phone, the company at fault, a weekly liability
    reminder, a settlement declined, then R&R required: the project is started and the claim
    closes `project_created`."""
    async with om.worker():
        case = await om.open_claim(claim_input("SYS-REPLAY-CLAIM", homeowner=HOMEOWNER,
                                               policy=POLICY))
        await case.stage("investigation")
        await case.until(lambda s: s.attempts.get("texts") == 1)
        await case.book("APT-1")
        await case.until(lambda s: s.visit.reminders_sent == 1)
        await case.send("field_assessment", follow_up_required=True, at_fault="undetermined")
        await case.until(lambda s: s.attempts.get("calls") == 1, max_timers=80)
        await case.send("call_attempt_result", reached=True, scheduled=True)
        await case.book("APT-2")
        await case.send("field_assessment", follow_up_required=False, at_fault="company")
        await case.fire_next_timer()  # a weekly liability reminder
        await case.send("liability_determined", liable_party="company", decision="settle")
        await case.send("settlement_declined")
        await case.send("liability_determined", liable_party="company", decision="repair",
                        rr_required=True)
        assert (await case.result()).outcome == "project_created"
        return await _histories(case)


async def rr_company_overrun_blocked_damage(om: CaseHarness) -> list[WorkflowHistory]:
    """A company-managed elective R&R: the removal overruns (two weekly updates and
    check-ins), is blocked and unblocked, damage is reported (a claim starts), then every step
    completes."""
    async with om.worker():
        case = await om.open_project(rr_input("SYS-REPLAY-RR", market="WA",
                                              homeowner=HOMEOWNER, policy=POLICY))
        await case.stage("removal")
        await case.until(lambda s: s.attempts.get("check_ins") == 2, max_timers=10)
        await case.send("step_blocked", reason="permit")
        await om.env.sleep(timedelta(days=3))
        await case.send("step_unblocked")
        await case.send("damage_reported", description="cracked tiles", roof_leak=True)
        await case.settle(lambda s: len(s.damage_claims) == 1)
        await case.send("removal_completed")
        await case.send("roofing_completed")
        await case.send("reinstall_completed")
        assert (await case.result()).outcome == "completed"
        return await _histories(case)


async def rr_remi_completed(om: CaseHarness) -> list[WorkflowHistory]:
    """A Remi-managed elective R&R, its two verifications, with a rejected event."""
    async with om.worker():
        case = await om.open_project(rr_input("SYS-REPLAY-REMI", market="CA",
                                              homeowner=HOMEOWNER, policy=POLICY))
        await case.stage("verify_removal")
        await case.signal("reinstall_verified")
        await case.send("removal_verified")
        await case.send("reinstall_verified")
        assert (await case.result()).outcome == "completed"
        return await _histories(case)


async def reactivation_waited_verified(om: CaseHarness) -> list[WorkflowHistory]:
    """A payment made today: the wait for it to clear, a back-office reminder, approval, an
    O&M reminder, reactivation; with an out-of-stage signal rejected."""
    async with om.worker():
        today = (await om.env.get_current_time()).date().isoformat()
        case = await om.open_process(REACTIVATION, reactivation_input(
            contract_id="CON-REPLAY", payment_date=today, homeowner=HOMEOWNER, policy=POLICY),
            Reactivation)
        await case.stage("waiting_for_payment_to_clear")
        await case.signal("payment_verified", approved=True)
        await case.fire_next_timer()
        await case.stage("back_office_verification")
        await case.fire_next_timer()
        await case.send("payment_verified", approved=True)
        await case.fire_next_timer()
        await case.send("reactivation_completed")
        assert (await case.result()).outcome == "reactivated"
        return await _histories(case)


async def followup_beam_referred_resolved(om: CaseHarness) -> list[WorkflowHistory]:
    """A Concert/Beam follow-up: GTR e-mailed, weekly commitment e-mails for five weeks across
    continue-as-new runs, the Sales referral after 2 days, resolved with closure comments."""
    async with om.worker():
        case = await om.open_process(FOLLOWUP, followup_input(
            case_id="CS-REPLAY", concert_beam=True, homeowner=HOMEOWNER,
            policy={**POLICY, "continue_as_new_after_events": 40}), PartnerFollowUp)
        await case.stage("party_contacted")
        await case.until(lambda s: s.reminders["commitment"].count == 5, max_timers=20)
        await case.send("case_resolved", comment="GTR confirmed the fix")
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


async def inquiry_outage_om_case(om: CaseHarness) -> list[WorkflowHistory]:
    """An outage after M3: the inquiry starts the O&M case by its ID, replies, and records its
    disposition."""
    async with om.worker():
        case = await om.open_process(INQUIRY, inquiry_input(
            case_id="INQ-REPLAY", system_id="SYS-REPLAY-INQ", inquiry="outage",
            homeowner=HOMEOWNER, policy=POLICY), InquiryCase)
        assert (await case.result()).outcome == "om_case"
        return await _histories(case)


# ---- recorded on the outbox's code (case-base-v3) -------------------------------------------

PHONE_ONLY = {"name": "Ana Ruiz", "phone": "+14155550100",
              "address": "1 Main St, San Francisco, CA 94103"}


async def night_claim_settled(om: CaseHarness) -> list[WorkflowHistory]:
    """A claim decided at 21:00 for a phone-only homeowner: the settlement offered and accepted
    that night, the decision's text queued for 08:00 and sent by the closed case."""
    await move_to(om.env, "tue", time(9, 30), business_day=True)
    async with om.worker():
        case = await om.open_claim(claim_input("SYS-NIGHT-CLAIM", homeowner=PHONE_ONLY))
        await case.stage("investigation")
        await case.book("APT-1")
        await case.send("field_assessment", follow_up_required=False, at_fault="company")
        await case.stage("liability_determination")
        await move_to(om.env, "tue", time(21))
        await case.send("liability_determined", liable_party="company", decision="settle")
        await case.send("settlement_accepted")
        await case.until(lambda s: not s.outbox)
        assert (await case.result()).outcome == "settled"
        return await _histories(case)


async def night_rr_overrun_dropped(om: CaseHarness) -> list[WorkflowHistory]:
    """A project opened at 23:00 (its first step at once, the notice in the morning); the
    removal overruns at 23:00 two weeks later and completes at 23:30, so its update is dropped
    at 08:00; blocked and unblocked on the next step; completed."""
    await move_to(om.env, "tue", time(23), business_day=True)
    async with om.worker():
        case = await om.open_project(rr_input("SYS-NIGHT-RR", homeowner=PHONE_ONLY))
        await case.stage("removal")
        await case.fire_next_timer()  # rr_started at 08:00
        await om.env.sleep(timedelta(days=13, hours=15))  # to the overrun at 23:00
        await case.settle(lambda s: s.attempts.get("check_ins") == 1)
        await om.env.sleep(timedelta(minutes=30))
        await case.send("removal_completed")
        await case.until(lambda s: s.dropped_total == 1)
        await case.send("step_blocked", reason="permit")
        await case.send("step_unblocked")
        await case.send("roofing_completed")
        await case.send("reinstall_completed")
        await case.until(lambda s: s.outcome is not None and not s.outbox)
        assert (await case.result()).outcome == "completed"
        return await _histories(case)


async def night_followup_resolved(om: CaseHarness) -> list[WorkflowHistory]:
    """A Concert/Beam follow-up opened at 21:00 for a phone-only homeowner: three weeks of
    commitment texts across continue-as-new runs, the Sales referral, the case resolved at
    22:30 with a commitment queued (dropped) and "Unresponsive Done" sent at 08:00."""
    await move_to(om.env, "tue", time(21), business_day=True)
    async with om.worker():
        case = await om.open_process(FOLLOWUP, followup_input(
            case_id="CS-NIGHT", concert_beam=True, party_email=None, homeowner=PHONE_ONLY,
            policy={"continue_as_new_after_events": 40}), PartnerFollowUp)
        await case.stage("party_contacted")
        await case.until(lambda s: s.reminders["commitment"].count == 3 and not s.outbox)
        await move_to(om.env, "tue", time(21))
        await case.settle(lambda s: bool(s.outbox))
        await om.env.sleep(timedelta(minutes=90))
        await case.send("case_resolved", comment="GTR confirmed the fix")
        await case.until(lambda s: not s.outbox)
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


async def night_reactivation_verified_early(om: CaseHarness) -> list[WorkflowHistory]:
    """A New York homeowner (zone from the address) opening at 21:30 New York time with a
    payment made that day: the texts wait for 08:00, the back office verifies during the
    clearing wait, O&M reactivates."""
    await move_to(om.env, "tue", time(21, 30), "America/New_York", business_day=True)
    async with om.worker():
        today = (await om.env.get_current_time()).date().isoformat()
        case = await om.open_process(REACTIVATION, reactivation_input(
            contract_id="CON-NIGHT", payment_date=today,
            homeowner={"name": "Ana Ruiz", "phone": "+12125550100",
                       "address": "350 5th Ave, New York, NY 10118"}), Reactivation)
        await case.stage("waiting_for_payment_to_clear")
        await case.fire_next_timer()  # the two texts at 08:00
        await case.send("payment_verified", approved=True)
        await case.send("reactivation_completed")
        await case.until(lambda s: not s.outbox)
        assert (await case.result()).outcome == "reactivated"
        return await _histories(case)


async def simplified_continued_at_its_stage_v3(om: CaseHarness) -> list[WorkflowHistory]:
    """A simplified case whose history limit is reached while it waits for the outcome of a
    visit (weekly reminders to the case manager): it continues as new in
    `pending_appt_findings` and the next run takes the outcome."""
    await move_to(om.env, "tue", time(9, 30), business_day=True)
    async with om.worker(health_stand_in(True)):
        case = await om.open(om_input("SYS-V3-CAN", homeowner=PHONE_ONLY,
                                      policy={"continue_as_new_after_events": 60}))
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await case.until(lambda s: s.attempts.get("texts") == 1)
        await _book(case, "APT-1")
        await case.until(lambda s: s.runs >= 2, max_timers=60)
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed")
        await case.until(lambda s: s.outcome is not None)
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


async def night_inquiry_reply(om: CaseHarness) -> list[WorkflowHistory]:
    """A RIC inquiry after M3 at 23:00: the warranty reply is queued for 08:00 and sent by the
    closed inquiry."""
    await move_to(om.env, "tue", time(23), business_day=True)
    async with om.worker():
        case = await om.open_process(INQUIRY, inquiry_input(
            case_id="INQ-NIGHT", agreement_type="ric", inquiry="monitoring_data",
            homeowner=PHONE_ONLY), InquiryCase)
        await case.until(lambda s: s.outcome is not None and not s.outbox)
        assert (await case.result()).outcome == "referred_to_warranty"
        return await _histories(case)


async def _claim_to_rr(claim: CaseDriver[DamageClaim]) -> None:
    await claim.stage("investigation")
    await claim.book()
    await claim.send("field_assessment", follow_up_required=False, at_fault="company")
    await claim.stage("liability_determination")
    await claim.send("liability_determined", liable_party="company", decision="repair",
                     rr_required=True)
    await claim.stage("project_in_progress")


async def _complete(project: CaseDriver[RrProject]) -> None:
    for step in ("removal_completed", "roofing_completed", "reinstall_completed"):
        await project.send(step)
    await project.settle(lambda s: s.outcome == "completed")


async def claim_waits_for_its_project(om: CaseHarness) -> list[WorkflowHistory]:
    """Spec 2.3: a hazardous claim hands its hazard to the O&M case; its repair needs R&R, it
    starts the project and waits in `project_in_progress`; the project completes and tells it;
    the claim closes `repaired`. The claim's and the project's histories."""
    async with om.worker():
        claim = await om.open_claim(claim_input(hazard={"burning_smell": True}))
        await _claim_to_rr(claim)
        project = om.driver((await claim.status()).project_id or "", RrProject)
        await project.stage("removal")
        await _complete(project)
        await claim.settle(lambda s: s.outcome == "repaired")
        await project.settle(lambda s: s.stage == "closed")
        return [*await _histories(claim), *await _histories(project)]


async def rr_damage_repairs_added(om: CaseHarness) -> list[WorkflowHistory]:
    """Spec 2.3: damage found during a damage R&R opens a claim whose repairs join that project
    (`damage_repairs_added`); a second claim is cancelled; the project completes and the claim
    closes `repaired`."""
    async with om.worker():
        project = await om.open_project(rr_input(variant="damage"))
        await project.stage("removal")
        await project.send("damage_reported", description="cracked rafter", roof_leak=True)
        st = await project.settle(lambda s: len(s.damage_claims) == 1)
        claim = om.driver(st.damage_claims[0], DamageClaim)
        await _claim_to_rr(claim)
        await _complete(project)
        await claim.settle(lambda s: s.outcome == "repaired")
        await project.settle(lambda s: s.stage == "closed")
        return [*await _histories(project), *await _histories(claim)]


async def inquiry_hazard_to_om_case(om: CaseHarness) -> list[WorkflowHistory]:
    """Spec 2.3: a RIC inquiry reporting sparks hands the hazard to the O&M case (opened on the
    manual track's routing) and closes; the O&M case is cancelled later."""
    async with om.worker():
        inquiry = await om.open_process(INQUIRY, inquiry_input(
            case_id="INQ-HAZARD", inquiry="damage_report", agreement_type="ric",
            details={"market": "CA", "zip": "94103", "hazard": {"sparks_smoke_fire": True}}),
            InquiryCase)
        st = await inquiry.until(lambda s: s.outcome is not None and not s.outbox)
        owner = om.driver(st.hazard_case_id or "", OmCase)
        await owner.settle(lambda s: bool(owner.records("dispatch")))
        await run_ops(om.client, owner.case_id, "cancel_case",
                      {"event_id": "cancel-1", "reason": "recorded scenario"})
        await owner.settle(lambda s: s.outcome == "cancelled")
        return [*await _histories(inquiry), *await _histories(owner)]


async def claim_partner_repairs(om: CaseHarness) -> list[WorkflowHistory]:
    """Issue 18: a partner-installed roof leak dispatched to the partner, which accepts, finds
    itself at fault and repairs (the homeowner told)."""
    async with om.worker():
        case = await om.open_claim(claim_input(
            "SYS-REPLAY-PARTNER", homeowner=HOMEOWNER, policy=POLICY, installer="partner",
            installer_accepting_service_work=True, entitlements=[]))
        await case.stage("dispatched_to_partner")
        await case.send("partner_decision", accepted=True)
        await case.send("partner_findings", at_fault="partner")
        await case.send("repair_completed")
        assert (await case.result()).outcome == "repaired"
        return await _histories(case)


async def claim_repair_and_settle(om: CaseHarness) -> list[WorkflowHistory]:
    """Issue 18: a silent partner falls back to the investigation; liability repair and
    settle, the settlement accepted during the repair, then the repair done."""
    async with om.worker():
        case = await om.open_claim(claim_input(
            "SYS-REPLAY-R-AND-S", homeowner=HOMEOWNER, policy=POLICY, installer="partner",
            installer_accepting_service_work=True, entitlements=[]))
        await case.stage("dispatched_to_partner")
        await case.fire_next_timer()
        await case.stage("investigation")
        await case.book()
        await case.send("field_assessment", follow_up_required=False, at_fault="company")
        await case.send("liability_determined", liable_party="company",
                        decision="repair_and_settle", repair_by="internal_work")
        await case.send("settlement_accepted")
        await case.send("repair_completed")
        assert (await case.result()).outcome == "repaired_and_settled"
        return await _histories(case)


async def followup_homeowner_not_satisfied(om: CaseHarness) -> list[WorkflowHistory]:
    """Issue 18: the installer responds, the homeowner is not satisfied, back to the party, a
    joined request, a back-office reminder, then satisfied."""
    async with om.worker():
        inp = followup_input(homeowner=HOMEOWNER, policy=POLICY)
        case = await om.open_process(FOLLOWUP, inp, PartnerFollowUp)
        await case.stage("party_contacted")
        await case.send("party_responded", comment="installer called")
        await case.send("homeowner_not_satisfied", comment="nobody came")
        await om.open_process(FOLLOWUP, inp.model_copy(update={"concern": "still broken"}),
                              PartnerFollowUp)
        await case.settle(lambda s: s.joined_total == 1)
        await case.send("party_responded", comment="installer visited")
        await case.fire_next_timer()  # the back office's reminder
        await case.send("homeowner_satisfied", comment="fixed")
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


async def rr_remi_quoted(om: CaseHarness) -> list[WorkflowHistory]:
    """Issue 18: a Remi company-quoted project: the quote approval step, then Remi's two
    verifications."""
    async with om.worker():
        case = await om.open_project(rr_input("SYS-REPLAY-QUOTE", market="CA",
                                              remi_option="sunrun_quoted",
                                              homeowner=HOMEOWNER, policy=POLICY))
        await case.stage("quote_approval")
        await case.send("quote_approved", amount="3100.00")
        await case.send("removal_verified")
        await case.send("reinstall_verified")
        assert (await case.result()).outcome == "completed"
        return await _histories(case)


async def followup_waiting_on(om: CaseHarness) -> list[WorkflowHistory]:
    """Issue 20: `WaitingOn` and `StageEnteredAt` kept through a follow-up's waits: the party,
    the homeowner, the party again, Sales, then closed."""
    async with om.worker():
        case = await om.open_process(FOLLOWUP, followup_input(homeowner=HOMEOWNER,
                                                              policy=POLICY), PartnerFollowUp)
        await case.stage("party_contacted")
        await case.send("party_responded", comment="installer called")
        await case.send("homeowner_not_satisfied", comment="nobody came")
        await case.fire_next_timer()
        await case.stage("referred_to_sales")
        await case.send("case_resolved", comment="Sales resolved it")
        assert (await case.result()).outcome == "resolved"
        return await _histories(case)


SCENARIOS: dict[str, Scenario] = {
    "claim_waits_for_its_project": claim_waits_for_its_project,
    "rr_damage_repairs_added": rr_damage_repairs_added,
    "inquiry_hazard_to_om_case": inquiry_hazard_to_om_case,
    "om_simplified_to_manual_repaired": simplified_to_manual_to_repaired,
    "om_simplified_resolved": simplified_resolved,
    "om_manual_hazardous_cancelled": manual_hazardous_cancelled,
    "claim_investigated_settlement_declined_rr": claim_investigated_settlement_declined_rr,
    "rr_company_overrun_blocked_damage": rr_company_overrun_blocked_damage,
    "rr_remi_completed": rr_remi_completed,
    "reactivation_waited_verified": reactivation_waited_verified,
    "followup_beam_referred_resolved": followup_beam_referred_resolved,
    "inquiry_outage_om_case": inquiry_outage_om_case,
    "night_claim_settled": night_claim_settled,
    "night_rr_overrun_dropped": night_rr_overrun_dropped,
    "night_followup_resolved": night_followup_resolved,
    "night_reactivation_verified_early": night_reactivation_verified_early,
    "simplified_continued_at_its_stage_v3": simplified_continued_at_its_stage_v3,
    "night_inquiry_reply": night_inquiry_reply,
    "claim_partner_repairs": claim_partner_repairs,
    "claim_repair_and_settle": claim_repair_and_settle,
    "followup_homeowner_not_satisfied": followup_homeowner_not_satisfied,
    "rr_remi_quoted": rr_remi_quoted,
    "followup_waiting_on": followup_waiting_on,
}
