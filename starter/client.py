"""Typed helpers over the Temporal client: open a case, send events and ops commands, read a
case's status. The CLI, the demo seeding and the tests all use these."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.om import OmCase, OmCaseInput, report_fingerprint
from domain.rules.eligibility import intake_decision
from workflows.om_case import static_summary

OM_WORKFLOW_TYPES = {"simplified": "OmSimplifiedWorkflow", "manual": "OmManualWorkflow"}
OPS_COMMANDS = ("cancel_case", "escalate", "add_note")


class EventRejected(Exception):
    """The case rejected an event or ops command; the message says why."""


@dataclass(frozen=True)
class OpenedCase:
    """What opening (or joining) a case did."""

    case_id: str
    workflow_type: str
    track: str
    reasons: list[str]
    hazardous: bool
    run_id: str | None


def om_case_id(system_id: str) -> str:
    """The workflow ID of a system's O&M case (spec section 3)."""
    return f"om-{system_id}"


async def open_om_case(client: Client, case: OmCaseInput, task_queue: str) -> OpenedCase:
    """Open the O&M case of the report's system, or join the open one (signal-with-start of
    `issue_reported`): a second report never creates a second case."""
    decision = intake_decision(case.report(), case.policy)
    workflow_type = OM_WORKFLOW_TYPES[decision.track]
    case_id = om_case_id(case.system_id)
    event = {"event_id": f"report-{report_fingerprint(case.report())}",
             "report": case.report().model_dump(mode="json")}
    handle: WorkflowHandle[Any, Any] = await client.start_workflow(
        workflow_type, case, id=case_id, task_queue=task_queue,
        start_signal="issue_reported", start_signal_args=[event],
        static_summary=static_summary(case.system_id, case.market,
                                      f"O&M {decision.track}"),
        static_details=(f"Track: {decision.track}. Reasons: "
                        f"{'; '.join(decision.reasons) or 'eligible'}. "
                        f"Hazardous: {decision.hazardous}."),
    )
    return OpenedCase(case_id=case_id, workflow_type=workflow_type, track=decision.track,
                      reasons=decision.reasons, hazardous=decision.hazardous,
                      run_id=handle.result_run_id)


def _rejection(err: WorkflowUpdateFailedError) -> EventRejected:
    cause = err.cause
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
    return EventRejected(message)


async def send_event(client: Client, case_id: str, name: str, payload: dict[str, Any],
                     *, signal: bool = False) -> OmCase | None:
    """Send an event as an Update (returns the new status; raises `EventRejected`) or as a
    Signal (durable; returns None, a bad event lands in `status.rejected_events`)."""
    handle = client.get_workflow_handle(case_id)
    if signal:
        await handle.signal(name, payload)
        return None
    return await _update(handle, name, payload)


async def _update(handle: WorkflowHandle[Any, Any], name: str,
                  payload: dict[str, Any]) -> OmCase:
    """An Update whose failures all become `EventRejected` with a message for people: the
    case's own rejection, no such case, or a case that has closed."""
    try:
        result: OmCase = await handle.execute_update(name, payload, result_type=OmCase)
        return result
    except WorkflowUpdateFailedError as err:
        raise _rejection(err) from None
    except RPCError as err:
        raise await _not_open(handle, err) from None


async def _not_open(handle: WorkflowHandle[Any, Any], err: RPCError) -> Exception:
    """Why an Update could not reach the case: it does not exist, or it has closed (the
    servers word this differently, so ask for the execution's state)."""
    client = handle._client
    try:
        # The raw call: decoding every search attribute is not needed to read the state.
        desc = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                             execution=WorkflowExecution(workflow_id=handle.id)))
    except RPCError as describe_err:
        if describe_err.status == RPCStatusCode.NOT_FOUND:
            return EventRejected(f"there is no case {handle.id}")
        return err
    status = WorkflowExecutionStatus(desc.workflow_execution_info.status)
    if status != WorkflowExecutionStatus.RUNNING:
        return EventRejected(f"case {handle.id} is closed ({status.name}); events and ops "
                             "commands reach open cases only (read its outcome with `status`)")
    return err


async def run_ops(client: Client, case_id: str, command: str,
                  payload: dict[str, Any]) -> OmCase:
    """Run an ops command (`cancel_case`, `escalate`, `add_note`) and return the status."""
    if command not in OPS_COMMANDS:
        raise EventRejected(f"unknown ops command {command!r}; known: {', '.join(OPS_COMMANDS)}")
    return await _update(client.get_workflow_handle(case_id), command, payload)


async def case_status(client: Client, case_id: str) -> OmCase:
    """The case's `status` query."""
    status: OmCase = await client.get_workflow_handle(case_id).query("status",
                                                                     result_type=OmCase)
    return status


async def wait_for_stage(client: Client, case_id: str, stages: set[str],
                         timeout: float = 30.0) -> OmCase:
    """Poll the status until the case is in one of `stages` (for scripts that send the next
    event only once the case is ready for it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await case_status(client, case_id)
        if status.stage in stages:
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{case_id} is in stage {status.stage!r}, not {sorted(stages)}")
        await asyncio.sleep(0.2)
