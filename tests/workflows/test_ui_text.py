"""What an operator reads in the Web UI: a summary on every activity and timer, current
details kept up to date, and no personal data in any of it."""

from __future__ import annotations

from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.converter import DataConverter

from domain.followup import PartnerFollowUp
from domain.inquiry import InquiryCase
from domain.processes import FOLLOWUP, INQUIRY, REACTIVATION
from domain.reactivation import Reactivation
from starter.client import run_ops
from tests.clock import move_to
from tests.workflows.harness import (
    CaseDriver,
    CaseHarness,
    OmDriver,
    followup_input,
    inquiry_input,
    om_input,
    reactivation_input,
    rr_input,
)

PERSONAL = ("Ana", "Ruiz", "+14155550100", "4155550100", "ana@example.com", "1 Main St")


async def _details(case: OmDriver | CaseDriver[Any]) -> str:
    metadata = await case.handle.query("__temporal_workflow_metadata",
                                       result_type=WorkflowMetadata)
    return str(metadata.current_details)


async def test_summaries_and_details_say_what_happens_without_personal_data(
        om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        details = await _details(case)
        assert "**Stage:** problem_identified" in details
        assert "**Waiting for:** remote fix result" in details
        await case.send("remote_fix_result", resolved=False)
        await case.settle(lambda s: s.attempts.get("texts") == 1)
        await case.fire_next_timer()
        await case.settle(lambda s: s.attempts.get("texts") == 2)
        details = await _details(case)
        assert "**Stage:** self_scheduling_texts" in details
        assert "**Counters:** texts 2" in details
        assert "**System:** SYS-" in details

        history = await case.handle.fetch_history()
        converter = DataConverter.default.payload_converter
        summaries: list[str] = []
        for event in history.events:
            if event.event_type in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                                    EventType.EVENT_TYPE_TIMER_STARTED):
                assert event.user_metadata.HasField("summary"), event.event_type
                summaries.append(converter.from_payload(event.user_metadata.summary, str))
        assert "text attempt 1 of 3" in summaries and "text attempt 2 of 3" in summaries
        assert "wait 24 h for the remote fix" in summaries
        assert "wait 2 days for booking after text 1 of 3" in summaries
        for text in [*summaries, details]:
            assert not any(p in text for p in PERSONAL), text


async def _summaries(case: CaseDriver[Any]) -> list[str]:
    """Every activity's and timer's summary; each one must have one."""
    history = await case.handle.fetch_history()
    converter = DataConverter.default.payload_converter
    found = []
    for event in history.events:
        if event.event_type in (EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                                EventType.EVENT_TYPE_TIMER_STARTED):
            assert event.user_metadata.HasField("summary"), event.event_type
            found.append(converter.from_payload(event.user_metadata.summary, str))
    return found


async def test_support_processes_say_what_happens_without_personal_data(
        om: CaseHarness) -> None:
    """The reactivation, follow-up and inquiry pages: summaries on every step, current
    details, the start summary, and nothing personal (the concern and best time included)."""
    personal = (*PERSONAL, "never connected", "after 5 pm")
    async with om.worker():
        follow = await om.open_process(FOLLOWUP, followup_input(concert_beam=True,
                                                                party_email=None),
                                       PartnerFollowUp)
        await follow.stage("party_contacted")
        await follow.settle(lambda s: s.reminders["commitment"].count == 1)
        react = await om.open_process(REACTIVATION, reactivation_input(), Reactivation)
        await react.stage("back_office_verification")
        inquiry = await om.open_process(INQUIRY, inquiry_input(inquiry="outage"), InquiryCase)
        await inquiry.stage("closed")

        texts = [*await _summaries(follow), *await _summaries(react),
                 *await _summaries(inquiry)]
        assert "e-mail Green Tech Renewables (unresponsive_beam)" in texts
        assert "commitment 1 to the homeowner" in texts
        assert "assign the payment verification to the back office" in texts
        details = await _details(follow)
        assert "**Commitments sent:** 1" in details
        assert "Green Tech Renewables to make contact" in details
        texts += [details, await _details(react)]
        converter = DataConverter.default.payload_converter
        for case in (follow, react, inquiry):
            raw = await om.client.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=om.client.namespace,
                    execution=WorkflowExecution(workflow_id=case.case_id)))
            texts.append(converter.from_payload(
                raw.execution_config.user_metadata.summary, str))
        assert "follow-up with Green Tech Renewables (Concert/Beam)" in texts[-3]
        for text in texts:
            assert not any(p in text for p in personal), text


async def test_a_message_waiting_for_the_morning_and_a_dropped_one_say_so(
        om: CaseHarness) -> None:
    """The outbox on the case page: what waits for contact hours (the timer names the local
    time and the zone), and what was dropped and why."""
    await move_to(om.env, "tue", time(23))
    async with om.worker():
        case = await om.open_project(rr_input())
        await case.stage("removal")
        details = await _details(case)
        assert ("**Messages waiting for contact hours:** 1 (next: tell the homeowner the "
                "project has started)") in details
        assert ("text at 08:00 America/Los_Angeles: tell the homeowner the project has "
                "started") in await _summaries(case)
        await run_ops(om.client, case.case_id, "cancel_case", {"reason": "duplicate"})
        await case.result()
        details = await _details(case)
        assert ("**Messages dropped:** 1 (last: tell the homeowner the project has started: "
                "the case was cancelled)") in details
        assert not any(p in details for p in PERSONAL), details


async def test_the_case_page_leads_with_the_case(om: CaseHarness) -> None:
    """Issue 20: the status answers with what an operator reads first (stage, outcome, waiting
    for and on, deadline, counters) and the bookkeeping (the holiday calendar, seen event IDs,
    the queue) last; the details show operator notes, flags as words and the deadline in the
    homeowner's local time beside UTC."""
    import json

    from starter.client import run_ops
    from tests.workflows.harness import claim_input

    async with om.worker():
        case = await om.open_claim(claim_input())
        await case.stage("investigation")
        await run_ops(om.client, case.case_id, "add_note", {"text": "called the installer"})
        await run_ops(om.client, case.case_id, "escalate", {"reason": "VIP"})
        st = await case.settle(lambda s: s.escalated and s.next_deadline is not None)
        keys = list(json.loads(st.model_dump_json()))
        assert keys[:8] == ["case_id", "process", "stage", "outcome", "waiting_for",
                            "waiting_on", "next_deadline", "stage_entered_at"]
        assert keys[-3:] == ["pending", "seen_event_ids", "holidays"]
        details = await _details(case)
        assert "**Notes:** 1" in details and "called the installer" in details
        assert "**Flags:** escalated" in details and "escalated=" not in details
        assert st.next_deadline is not None and st.time_zone
        assert "(" + st.next_deadline.astimezone(ZoneInfo(st.time_zone)).strftime(
            "%a %H:%M %Z") + ")" in details
