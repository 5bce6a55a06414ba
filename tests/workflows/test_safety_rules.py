"""Spec 2.1 on the O&M case, one test per defect the hardening issue found: hazard first, no
usable phone, contact hours with a send-by instant, the homeowner's zone, cancels (ops and
Temporal's own), CRM records closed with the case, follow-up visits that escalate, `issue_reported`
flat, rejections that say they are permanent."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.effects import CONTACT_UNUSABLE, EffectReceipt, Notification
from starter.client import run_ops
from tests.workflows.harness import (
    CaseHarness,
    Gated,
    OmDriver,
    health_stand_in,
    om_input,
    stages,
    zone_where_local_hour_is,
)

HAZARD: dict[str, Any] = {"case_reason": "hazardous_situation", "hazard": {"burning_smell": True}}
WORKING_HOURS = {"start": "08:00", "end": "20:00"}


def _homeowner(time_zone: str | None = "UTC", phone: str | None = "+14155550100") -> dict[str, Any]:
    return {"name": "Ana Ruiz", "phone": phone, "email": "ana@example.com",
            "address": "1 Main St", "time_zone": time_zone}


async def _to_texts(om: CaseHarness, **kw: Any) -> OmDriver:
    case = await om.open(om_input(**kw))
    await case.stage("problem_identified")
    await case.send("remote_fix_result", resolved=False)
    return case


# ---- hazard first -------------------------------------------------------------------------


async def test_safety_notice_and_p1_dispatch_come_before_anything_else(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(**HAZARD))
        await case.settle(lambda s: s.attempts.get("calls") == 1)
        kinds = [(r.kind, r.payload.get("template") or r.payload.get("priority"))
                 for r in case.records()]
        assert kinds[:2] == [("text", "safety_notice"), ("dispatch", "P1")]
        assert case.keys("remote_fix_request") == []  # no remote fix for a hazard
        sa = await case.search_attributes()
        assert sa["Hazardous"] is True and sa["CaseStage"] == "outbound_calls"


async def test_hazardous_case_nobody_reaches_is_escalated_never_pg_void(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(**HAZARD))
        st = await case.until(lambda s: s.process == "om_manual" and s.waiting_for is not None)
        assert st.escalated and st.outcome is None
        assert st.escalation_reason == "hazardous case: homeowner unreachable after all calls"
        assert case.records("letter") == []  # no PG-void / breach letter, ever
        urgent = [r.payload for r in case.records("assignment") if r.payload["priority"] == "p1"]
        assert urgent and "HAZARDOUS" in urgent[0]["reason"]
        # The manual run does not repeat the safety notice or the dispatch.
        assert case.keys("text").count("safety-notice") == 1
        assert case.keys("dispatch") == ["priority-dispatch"]
        sa = await case.search_attributes()
        assert sa["Escalated"] is True and sa["ProcessType"] == "om_manual"


async def test_hazard_calls_every_calendar_day_the_first_at_once(om: CaseHarness) -> None:
    """A Friday-morning hazard before a Monday holiday is called Friday, Saturday and Sunday
    (a routine case would wait for Tuesday)."""
    tz = ZoneInfo("America/New_York")
    now = (await om.env.get_current_time()).astimezone(tz)
    friday = now.date() + timedelta(days=(4 - now.weekday()) % 7 or 7)
    await om.env.sleep(datetime.combine(friday, time(10), tzinfo=tz) - now)
    monday = friday + timedelta(days=3)
    async with om.worker():
        case = await om.open(om_input(**HAZARD, homeowner=_homeowner("America/New_York"),
                                      policy={"contact_hours": WORKING_HOURS,
                                              "holidays": [monday.isoformat()]}))
        await case.until(lambda s: s.attempts.get("calls") == 3)
        calls = [datetime.fromisoformat(r.created_at).astimezone(tz)
                 for r in case.records("call_task")]
        assert [c.date() for c in calls] == [friday, friday + timedelta(days=1),
                                             friday + timedelta(days=2)]
        assert calls[0] - datetime.combine(friday, time(10), tzinfo=tz) < timedelta(minutes=1)
        assert [c.time().replace(second=0, microsecond=0) for c in calls[1:]] == [time(8)] * 2


async def test_a_hazardous_report_joining_an_open_case_makes_it_hazardous(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om, system_id="SYS-JOIN-HAZ")
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        report = om_input("SYS-JOIN-HAZ", description="smoke from the inverter",
                          **HAZARD).report().model_dump(mode="json")
        await case.send("issue_reported", **report)
        st = await case.settle(lambda s: s.attempts.get("calls") == 1)
        assert st.hazardous and st.stage == "outbound_calls"
        assert st.attempts["texts"] == 1  # texting stopped
        assert case.keys("text") == ["visit1/text/1", "safety-notice"]
        assert case.records("dispatch")[0].payload["priority"] == "P1"
        assert (await case.search_attributes())["Hazardous"] is True


# ---- no usable contact ---------------------------------------------------------------------


async def test_a_homeowner_without_a_phone_goes_to_a_person_and_the_run_completes(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(homeowner=_homeowner(phone=None)))
        st = await case.stage("findings_review")
        assert st.process == "om_manual" and st.escalated
        assert st.failures[0].reason.startswith("no usable phone")
        assert st.failures[0].assigned_to == "case_manager"
        assigned = [r.payload["reason"] for r in case.records("assignment")]
        assert any("no usable phone" in reason for reason in assigned)
        # Not FAILED: the first run went on as the manual track.
        assert await case.run_status(st.instance) == "CONTINUED_AS_NEW"
        assert case.records("text") == [] and case.records("call_task") == []


async def test_a_number_the_gateway_refuses_for_good_goes_to_a_person(om: CaseHarness) -> None:
    @activity.defn(name="notify_homeowner")
    async def refusing_gateway(req: Notification) -> EffectReceipt:
        raise ApplicationError("the SMS gateway refuses +1415... (not a mobile number)",
                               type=CONTACT_UNUSABLE, non_retryable=True)

    async with om.worker(refusing_gateway):
        case = await _to_texts(om)
        st = await case.stage("findings_review")
        assert st.process == "om_manual"
        assert st.failures[0].effect == "text self_scheduling_link"
        assert "refuses" in st.failures[0].reason
        assert st.escalation_reason is not None and "no usable phone" in st.escalation_reason


# ---- contact hours, send-by, zones ---------------------------------------------------------


async def test_the_appointment_reminder_of_an_evening_booking_waits_for_the_morning(
        om: CaseHarness) -> None:
    now = await om.env.get_current_time()
    tz = zone_where_local_hour_is(21, now)
    async with om.worker():
        case = await _to_texts(om, homeowner=_homeowner(tz),
                               policy={"contact_hours": WORKING_HOURS})
        await case.stage("self_scheduling_texts")
        local = now.astimezone(ZoneInfo(tz))
        tomorrow = local.date() + timedelta(days=1)
        start = datetime.combine(tomorrow, time(10), tzinfo=ZoneInfo(tz))
        await case.send("appointment_scheduled", appointment_id="APT-1",
                        window_start=start.isoformat(),
                        window_end=(start + timedelta(hours=4)).isoformat())
        st = await case.stage("appointment_scheduled")
        morning = datetime.combine(tomorrow, time(8), tzinfo=ZoneInfo(tz))
        assert st.waiting_for == "appointment reminder time" and st.next_deadline == morning
        await case.fire_next_timer()
        await case.settle(lambda s: s.visit.reminders_sent == 1)
        sent = datetime.fromisoformat(case.records("text")[-1].created_at)
        assert morning <= sent < morning + timedelta(minutes=1)


async def test_a_text_not_delivered_by_closing_time_waits_for_the_next_opening(
        om: CaseHarness) -> None:
    now = await om.env.get_current_time()
    tz = zone_where_local_hour_is(19, now)
    local = now.astimezone(ZoneInfo(tz))
    closing = datetime.combine(local.date(), time(20), tzinfo=ZoneInfo(tz))
    gateway = Gated(om.activities)
    gateway.outage = True
    async with om.worker(*gateway.stand_ins()):
        case = await om.open(om_input(homeowner=_homeowner(tz),
                                      policy={"contact_hours": WORKING_HOURS}))
        await case.stage("problem_identified")
        # A Signal: an Update answers once the case waits again, and the case is retrying the
        # text through the outage until the window closes.
        await case.signal("remote_fix_result", resolved=False)
        await case.settle(lambda s: s.stage == "self_scheduling_texts")  # the text is retrying
        await om.env.sleep(closing - now + timedelta(minutes=5))
        st = await case.settle(lambda s: s.attempts.get("sends_deferred") == 1)
        morning = datetime.combine(local.date() + timedelta(days=1), time(8),
                                   tzinfo=ZoneInfo(tz))
        assert st.next_deadline == morning and case.records("text") == []
        gateway.outage = False
        await case.fire_next_timer()
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        sent = datetime.fromisoformat(case.records("text")[0].created_at)
        assert morning <= sent < morning + timedelta(minutes=1)
        assert case.keys("text") == ["visit1/text/1"]  # the same key: never texted twice


async def test_el_paso_is_mountain_time_and_the_status_says_so(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(market="TX", zip="79901", homeowner=_homeowner(None)))
        st = await case.stage("problem_identified")
        assert st.time_zone == "America/Denver"


# ---- cancels ---------------------------------------------------------------------------------


async def test_a_cancel_during_a_side_effect_lets_no_further_side_effect_out(
        om: CaseHarness) -> None:
    held = Gated(om.activities, "fs_case")
    async with om.worker(*held.stand_ins()):
        case = await om.open(om_input())
        await case.stage("problem_identified")
        # A signal: an Update would wait for the case to act, and the case waits on the gate.
        await case.signal("remote_fix_result", resolved=False)
        await held.reached("fs_case")
        cancel = asyncio.create_task(run_ops(om.client, case.case_id, "cancel_case",
                                             {"reason": "homeowner sold the house"}))
        await case.settle(lambda s: any(o.command == "cancel_case" for o in s.ops))
        held.release()
        await cancel
        st = await case.result()
        assert st.outcome == "cancelled"
        assert case.records("text") == []  # the next text never started
        assert [r.kind for r in case.records()] == ["remote_fix_request", "fs_case", "crm_close"]


async def test_temporal_cancel_closes_the_case_like_cancel_case(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        await case.handle.cancel()
        st = await case.result()
        assert st.outcome == "cancelled" and stages(st)[-1] == "closed"
        assert st.ops[-1].text == "cancellation requested in Temporal"
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "closed" and sa["CaseOutcome"] == "cancelled"
        assert "NextDeadline" not in sa
        assert await case.run_status() == "COMPLETED"


async def test_closing_a_case_closes_the_crm_records_it_opened(om: CaseHarness) -> None:
    async with om.worker(health_stand_in(True)):
        case = await _to_texts(om)
        await case.book()
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed")
        st = await case.until(lambda s: s.outcome is not None)
        assert st.outcome == "resolved"
        closed = case.records("crm_close")
        assert len(closed) == 1 and closed[0].payload == {
            "record_ids": [st.fs_case_id], "outcome": "resolved"}


# ---- follow-ups, wire format, rejections ---------------------------------------------------


async def test_follow_up_visits_move_the_case_to_the_manual_track_at_the_limit(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        for n in range(1, 4):
            await case.book(f"APT-{n}")
            await case.until(lambda s: s.stage == "pending_appt_findings")
            await case.send("appointment_outcome", appointment_id=f"APT-{n}",
                            result="completed_follow_up_required")
        st = await case.stage("findings_review")
        assert st.process == "om_manual" and st.attempts["follow_up_visits"] == 3
        assert st.escalation_reason == "3 follow-up visits without resolution"


async def test_issue_reported_is_flat_and_the_nested_form_still_joins(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input("SYS-FLAT"))
        await case.stage("problem_identified")
        report = om_input("SYS-FLAT", description="still no power").report()
        await case.send("issue_reported", **report.model_dump(mode="json"))
        again = om_input("SYS-FLAT", description="and a beeping inverter").report()
        st = await case.send("issue_reported", report=again.model_dump(mode="json"))
        assert st.related_reports == 2


async def test_rejections_are_permanent_and_say_which_kind(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        for payload, kind in [
            ({"event_id": "e1", "appointment_id": "APT-1", "result": "completed"},
             "EventRejected"),
            ({"event_id": "e2", "appointment_id": "APT-1", "result": "maybe"}, "InvalidEvent"),
        ]:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await case.handle.execute_update("appointment_outcome", payload)
            cause = err.value.cause
            assert isinstance(cause, ApplicationError)
            assert cause.non_retryable and cause.type == kind

