"""The contract of spec section 2 on a running case: event_id de-duplication, rejection of
malformed, unknown and out-of-stage events (by Update: an error naming the problem and no trace
in history; by Signal: recorded in `rejected_events`, never fatal), and the ops commands."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from starter.client import EventRejected, run_ops, send_event
from tests.workflows.harness import CaseHarness, OmDriver, om_input, stages

UPDATE_EVENTS = {EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED,
                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED}


async def _open(om: CaseHarness) -> OmDriver:
    case = await om.open(om_input())
    await case.stage("problem_identified")
    return case


async def _update_events(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return sum(1 for e in history.events if e.event_type in UPDATE_EVENTS)


async def _rejected(case: OmDriver, name: str, payload: dict[str, Any]) -> str:
    with pytest.raises(EventRejected) as err:
        await send_event(case.client, case.case_id, name, payload)
    return str(err.value)


async def test_a_repeated_event_id_is_acknowledged_and_ignored(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        st = await case.send("remote_fix_result", event_id="mon-1", resolved=False)
        assert st.outcome is None
        # A retry of the same event, even with a different body, changes nothing.
        st = await case.send("remote_fix_result", event_id="mon-1", resolved=True)
        assert st.outcome is None
        await case.signal("remote_fix_result", event_id="mon-1", resolved=True)
        st = await case.settle()
        assert st.outcome is None and st.rejected_events == []
        assert [e.event_id for e in st.events if e.name == "remote_fix_result"] == ["mon-1"]


@pytest.mark.parametrize(("payload", "names"), [
    ({"event_id": "e1", "resolved": "maybe"}, "resolved: Input should be a valid boolean"),
    ({"event_id": "e1"}, "resolved: Field required"),
    ({"resolved": True}, "event_id: Field required"),
    ({"event_id": "e1", "resolved": True, "fixed_by": "x"}, "fixed_by: Extra inputs"),
], ids=["wrong-type", "missing-field", "missing-event-id", "unknown-field"])
async def test_malformed_update_is_rejected_naming_the_field_and_leaves_no_trace(
        om: CaseHarness, payload: dict[str, Any], names: str) -> None:
    async with om.worker():
        case = await _open(om)
        before = await case.status()
        message = await _rejected(case, "remote_fix_result", payload)
        assert message.startswith("remote_fix_result: ") and names in message
        assert await _update_events(case.handle) == 0
        assert await case.status() == before


async def test_out_of_stage_update_is_rejected_with_the_stage(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        message = await _rejected(case, "appointment_outcome",
                                  {"event_id": "e1", "appointment_id": "APT-1",
                                   "result": "completed"})
        assert message == ("appointment_outcome does not fit stage 'problem_identified' "
                           "(accepted in: appointment_scheduled, pending_appt_findings)")
        assert await _update_events(case.handle) == 0


async def test_unknown_event_is_rejected_listing_the_known_ones(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        message = await _rejected(case, "remote_fix_done", {"event_id": "e1"})
        assert message.startswith("unknown event 'remote_fix_done' for om_simplified")
        assert "remote_fix_result" in message


async def test_bad_signals_are_recorded_and_the_case_goes_on(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        await case.signal("remote_fix_result", event_id="s1", resolved="maybe")
        await case.signal("appointment_outcome", event_id="s2", appointment_id="APT-1",
                          result="completed")
        await case.signal("no_such_event", event_id="s3")
        st = await case.settle(lambda s: len(s.rejected_events) == 3)
        by_id = {r.event_id: r.reason for r in st.rejected_events}
        assert "resolved: Input should be a valid boolean" in by_id["s1"]
        assert "does not fit stage 'problem_identified'" in by_id["s2"]
        assert by_id["s3"].startswith("unknown event 'no_such_event'")
        assert st.stage == "problem_identified" and st.outcome is None
        # The case still takes good events, by either door.
        await case.signal("remote_fix_result", event_id="s4", resolved=True)
        assert (await case.result()).outcome == "resolved_remotely"


async def test_events_to_a_closed_case_are_rejected_clearly(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        await case.send("remote_fix_result", resolved=True)
        await case.result()
        with pytest.raises(EventRejected, match=r"is closed \(COMPLETED\)"):
            await case.send("text_opt_out")


async def test_ops_add_note_and_cancel(om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts_wait(om)
        await run_ops(case.client, case.case_id, "add_note",
                      {"text": "homeowner prefers mornings", "actor": "ops-7"})
        st = await case.status()
        assert [(o.command, o.text, o.actor) for o in st.ops] == [
            ("add_note", "homeowner prefers mornings", "ops-7")]
        await run_ops(case.client, case.case_id, "cancel_case",
                      {"reason": "duplicate of another case", "event_id": "ops-c1"})
        st = await case.status()
        assert st.outcome == "cancelled" and stages(st)[-1] == "closed"
        assert st.ops[-1].command == "cancel_case"
        assert (await case.result()).outcome == "cancelled"
        sa = await case.search_attributes()
        assert sa["CaseOutcome"] == "cancelled" and "NextDeadline" not in sa


async def _to_texts_wait(om: CaseHarness) -> OmDriver:
    case = await _open(om)
    await case.send("remote_fix_result", resolved=False)
    await case.settle(lambda s: s.attempts.get("texts") == 1)
    return case


async def test_ops_commands_are_validated(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        client = case.client
        with pytest.raises(EventRejected, match="unknown ops command 'close'"):
            await run_ops(client, case.case_id, "close", {"reason": "x"})
        with pytest.raises(EventRejected, match="cancel_case: reason: String should have at "
                                                "least 1 character"):
            await run_ops(client, case.case_id, "cancel_case", {"reason": ""})
        with pytest.raises(EventRejected, match="escalate: reason: Field required"):
            await run_ops(client, case.case_id, "escalate", {"why": "x"})
        with pytest.raises(EventRejected, match="add_note: text: Field required"):
            await run_ops(client, case.case_id, "add_note", {})
        assert (await case.status()).outcome is None
        assert await _update_events(case.handle) == 0


async def test_ops_on_a_closed_case_are_rejected(om: CaseHarness) -> None:
    async with om.worker():
        case = await _open(om)
        await run_ops(case.client, case.case_id, "cancel_case", {"reason": "test"})
        with pytest.raises(EventRejected, match=r"is closed \(COMPLETED\)"):
            await run_ops(case.client, case.case_id, "escalate", {"reason": "late"})


async def test_ops_escalate_on_the_simplified_track_continues_as_manual(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await _to_texts_wait(om)
        await run_ops(om.client, case.case_id, "escalate",
                      {"reason": "homeowner asked for a manager"})
        st = await case.stage("findings_review")
        assert st.process == "om_manual" and st.escalated
        assert st.escalation_reason is not None and "homeowner asked" in st.escalation_reason
        assert [o.command for o in st.ops] == ["escalate"]
