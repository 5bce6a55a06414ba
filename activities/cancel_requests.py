"""Who asked Temporal to cancel a case, and why (issue 20): a cancel from the Web UI or `temporal
workflow cancel` reaches the workflow as a bare cancellation; its identity and reason are only
in the history's `WorkflowExecutionCancelRequested` event, which workflow code cannot read. This
activity reads it through the client, so the case's ops record names the operator."""

from __future__ import annotations

from temporalio import activity
from temporalio.api.enums.v1 import EventType

from domain.effects import CancelRequest, CancelRequestDetails


async def cancel_request_details(req: CancelRequest) -> CancelRequestDetails:
    """The identity and reason of the run's latest cancel request (empty when none is found)."""
    handle = activity.client().get_workflow_handle(req.case_id, run_id=req.run_id)
    found = CancelRequestDetails()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            attrs = event.workflow_execution_cancel_requested_event_attributes
            found = CancelRequestDetails(identity=attrs.identity[:200] or None,
                                         reason=attrs.cause[:2000] or None)
    return found
