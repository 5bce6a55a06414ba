"""Every path of the simplified O&M track (spec 3.2), driven through events and time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.om import OmCase
from tests.workflows.harness import (
    CaseHarness,
    OmDriver,
    health_stand_in,
    om_input,
    stages,
    zone_where_local_hour_is,
)


async def _to_texts(om: CaseHarness, **kw: object) -> OmDriver:
    case = await om.open(om_input(**kw))  # type: ignore[arg-type]
    await case.stage("problem_identified")
    await case.send("remote_fix_result", resolved=False)
    await case.stage("self_scheduling_texts", "outbound_calls")
    return case


async def _follow_up(om: CaseHarness, **outcome: bool) -> tuple[OmDriver, OmCase]:
    """A case whose first visit ended with a follow-up visit required."""
    case = await _to_texts(om)
    await _to_findings(case)
    st = await case.send("appointment_outcome", appointment_id="APT-1",
                         result="completed_follow_up_required", **outcome)
    return case, st


async def _to_findings(case: OmDriver, appointment_id: str = "APT-1") -> None:
    await case.book(appointment_id)
    await case.stage("appointment_scheduled")
    await case.until(lambda s: s.stage == "pending_appt_findings")


async def test_remote_fix_resolves_the_case(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        st = await case.stage("problem_identified")
        assert st.waiting_for == "remote fix result"
        sa = await case.search_attributes()
        assert sa["CaseStage"] == "problem_identified"
        assert sa["ProcessType"] == "om_simplified"
        assert sa["CaseId"] == case.case_id and sa["Market"] == "CA"
        assert sa["NextDeadline"] == st.next_deadline
        st = await case.send("remote_fix_result", resolved=True)
        assert st.outcome == "resolved_remotely"
        result = await case.result()
        assert stages(result) == ["problem_identified", "closed"]
        assert case.keys() == ["remote-fix"]
        sa = await case.search_attributes()
        assert sa["CaseOutcome"] == "resolved_remotely" and sa["CaseStage"] == "closed"


async def test_no_remote_fix_answer_in_24h_counts_as_not_resolved(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        st = await case.stage("problem_identified")
        assert st.next_deadline is not None
        started = st.stage_history[0].entered_at
        assert abs(st.next_deadline - started - timedelta(hours=24)) < timedelta(minutes=1)
        await case.fire_next_timer()
        st = await case.stage("self_scheduling_texts")
        assert st.fs_case_id is not None
        assert case.keys("fs_case") == ["fs-case"]
        assert stages(st)[:3] == ["problem_identified", "ready_for_scheduling",
                                  "self_scheduling_texts"]


async def test_texts_then_self_scheduled(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        st = await case.settle(lambda s: s.attempts.get("texts") == 1)
        assert st.waiting_for == "self-scheduled appointment"
        st = await case.fire_next_timer()
        st = await case.settle(lambda s: s.attempts.get("texts") == 2)
        await case.book()
        st = await case.stage("appointment_scheduled")
        assert st.visit.appointment is not None
        assert st.visit.appointment.appointment_id == "APT-1"
        assert case.keys("text") == ["visit1/text/1", "visit1/text/2"]
        assert (await case.search_attributes())["CaseStage"] == "appointment_scheduled"


async def test_texts_exhausted_then_calls_one_reaches(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        st = await case.until(lambda s: s.stage == "outbound_calls")
        assert st.attempts["texts"] == 3
        # 3 texts 48 h apart, then 48 h of waiting after the last before the first call
        sent = [datetime.fromisoformat(r.created_at) for r in case.records("text")]
        assert len(sent) == 3
        gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
        assert all(abs(gap - timedelta(hours=48)) <= timedelta(seconds=5) for gap in gaps), gaps
        st = await case.until(lambda s: s.attempts.get("calls") == 1)
        first_call = datetime.fromisoformat(case.records("call_task")[0].created_at)
        assert first_call >= sent[-1] + timedelta(hours=48) - timedelta(seconds=5)
        assert first_call.weekday() < 5  # calls go out on business days only
        assert (await case.search_attributes())["CaseStage"] == "outbound_calls"
        st = await case.until(lambda s: s.attempts.get("calls") == 2)
        st = await case.send("call_attempt_result", reached=True, scheduled=True)
        assert st.visit.booking_promised
        await case.book()
        st = await case.stage("appointment_scheduled")
        assert st.attempts["calls"] == 2 and st.attempts["calls_reached"] == 1
        assert case.keys("call_task") == ["visit1/call/1", "visit1/call/2"]


async def test_everything_exhausted_pg_void_and_case_manager(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        st = await case.until(lambda s: s.outcome is not None)
        assert st.outcome == "unreachable_pg_void"
        assert st.attempts == {"texts": 3, "calls": 3}
        assert case.keys("letter") == ["pg-void-notice"]
        assignment = case.records("assignment")[-1]
        assert assignment.payload["assignee"] == "case_manager"
        assert (await case.result()).outcome == "unreachable_pg_void"


async def test_calls_are_one_per_business_day(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om, policy={"text_attempts": 0})
        await case.until(lambda s: s.attempts.get("calls") == 3)
        call_days = [datetime.fromisoformat(r.created_at).date()
                     for r in case.records("call_task")]
        assert len(set(call_days)) == 3
        assert all(day.weekday() < 5 for day in call_days)


async def test_opt_out_mid_way_ends_texting(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        st = await case.send("text_opt_out")
        assert st.visit.text_opted_out
        st = await case.stage("outbound_calls")
        assert st.attempts["texts"] == 1
        await case.until(lambda s: s.attempts.get("calls") == 1)
        assert case.keys("text") == ["visit1/text/1"]


async def test_hazardous_skips_remote_fix_and_texts(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(case_reason="system_failure",
                                      hazard={"water_in_panel": True}))
        st = await case.stage("outbound_calls")
        assert st.hazardous
        assert "self_scheduling_texts" not in stages(st)
        assert case.keys("dispatch") == ["priority-dispatch"]
        assert case.records("dispatch")[0].payload["priority"] == "P1"
        assert case.records("remote_fix_request") == []
        assert (await case.search_attributes())["Hazardous"] is True


async def test_appointment_reminder_and_outcome_reminder(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await case.book()
        st = await case.stage("appointment_scheduled")
        assert st.waiting_for == "appointment reminder time"
        appt = st.visit.appointment
        assert appt is not None
        assert st.next_deadline == appt.window_start - timedelta(hours=24)
        st = await case.fire_next_timer()
        await case.settle(lambda s: s.visit.reminders_sent == 1)
        assert case.keys("text")[-1] == "visit1/appointment-reminder/1"
        st = await case.until(lambda s: s.stage == "pending_appt_findings")
        assert st.next_deadline == appt.window_end + timedelta(days=2)
        await case.fire_next_timer()
        await case.settle(lambda s: len(case.keys("assignment")) == 1)
        assert case.keys("assignment") == ["visit1/outcome-reminder/1"]
        st = await case.status()
        assert st.stage == "pending_appt_findings"  # it keeps waiting


async def test_completed_healthy_with_asset_update_resolves(om: CaseHarness) -> None:
    async with om.worker(health_stand_in(True)):
        case = await _to_texts(om)
        await _to_findings(case)
        st = await case.send("appointment_outcome", appointment_id="APT-1", result="completed",
                             asset_update_needed=True)
        assert st.stage == "pending_performance_validation"
        assert st.next_deadline is not None
        st = await case.fire_next_timer()
        result = await case.result()
        assert result.outcome == "resolved"
        assert case.keys("asset_update") == ["asset-update"]
        assert case.keys("health_check_request") == []  # the stand-in replaced it


async def test_health_reported_by_event_and_no_asset_update(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await _to_findings(case)
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed")
        st = await case.send("system_health_reported", healthy=True)
        assert st.outcome == "resolved"
        assert case.records("asset_update") == []


async def test_health_unknown_waits_for_report_with_reminder(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await _to_findings(case)
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed")
        st = await case.fire_next_timer()  # 7 days of production; monitoring has no answer
        st = await case.settle(lambda s: s.waiting_for == "system health report")
        assert case.keys("health_check_request") == ["visit1/health-check"]
        await case.fire_next_timer()
        await case.settle(lambda s: "health-reminder/1" in case.keys("assignment"))
        st = await case.send("system_health_reported", healthy=True)
        assert st.outcome == "resolved"


async def test_unhealthy_is_a_failed_appointment_back_to_scheduling(om: CaseHarness) -> None:
    async with om.worker(health_stand_in(False)):
        case = await _to_texts(om)
        await _to_findings(case)
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed")
        st = await case.until(lambda s: s.stage == "self_scheduling_texts")
        assert st.attempts["failed_appointments"] == 1
        assert st.visit.visit_no == 2
        await case.settle(lambda s: s.attempts.get("texts") == 2)
        assert [k for k in case.keys("text") if "/text/" in k] == ["visit1/text/1",
                                                                    "visit2/text/1"]


async def test_not_completed_goes_back_to_scheduling(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await _to_findings(case)
        st = await case.send("appointment_outcome", appointment_id="APT-1",
                             result="not_completed")
        assert st.attempts["failed_appointments"] == 1
        st = await case.stage("self_scheduling_texts")
        assert st.visit.appointment is None


async def test_follow_up_with_clear_path_schedules_again(om: CaseHarness) -> None:
    async with om.worker():
        case, _ = await _follow_up(om, clear_path=True, equipment_available=True)
        st = await case.stage("self_scheduling_texts")
        assert "failed_appointments" not in st.attempts
        assert st.visit.visit_no == 2


async def test_follow_up_without_clear_path_goes_to_ses_review(om: CaseHarness) -> None:
    async with om.worker():
        case, st = await _follow_up(om, clear_path=False)
        assert st.stage == "pending_findings_review"
        review = case.records("assignment")[-1]
        assert review.payload["assignee"] == "ses_support"
        st = await case.send("findings_reviewed", clear_path=True)
        st = await case.stage("self_scheduling_texts")


async def test_ses_review_without_clear_path_escalates(om: CaseHarness) -> None:
    async with om.worker():
        case, _ = await _follow_up(om, clear_path=False)
        await case.send("findings_reviewed", clear_path=False)
        st = await case.stage("installer_routing", "findings_review", "dispatched_to_branch")
        assert st.process == "om_manual"
        assert st.escalation_reason and "no clear path" in st.escalation_reason


async def test_equipment_wait_with_weekly_eta_check(om: CaseHarness) -> None:
    async with om.worker():
        case, st = await _follow_up(om, clear_path=True, equipment_available=False)
        assert st.stage == "awaiting_replacement_equipment"
        now = await case.env.get_current_time()
        assert st.next_deadline is not None
        assert abs((st.next_deadline - now) - timedelta(days=7)) < timedelta(minutes=1)
        await case.fire_next_timer()
        await case.fire_next_timer()
        st = await case.settle(lambda s: s.attempts.get("equipment_eta_checks") == 2)
        assert [k for k in case.keys("assignment") if "eta-check" in k] == [
            "eta-check/1", "eta-check/2"]
        await case.send("equipment_available")
        st = await case.stage("self_scheduling_texts")


async def test_second_failed_appointment_continues_as_manual(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await _to_findings(case, "APT-1")
        await case.send("appointment_outcome", appointment_id="APT-1", result="not_completed")
        await case.stage("self_scheduling_texts")
        await _to_findings(case, "APT-2")
        await case.send("appointment_outcome", appointment_id="APT-2", result="not_completed")
        st = await case.stage("dispatched_to_branch", "findings_review")
        assert st.process == "om_manual" and st.runs == 2
        assert st.escalated and st.attempts["failed_appointments"] == 2
        assert st.escalation_reason == "2 failed appointments (last: appointment not completed)"
        assert "closed" in stages(st)  # the simplified run closed as escalated_to_manual
        desc = await case.handle.describe()
        assert desc.workflow_type == "OmManualWorkflow"
        sa = await case.search_attributes()
        assert sa["ProcessType"] == "om_manual" and sa["Escalated"] is True
        assert "CaseOutcome" not in sa
        # the case carried everything: both visits' texts are in the one store, once each
        assert case.keys("fs_case") == ["fs-case"]


async def test_reschedule_moves_the_window(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om)
        await case.book("APT-1")
        await case.stage("appointment_scheduled")
        await case.book("APT-2", in_hours=120)
        st = await case.settle(lambda s: s.visit.appointment is not None
                               and s.visit.appointment.appointment_id == "APT-2")
        assert st.attempts["reschedules"] == 1


async def test_contact_hours_push_a_text_to_the_next_morning(om: CaseHarness) -> None:
    async with om.worker():
        now = await om.env.get_current_time()
        tz = zone_where_local_hour_is(21, now)  # 21:xx at the homeowner's: after hours
        report = om_input(policy={"contact_hours": {"start": "08:00", "end": "20:00"}})
        report.homeowner.time_zone = tz
        case = await om.open(report)
        await case.stage("problem_identified")
        st = await case.send("remote_fix_result", resolved=False)
        st = await case.stage("self_scheduling_texts")
        assert st.waiting_for == "contact hours for text 1" and case.records("text") == []
        local = now.astimezone(ZoneInfo(tz))
        next_morning = datetime.combine(local.date() + timedelta(days=1), time(8),
                                        tzinfo=ZoneInfo(tz))
        assert st.next_deadline == next_morning
        assert (await case.search_attributes())["NextDeadline"] == next_morning
        await case.fire_next_timer()
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        sent = datetime.fromisoformat(case.records("text")[0].created_at)
        assert next_morning <= sent < next_morning + timedelta(minutes=1)


async def test_reached_by_phone_but_never_booked_goes_to_the_manual_track(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts(om, policy={"text_attempts": 0})
        await case.until(lambda s: s.attempts.get("calls") == 1)
        await case.send("call_attempt_result", reached=True, scheduled=False)
        st = await case.until(lambda s: s.process == "om_manual")
        st = await case.stage("findings_review")
        assert st.escalation_reason == "homeowner reached by phone but no appointment booked"
        assert st.attempts["calls"] == 3 and st.attempts["calls_reached"] == 1
        assert case.records("letter") == []  # reached: no PG void notice
