"""What an operator reads in the Web UI: a summary on every activity and timer, current
details kept up to date, and no personal data in any of it."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.converter import DataConverter

from tests.workflows.harness import CaseHarness, OmDriver, om_input

PERSONAL = ("Ana", "Ruiz", "+14155550100", "4155550100", "ana@example.com", "1 Main St")


async def _details(case: OmDriver) -> str:
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
