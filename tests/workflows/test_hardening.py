"""What the chaos run and the integrators' trial found, one test each: races between an event
and the side effect it answers, state that grows with input, retries across runs and after
close, payloads that are not objects, a start with bad input, durable reminder rounds, timeouts
sized to the work, call spacing as policy."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from starter.client import InvalidEvent, run_ops, send_event
from tests.workflows.harness import CaseHarness, Gated, OmDriver, om_input

MANUAL: dict[str, Any] = {"acquisition_channel": "new_homes"}


async def test_a_dialer_result_arriving_with_its_call_is_accepted(om: CaseHarness) -> None:
    held = Gated(om.activities, "call_task")
    async with om.worker(*held.stand_ins()):
        case = await om.open(om_input(policy={"text_attempts": 0}))
        await case.stage("problem_identified")
        await case.signal("remote_fix_result", resolved=False)
        # Calls go out on business days: on a weekend the first one waits for Monday.
        st = await case.settle(lambda s: s.stage == "outbound_calls")
        now = await om.env.get_current_time()
        if "call_task" not in held.entered and st.next_deadline and st.next_deadline > now:
            await om.env.sleep(st.next_deadline - now + timedelta(seconds=1))
        await held.reached("call_task")
        # The dialer answers before the task's completion reaches the case.
        result = asyncio.create_task(case.send("call_attempt_result", reached=True,
                                               scheduled=True))
        await asyncio.sleep(0.3)
        held.release()
        st = await result
        assert st.visit.booking_promised and st.rejected_events == []


async def test_a_stop_arriving_with_a_text_ends_texting_at_once(om: CaseHarness) -> None:
    held = Gated(om.activities, "text")
    async with om.worker(*held.stand_ins()):
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.signal("remote_fix_result", resolved=False)
        await held.reached("text")
        await case.signal("text_opt_out")
        await case.settle(lambda s: s.visit.text_opted_out)
        held.release()
        # No 48 h wait after the text: the case goes straight to the calls.
        st = await case.settle(lambda s: s.stage == "outbound_calls")
        assert st.attempts["texts"] == 1 and case.keys("text") == ["visit1/text/1"]


async def test_floods_and_huge_payloads_leave_the_case_manageable(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        name = "x" * 950
        for i in range(0, 1200, 100):
            await asyncio.gather(*(case.handle.signal(name, {"event_id": f"f{i + j}"})
                                   for j in range(100)))
        await case.handle.signal("remote_fix_result", {"event_id": "big", "resolved": True,
                                                       "blob": "y" * 1_500_000})
        st = await case.settle(lambda s: s.rejected_total == 1201, seconds=60)
        assert len(st.rejected_events) == 50 and st.outcome is None
        status_bytes = len(st.model_dump_json())
        assert status_bytes < 100_000, status_bytes
        assert "yyyy" not in st.model_dump_json()
        answer = await run_ops(om.client, case.case_id, "cancel_case", {"reason": "flooded"})
        assert answer.outcome == "cancelled"


async def _escalated_by_failed_appointments(case: OmDriver) -> None:
    for n, event_id in ((1, "tech-1"), (2, "tech-2")):
        await case.book(f"APT-{n}")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", event_id=event_id, appointment_id=f"APT-{n}",
                        result="not_completed")


async def test_a_retried_event_id_is_acknowledged_after_continue_as_new_and_after_close(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await _escalated_by_failed_appointments(case)
        st = await case.stage("findings_review")
        assert st.process == "om_manual"
        # The manual track takes no appointment_outcome, but this one is a retry.
        retry = {"event_id": "tech-2", "appointment_id": "APT-2", "result": "not_completed"}
        answer = await send_event(om.client, case.case_id, "appointment_outcome", retry)
        assert answer is not None and answer.duplicate
        await run_ops(om.client, case.case_id, "cancel_case", {"reason": "test",
                                                               "event_id": "ops-1"})
        await case.result()
        answer = await send_event(om.client, case.case_id, "appointment_outcome", retry)
        assert answer is not None and answer.duplicate and answer.outcome == "cancelled"


async def test_ops_payloads_that_are_not_objects_are_rejected_naming_the_problem(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        for payload in (["homeowner asked"], "homeowner asked", 42):
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await case.handle.execute_update("escalate", payload)
            cause = err.value.cause
            assert isinstance(cause, ApplicationError) and cause.non_retryable
            assert cause.message == "escalate: expected one JSON object as the argument"
        with pytest.raises(InvalidEvent, match="escalate: reason: Field required"):
            await run_ops(om.client, case.case_id, "escalate", {"why": "x"})


async def test_a_start_with_bad_input_fails_at_once_naming_the_field(
        om: CaseHarness, caplog: pytest.LogCaptureFixture) -> None:
    raw = om_input().model_dump(mode="json")
    raw["homeowner"]["phone"] = "+1 555 7319 999 12"
    caplog.set_level(logging.DEBUG)
    async with om.worker():
        handle = await om.client.start_workflow("OmSimplifiedWorkflow", raw,
                                                id=f"om-BAD-{uuid.uuid4()}",
                                                task_queue=om.task_queue)
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
        cause = err.value.cause
        assert isinstance(cause, ApplicationError) and cause.non_retryable
        assert "homeowner.phone" in cause.message and "7319" not in cause.message
        history = await handle.fetch_history()
        types = [e.event_type for e in history.events]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in types
        assert types[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    assert "7319" not in caplog.text


async def test_a_second_liability_round_reminds_again(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(**MANUAL))
        await case.stage("findings_review")
        await case.send("findings_submitted", summary="cracked module")
        await case.fire_next_timer()
        await case.settle(lambda s: "manual/liability-reminder/1" in case.keys("assignment"))
        await case.send("liability_determined", liable_party="company", decision="settle")
        await case.send("settlement_declined")
        st = await case.stage("liability_determination")
        assert st.reminders["liability"].count == 1 and st.reminders["liability"].next_due
        await case.fire_next_timer()
        st = await case.settle(
            lambda s: "manual/liability-reminder/2" in case.keys("assignment"))
        assert st.reminders["liability"].count == 2
        assert [k for k in case.keys("assignment") if "liability-reminder" in k] == [
            "manual/liability-reminder/1", "manual/liability-reminder/2"]


async def test_side_effect_timeouts_are_sized_to_the_work(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        history = await case.handle.fetch_history()
        scheduled = [e.activity_task_scheduled_event_attributes for e in history.events
                     if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
        assert scheduled
        assert all(a.start_to_close_timeout.ToTimedelta() <= timedelta(seconds=30)
                   for a in scheduled)


async def test_call_spacing_is_a_policy_field(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(policy={"text_attempts": 0,
                                              "call_spacing_business_days": 0}))
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        st = await case.until(lambda s: s.outcome is not None, max_timers=3)
        assert st.outcome == "unreachable_pg_void"
        calls = [datetime.fromisoformat(r.created_at) for r in case.records("call_task")]
        assert len(calls) == 3 and calls[-1] - calls[0] < timedelta(minutes=1)



async def test_a_repeated_ops_command_is_a_no_op(om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input(**MANUAL))
        await case.stage("findings_review")
        command = {"reason": "homeowner called three times", "event_id": "ops-esc-1"}
        first = await run_ops(om.client, case.case_id, "escalate", command)
        again = await run_ops(om.client, case.case_id, "escalate", command)
        assert not first.duplicate and again.duplicate
        note = {"text": "prefers mornings", "event_id": "ops-note-1"}
        await run_ops(om.client, case.case_id, "add_note", note)
        assert (await run_ops(om.client, case.case_id, "add_note", note)).duplicate
        st = await case.status()
        assert [o.command for o in st.ops] == ["escalate", "add_note"]
        assert [r.payload["assignee"] for r in case.records("assignment")].count(
            "ses_support") == 1


async def test_an_update_answers_after_the_case_acted_on_the_event(om: CaseHarness) -> None:
    """A remote-fix result that arrives while the remote-fix request is still in flight (so
    before the case waits for it): the answer comes once the case acted on it (the FS case,
    then scheduling), not when the case took it off its queue."""
    held = Gated(om.activities, "remote_fix_request", "fs_case")
    async with om.worker(*held.stand_ins()):
        case = await om.open(om_input())
        await held.reached("remote_fix_request")
        answer = asyncio.create_task(send_event(om.client, case.case_id, "remote_fix_result",
                                                {"event_id": "fix-1", "resolved": False}))
        await case.settle(lambda s: s.events_total == 2)  # the report and the result
        held.hold.discard("remote_fix_request")
        held.release()
        held.gate.clear()
        held.hold = {"fs_case"}
        await held.reached("fs_case")
        await asyncio.sleep(0.3)
        assert not answer.done()  # taken by the case, not yet acted on
        held.release()
        summary = await answer
        assert summary is not None and summary.stage == "self_scheduling_texts"
