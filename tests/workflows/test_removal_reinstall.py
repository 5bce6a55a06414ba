"""`RemovalReinstallWorkflow` on the time-skipping server (spec 3.5, 4.2, 2.1): market routing,
the five company-managed and four Remi-managed steps, overrun updates and check-ins weekly on
the durable reminder piece, blocked steps, damage found during the project, and a history that
stays bounded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from domain.damage import DamageClaim
from domain.om import OmCase
from domain.rr import RrProject
from starter.client import EventRejected, InvalidEvent
from tests.workflows.harness import CaseDriver, CaseHarness, rr_input, stages

RrDriver = CaseDriver[RrProject]
COMPANY = ["project_creation", "removal", "roofing_work", "reinstall", "completion", "closed"]
REMI = ["intake", "verify_removal", "verify_reinstall", "closing", "closed"]


def overrun_keys(case: RrDriver, stage: str) -> tuple[list[str], list[str]]:
    """The status-update texts and check-in assignments of one step, by key."""
    return ([k for k in case.keys("text") if k.startswith(f"step/{stage}/status-update")],
            [k for k in case.keys("assignment") if k.startswith(f"step/{stage}/check-in")])


def _check_ins(n: int) -> Callable[[RrProject], bool]:
    """Whether `n` check-ins have been assigned."""
    return lambda s: s.attempts.get("check_ins", 0) == n


async def _project(om: CaseHarness, first: str = "removal", **changes: Any) -> RrDriver:
    case = await om.open_project(rr_input(**changes))
    await case.stage(first)
    return case


# ---- routing -----------------------------------------------------------------------------------


async def test_elective_in_a_remi_market_is_remi_full_service(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, "verify_removal", market="CA")
        st = await case.status()
        assert st.management == "remi_full_service" and stages(st)[:2] == ["intake",
                                                                            "verify_removal"]
        assert case.records("assignment")[0].payload["assignee"] == "remi_coordinator"
        assert (await case.search_attributes())["CaseStage"] == "verify_removal"


async def test_remi_sunrun_quoted_waits_for_the_quote_before_the_removal(
        om: CaseHarness) -> None:
    """Spec 3.5: `remi_sunrun_quoted` differs from full service in one step, the homeowner's
    acceptance of the company's quote, with a step's overrun reminders (7 days); Remi talks to
    the homeowner, the company sends nothing."""
    async with om.worker():
        case = await _project(om, "quote_approval", market="AZ", remi_option="sunrun_quoted")
        st = await case.status()
        assert st.management == "remi_sunrun_quoted"
        assert stages(st) == ["intake", "quote_approval"]
        assert st.waiting_for == "quote_approved"
        due = st.steps[-1].due_at
        assert due - st.steps[-1].started_at == timedelta(days=7)
        with pytest.raises(EventRejected, match="does not fit stage 'quote_approval'"):
            await case.send("removal_verified")
        with pytest.raises(InvalidEvent, match="amount"):
            await case.send("quote_approved", amount=0)
        st = await case.until(_check_ins(1))
        assert overrun_keys(case, "quote_approval")[1] == ["step/quote_approval/check-in/1"]
        assert case.records("assignment")[-1].payload["assignee"] == "remi_coordinator"
        assert case.notices() == []  # Remi's project: the company tells the homeowner nothing
        st = await case.send("quote_approved", amount="4250.00")
        assert st.stage == "verify_removal" and str(st.quote_amount) == "4250.00"
        for step in ("removal_verified", "reinstall_verified"):
            st = await case.send(step)
        assert st.outcome == "completed"
        assert stages(st) == ["intake", "quote_approval", "verify_removal", "verify_reinstall",
                              "closing", "closed"]


async def test_remi_full_service_has_no_quote_step(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, "verify_removal", market="AZ", remi_option="full_service")
        st = await case.status()
        assert "quote_approval" not in stages(st) and st.quote_amount is None


@pytest.mark.parametrize("market", ["HI", "PR", "WA", "NJ"])
async def test_non_remi_markets_are_company_managed(om: CaseHarness, market: str) -> None:
    async with om.worker():
        case = await _project(om, market=market, remi_option="full_service")
        st = await case.status()
        assert st.management == "company" and f"{market} is not a Remi market" in \
            st.routing_reason


async def test_damage_variant_is_company_managed_even_in_a_remi_market(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, market="CA", variant="damage")
        st = await case.status()
        assert st.management == "company" and st.variant == "damage"


# ---- the steps ---------------------------------------------------------------------------------


async def test_company_managed_five_steps(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        assert case.keys("project") == ["project"]
        st = await case.send("removal_completed", completed_on="2026-11-30")
        assert st.stage == "roofing_work"
        st = await case.send("roofing_completed")
        assert st.stage == "reinstall"
        st = await case.send("reinstall_completed")
        assert st.outcome == "completed" and stages(st) == COMPANY
        assert [s.completed_on is not None for s in st.steps] == [True, True, True]
        assert str(st.steps[0].completed_on) == "2026-11-30"
        # The milestones go to the homeowner by text (phone only), inside contact hours.
        assert [(r.kind, r.payload["template"]) for r in case.notices()] == [
            ("text", "rr_started"), ("text", "rr_completed")]
        closed = case.records("crm_close")[0].payload
        assert closed["record_ids"] == [st.project_record_id]


async def test_remi_managed_four_steps(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, "verify_removal", market="CA")
        st = await case.send("removal_verified")
        assert st.stage == "verify_reinstall"
        st = await case.send("reinstall_verified")
        assert st.outcome == "completed" and stages(st) == REMI


async def test_damage_variant_takes_the_damage_repairs_in_step_3(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, variant="damage", parent_claim_id="damage-SYS-9-CLM-1")
        await case.send("removal_completed")
        st = await case.status()
        assert st.stage == "roofing_work" and st.parent_claim_id == "damage-SYS-9-CLM-1"
        assert st.waiting_for == "roofing_completed"
        await case.fire_next_timer()
        await case.settle(_check_ins(1))
        check_in = case.records("assignment")[-1].payload
        assert check_in["reason"].startswith("roofing work and damage repairs is past its "
                                             "expected 30 days")


# ---- overruns ------------------------------------------------------------------------------------


async def test_an_overrun_sends_one_update_and_one_check_in_a_week_for_three_weeks(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        st = await case.status()
        started = st.steps[0].started_at
        assert st.next_deadline == started + timedelta(days=14)
        for week in (1, 2, 3):
            await case.fire_next_timer()
            st = await case.settle(_check_ins(week))
            updates, check_ins = overrun_keys(case, "removal")
            assert updates == [f"step/removal/status-update/{n}" for n in range(1, week + 1)]
            assert check_ins == [f"step/removal/check-in/{n}" for n in range(1, week + 1)]
        assert st.next_deadline == started + timedelta(days=14 + 3 * 7)
        assert case.records("assignment")[-1].payload["assignee"] == "project_manager"
        # The step completes; the next one has its own expected duration and series.
        st = await case.send("removal_completed")
        assert st.next_deadline is not None
        assert st.next_deadline - st.steps[1].started_at == timedelta(days=30)


async def test_a_blocked_step_pauses_its_reminders_and_resumes_where_they_were(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        await om.env.sleep(timedelta(days=10))
        st = await case.send("step_blocked", reason="waiting for the roofing permit")
        assert st.blocked and st.next_deadline is None
        assert st.waiting_for == "removal_completed (reminders paused)"
        await om.env.sleep(timedelta(days=30))
        st = await case.settle()
        assert overrun_keys(case, "removal") == ([], [])
        st = await case.send("step_unblocked")
        assert not st.blocked and st.next_deadline is not None
        now = await om.env.get_current_time()
        left = st.next_deadline - now
        assert timedelta(days=3, hours=23) < left <= timedelta(days=4)
        await case.fire_next_timer()
        await case.settle(lambda s: s.attempts.get("check_ins", 0) == 1)
        assert overrun_keys(case, "removal") == (["step/removal/status-update/1"],
                                                 ["step/removal/check-in/1"])


async def test_block_and_unblock_fit_the_step_state(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        with pytest.raises(EventRejected, match="is not blocked"):
            await case.send("step_unblocked")
        await case.send("step_blocked", reason="rain")
        with pytest.raises(EventRejected, match="already blocked"):
            await case.send("step_blocked", reason="more rain")
        with pytest.raises(InvalidEvent, match="step_blocked: reason"):
            await case.send("step_blocked")


async def test_overrun_updates_wait_for_contact_hours(om: CaseHarness) -> None:
    from tests.workflows.harness import zone_where_local_hour_is

    async with om.worker():
        now = await om.env.get_current_time()
        # Noon for this homeowner now; the removal is due 14 days and 11 hours later, at 23:00,
        # so its first status update waits for 08:00.
        noon = zone_where_local_hour_is(12, now)
        case = await _project(om, homeowner={"name": "Ana Ruiz", "phone": "+14155550100",
                                             "time_zone": noon},
                              policy={"contact_hours": {"start": "08:00", "end": "20:00"},
                                      "removal_expected": "P14DT11H"})
        await case.fire_next_timer()  # 23:00: the check-in now, the update in the morning
        st = await case.settle(_check_ins(1))
        assert overrun_keys(case, "removal") == ([], ["step/removal/check-in/1"])
        assert [m.template for m in st.outbox] == ["rr_status_update"]
        assert st.waiting_for == "removal_completed"  # the step's own wait goes on
        assert st.next_deadline is not None
        assert timedelta(hours=8) < st.next_deadline - (await om.env.get_current_time()) \
            <= timedelta(hours=9)
        await case.fire_next_timer()
        await case.settle(lambda s: not s.outbox)
        assert overrun_keys(case, "removal")[0] == ["step/removal/status-update/1"]


# ---- damage found, spec 2.1, bad input, bounded history ----------------------------------------


async def test_damage_reported_starts_a_linked_claim(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        st = await case.send("damage_reported", description="cracked tiles", roof_leak=True)
        claim_id = f"damage-{st.system_id}-P1-D1"
        st = await case.settle(lambda s: s.damage_claims == [claim_id])
        assert st.stage == "removal" and st.claims_to_start == []
        claim = om.driver(claim_id, DamageClaim)
        cst = await claim.stage("investigation")
        assert cst.source_project_id == case.case_id and cst.roof_leak and not cst.hazardous
        assert cst.intake is not None and "R&R project" in cst.intake.reason
        st = await case.send("damage_reported", event_id="dmg-2", description="sparks",
                             hazard={"sparks_smoke_fire": True})
        st = await case.settle(lambda s: len(s.damage_claims) == 2)
        assert st.damage_claims[1].endswith("-P1-D2")
        assert st.hazard_case_id == f"om-{st.system_id}"
        hazardous = om.driver(st.damage_claims[1], DamageClaim)
        hst = await hazardous.stage("investigation")
        # Spec 2.3: the hazard went to the system's O&M case (through the claim); neither the
        # project nor the claim sends a safety notice or a dispatch of its own.
        assert hst.hazard_case_id == st.hazard_case_id and hst.hazardous
        assert hazardous.notices("safety_notice") == [] and hazardous.records("dispatch") == []
        assert case.notices("safety_notice") == [] and case.records("dispatch") == []
        owner = om.driver(st.hazard_case_id, OmCase)
        o = await owner.settle(lambda s: bool(owner.records("dispatch")))
        assert o.hazard_referrals == [hazardous.case_id]
        assert [r.payload["template"] for r in owner.notices()][:1] == ["safety_notice"]


async def test_no_phone_records_the_failure_and_the_project_goes_on(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, homeowner={"name": "Ana Ruiz"})
        st = await case.status()
        assert st.failures and "no e-mail or phone" in st.failures[0].reason and st.escalated
        assert (await case.search_attributes())["Escalated"] is True
        await case.fire_next_timer()
        st = await case.settle(_check_ins(1))
        assert len(st.failures) == 1 and "status_updates" not in st.attempts  # once, not weekly
        st = await case.send("removal_completed")
        assert st.stage == "roofing_work" and await case.run_status() == "RUNNING"


async def test_temporal_cancel_closes_the_project(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        await case.handle.cancel()
        st = await case.result()
        assert st.outcome == "cancelled"
        assert (await case.search_attributes())["CaseOutcome"] == "cancelled"


async def test_duplicate_and_out_of_stage_events(om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om)
        with pytest.raises(EventRejected, match="does not fit stage 'removal'"):
            await case.send("reinstall_completed")
        with pytest.raises(InvalidEvent, match="completed_on"):
            await case.send("removal_completed", completed_on="yesterday")
        st = await case.send("removal_completed", event_id="rc-1")
        again = await case.send("removal_completed", event_id="rc-1")
        assert st.stage == again.stage == "roofing_work"
        await case.signal("roofing_completed", unknown_field=1)
        st = await case.settle(lambda s: s.rejected_total == 1)
        assert st.stage == "roofing_work"


async def test_a_months_long_project_continues_as_new_with_its_reminders_intact(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _project(om, policy={"continue_as_new_after_events": 40})
        first_run = (await case.handle.describe()).run_id
        st = await case.until(lambda s: s.runs >= 2 and s.attempts.get("check_ins", 0) >= 3,
                              max_timers=20)
        updates, check_ins = overrun_keys(case, "removal")
        n = st.attempts["check_ins"]
        assert check_ins == [f"step/removal/check-in/{i}" for i in range(1, n + 1)]
        assert updates == [f"step/removal/status-update/{i}" for i in range(1, n + 1)]
        assert await case.run_status(first_run) == "CONTINUED_AS_NEW"
        st = await case.send("removal_completed")
        assert st.stage == "roofing_work"


async def test_damage_on_a_project_with_a_long_number_starts_its_claim(om: CaseHarness) -> None:
    """Spec 2.1: a 62-character project number made the claim number `{project_no}-D1` too
    long; the claim input failed validation inside the workflow and its task failed in a loop
    (status queries timing out). Now the claim number is cut and given a digest."""
    async with om.worker():
        project_no = "P" + "7" * 61
        case = await om.open_project(rr_input(project_no=project_no))
        await case.stage("removal")
        st = await case.send("damage_reported", description="cracked tiles", roof_leak=True)
        st = await case.settle(lambda s: len(s.damage_claims) == 1)
        assert st.failures == [] and st.claims_to_start == []
        claim_id = st.damage_claims[0]
        claim = om.driver(claim_id, DamageClaim)
        cst = await claim.stage("investigation")
        assert len(cst.claim_no) <= 64 and cst.claim_no.endswith("-D1")
        assert cst.source_project_id == case.case_id
        assert (await case.status()).stage == "removal"
