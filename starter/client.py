"""Typed helpers over the Temporal client for any process in `domain.processes.PROCESSES`:
open a case, send events and ops commands, read a case's status, wait for a stage. The CLI,
the demo seeding, the benchmarks and the tests all use these.

Errors come as one of three kinds, so callers (and the CLI's exit codes) can tell them apart:
`InvalidEvent` (the payload or name is wrong: fix it), `EventRejected` (it does not fit the
case now: wrong stage, closed case, no such case) and `ServerUnavailable` (try again later).
An Update the server aborted because a signal raced it is retried here with the same
`event_id`, which the case de-duplicates."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.case import CaseSummary
from domain.events import OPS_COMMANDS
from domain.processes import ProcessSpec, process_of
from starter.worklist import visible_case
from workflows.search_attributes import (
    CASE_ID,
    CASE_STAGE,
    SYSTEM_ID,
)

# How often, and for how long, a transient Update failure is retried with the same event_id.
UPDATE_RETRIES = 6
UPDATE_RETRY_BASE_S = 0.25


class EventRejected(Exception):
    """The case rejected an event or ops command; the message says why."""


class InvalidEvent(EventRejected):
    """The event's name or payload is wrong (a model rejection)."""


class CaseClosed(EventRejected):
    """The case has closed: events and ops commands reach open cases only."""


class CaseNotFound(EventRejected):
    """There is no case with that ID."""


class InvalidRequest(InvalidEvent):
    """An opening whose data cannot be right today (a payment date in the future): refused
    before any case starts, naming the field."""


class CaseIdConflict(EventRejected):
    """The case ID is taken by an open case of other business keys (`rr-A-B-C` of system
    `A-B` and project `C`, and of system `A` and project `B-C`): refused, never joined."""


class ServerUnavailable(Exception):
    """The Temporal server could not be reached, or did not answer in time."""


class ClosedCaseUnreadable(ServerUnavailable):
    """The case is closed and what it had taken cannot be read now (no result, no worker):
    whether an event was a retry cannot be told yet."""


@dataclass(frozen=True)
class OpenedCase:
    """What opening (or joining) a case did."""

    case_id: str
    workflow_type: str
    run_id: str | None
    summary: str
    # The case was open already and this opening joined it (no second case); None when the
    # opening was a signal-with-start (O&M), which reaches the case either way and does not
    # say which it did.
    joined: bool | None = False
    # A one-shot case (an inquiry) that has already run: its outcome, and nothing ran again.
    outcome: str | None = None


async def open_case(client: Client, process: ProcessSpec, inp: BaseModel,
                    task_queue: str, *, now: datetime | None = None) -> OpenedCase:
    """Open the case for `inp`, or join the open one: with a join event (O&M's
    `issue_reported`), by signal-with-start, so a second report never creates a second case;
    without one (a reactivation for the same contract), the open case is the answer
    (`joined`). A one-shot process (an inquiry) that has already run answers with that run's
    outcome and runs nothing again; an ID taken by an open case of other business keys raises
    `CaseIdConflict` (spec 2.3)."""
    if process.refuse_at_start is not None:
        # `now`: the clock the cases run on when it is not the wall clock (a test server).
        reason = process.refuse_at_start(inp, now or datetime.now(UTC))
        if reason:
            raise InvalidRequest(f"{process.input_model.__name__} rejected: {reason}")
    case_id = process.workflow_id(inp)
    workflow_type = process.start_type(inp)
    summary = process.summary(inp)
    system_id = getattr(inp, "system_id", None)
    kwargs: dict[str, Any] = {}
    if process.join_event is not None:
        name, payload = process.join_event(inp)
        kwargs = {"start_signal": name, "start_signal_args": [payload]}
    if process.one_shot:
        kwargs["id_reuse_policy"] = WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
    # Set at start, so a second opening can tell whose case holds the ID before the case's
    # first workflow task has run.
    attrs = [SearchAttributePair(CASE_ID, case_id),
             *([SearchAttributePair(SYSTEM_ID, system_id)] if system_id else [])]
    try:
        try:
            handle: WorkflowHandle[Any, Any] = await client.start_workflow(
                workflow_type, inp, id=case_id, task_queue=task_queue, static_summary=summary,
                search_attributes=TypedSearchAttributes(attrs), **kwargs)
        except RPCError as err:
            # A namespace whose attributes no worker has registered yet (a fresh server, the
            # case opened before any worker started): the case sets them itself once a
            # worker runs it; only the ID-conflict check of a second opening waits for that.
            if err.status != RPCStatusCode.INVALID_ARGUMENT or "search attribute" not in str(err):
                raise
            handle = await client.start_workflow(
                workflow_type, inp, id=case_id, task_queue=task_queue, static_summary=summary,
                **kwargs)
    except WorkflowAlreadyStartedError:
        return await _already_started(client, process, inp, case_id, workflow_type, summary,
                                      system_id)
    except RPCError as err:
        raise _transport(err) from None
    return OpenedCase(case_id=case_id, workflow_type=workflow_type,
                      run_id=handle.result_run_id, summary=summary,
                      joined=None if process.join_event is not None else False)


async def _already_started(client: Client, process: ProcessSpec, inp: BaseModel,
                           case_id: str, workflow_type: str, summary: str,
                           system_id: str | None) -> OpenedCase:
    """An opening whose ID is taken: the open case joined (unless its keys differ), or the
    one-shot case's earlier outcome."""
    try:
        desc = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                             execution=WorkflowExecution(workflow_id=case_id)))
    except RPCError as err:
        raise _transport(err) from None
    info = desc.workflow_execution_info
    running = WorkflowExecutionStatus(info.status) == WorkflowExecutionStatus.RUNNING
    # Read raw: the one attribute needed, whatever the others hold.
    raw = info.search_attributes.indexed_fields.get(SYSTEM_ID.name)
    theirs = json.loads(raw.data) if raw is not None and raw.data else None
    if process.id_joins_keys and running and system_id and theirs and theirs != system_id:
        raise CaseIdConflict(
            f"{case_id} is the ID of an open case of system {theirs}; this request is about "
            f"system {system_id}, and the two read as one ID: refused, not joined (give one of "
            "them another number)")
    if running and process.joined_event is not None:
        # What this opening brought is recorded in the open case, not dropped (spec 2.3).
        name, payload = process.joined_event(inp)
        try:
            await client.get_workflow_handle(case_id).signal(name, payload)
        except RPCError as err:
            raise _transport(err) from None
    outcome = None
    if process.one_shot and not running:
        done = await closed_case(client, case_id)
        if done is None:
            raise ClosedCaseUnreadable(f"{case_id} has already run and its outcome cannot be "
                                       "read now; retry later")
        outcome = done.outcome
    return OpenedCase(case_id=case_id, workflow_type=workflow_type, run_id=None,
                      summary=summary, joined=True, outcome=outcome)


def _transport(err: RPCError) -> Exception:
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return ServerUnavailable(f"the Temporal server did not answer ({err.message})")
    return err


def _rejection(err: WorkflowUpdateFailedError) -> EventRejected:
    cause = err.cause
    message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
    if isinstance(cause, ApplicationError) and cause.type in ("InvalidEvent", "InvalidPayload"):
        return InvalidEvent(message)
    if isinstance(cause, ApplicationError) and cause.type == "CaseClosed":
        return CaseClosed(message)
    return EventRejected(message)


async def send_event(client: Client, case_id: str, name: str, payload: dict[str, Any],
                     *, signal: bool = False) -> CaseSummary | None:
    """Send an event as an Update (returns the case's compact answer; raises `EventRejected`)
    or as a Signal (durable; returns None, a bad event lands in `status.rejected_events`)."""
    handle = client.get_workflow_handle(case_id)
    if signal:
        try:
            await handle.signal(name, payload)
        except RPCError as err:
            why = await _not_open(client, case_id, err)
            raise (why if isinstance(why, Exception) else EventRejected(str(why))) from None
        return None
    return await _update(client, case_id, name, payload)


@dataclass(frozen=True)
class Delivery:
    """How an event reached a case: as an Update with the case's answer, or, when the case
    could not answer in time, durably as a Signal (applied when the case gets to it)."""

    delivered_as: str
    answer: CaseSummary | None = None


async def deliver_event(client: Client, case_id: str, name: str, payload: dict[str, Any],
                        *, update_timeout: timedelta) -> Delivery:
    """The gateway's way to send an event (spec 6.1): an Update, answered within
    `update_timeout`; when it is not (a worker backlog makes Updates time out while Signals are
    still taken), the same event as a Signal: nothing is lost, and the `event_id` makes a later
    retry harmless. Raises `InvalidEvent`, `EventRejected`, `CaseClosed`, `CaseNotFound` or
    `ServerUnavailable` as `send_event` does."""
    handle = client.get_workflow_handle(case_id)
    try:
        answer: CaseSummary = await handle.execute_update(
            name, payload, result_type=CaseSummary, rpc_timeout=update_timeout)
        return Delivery("update", answer)
    except WorkflowUpdateFailedError as err:
        raise _rejection(err) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        pass
    except RPCError as err:
        why = await _not_open(client, case_id, err, payload.get("event_id"))
        if isinstance(why, CaseSummary):
            return Delivery("update", why)
        if isinstance(why, EventRejected | ClosedCaseUnreadable):
            raise why from None
    await send_event(client, case_id, name, payload, signal=True)
    return Delivery("signal")


async def run_ops(client: Client, case_id: str, command: str,
                  payload: dict[str, Any]) -> CaseSummary:
    """Run an ops command (`cancel_case`, `escalate`, `add_note`) and return the answer."""
    if command not in OPS_COMMANDS:
        raise InvalidEvent(f"unknown ops command {command!r}; known: {', '.join(OPS_COMMANDS)}")
    return await _update(client, case_id, command, payload)


async def _update(client: Client, case_id: str, name: str,
                  payload: dict[str, Any]) -> CaseSummary:
    """An Update, retried on transient failures (same payload, so the same `event_id`)."""
    handle = client.get_workflow_handle(case_id)
    last: Exception = ServerUnavailable(f"{case_id} did not answer the {name} update")
    for attempt in range(UPDATE_RETRIES + 1):
        try:
            answer: CaseSummary = await handle.execute_update(name, payload,
                                                              result_type=CaseSummary)
            return answer
        except WorkflowUpdateFailedError as err:
            raise _rejection(err) from None
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            last = ServerUnavailable(f"{case_id} did not answer the {name} update in time")
        except RPCError as err:
            event_id = payload.get("event_id") if isinstance(payload, dict) else None
            why = await _not_open(client, case_id, err, event_id)
            if isinstance(why, CaseSummary):
                return why
            if isinstance(why, EventRejected):
                raise why from None
            last = why
        if attempt < UPDATE_RETRIES:
            await asyncio.sleep(UPDATE_RETRY_BASE_S * 2 ** attempt)
    raise last


async def _not_open(client: Client, case_id: str, err: RPCError,
                    event_id: Any = None) -> Exception | CaseSummary:
    """Why a message could not reach the case: it does not exist, it has closed (then a
    retry of an event it had accepted is still acknowledged), or a transient fault (an Update
    aborted by a concurrent signal, a server restart) worth retrying."""
    try:
        desc = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                             execution=WorkflowExecution(workflow_id=case_id)))
    except RPCError as describe_err:
        if describe_err.status == RPCStatusCode.NOT_FOUND:
            return CaseNotFound(f"there is no case {case_id}")
        return ServerUnavailable(f"the Temporal server could not be reached ({err.message})")
    status = WorkflowExecutionStatus(desc.workflow_execution_info.status)
    if status == WorkflowExecutionStatus.RUNNING:
        return ServerUnavailable(f"{case_id} could not take the message now ({err.message})")
    if isinstance(event_id, str) and event_id:
        case = await closed_case(client, case_id)
        if case is None:
            # A retry of an event the case may have taken: never answered "closed" (do not
            # retry) without knowing, so the sender retries later (spec 6.1).
            return ClosedCaseUnreadable(f"{case_id} is closed and its record of events cannot "
                                        "be read now; retry later")
        if event_id in getattr(case, "seen_event_ids", []):
            return CaseSummary(case_id=case_id, process=case.process, stage=case.stage,
                               outcome=case.outcome, event_id=event_id, duplicate=True)
    return CaseClosed(f"case {case_id} is closed ({status.name}); events and ops commands "
                      "reach open cases only (read its outcome with `status`)")


async def closed_case(client: Client, case_id: str) -> Any:
    """A closed case as it ended: its result, which the server keeps (no worker needed); for a
    run that ended without one (terminated), the `status` query; None when neither can be
    read now."""
    model = process_of(case_id).status_model
    handle = client.get_workflow_handle(case_id, result_type=model)
    try:
        return await handle.result(follow_runs=False, rpc_timeout=timedelta(seconds=5))
    except (WorkflowFailureError, RPCError):
        pass
    try:
        return await case_status(client, case_id, timeout=timedelta(seconds=5))
    except (EventRejected, ServerUnavailable):
        return None


async def case_status(client: Client, case_id: str, *,
                      timeout: timedelta | None = None) -> Any:
    """The case's `status` query, as its process's status model. For people and tools that
    read a case now and then; integrations deciding what to send next should wait on Update
    answers or `wait_for_stage` (no polled queries: see docs/decisions.md)."""
    model = process_of(case_id).status_model
    try:
        return await client.get_workflow_handle(case_id).query("status", result_type=model,
                                                               rpc_timeout=timeout)
    except WorkflowQueryFailedError as err:
        raise ServerUnavailable(f"{case_id} could not answer the status query: {err}") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"there is no case {case_id}") from None
        raise ServerUnavailable(f"the status of {case_id} could not be read "
                                f"({err.message})") from None


# How long a read waits for the case's worker before it answers from the server alone.
STATUS_WAIT = timedelta(seconds=4)


async def status_or_visibility(client: Client, case_id: str,
                               wait: timedelta = STATUS_WAIT) -> dict[str, Any]:
    """The case's status for a person or an integration reading it (issue 20): the `status`
    query when the case's worker answers within `wait`; else (a backlog, no worker running)
    what the server alone knows, from the search attributes (stage, outcome, who the case
    waits on and since when, the next deadline, the flags), marked `"source": "visibility"`,
    instead of an error."""
    try:
        case = await case_status(client, case_id, timeout=wait)
    except CaseNotFound:
        raise
    except ServerUnavailable as slow:
        try:
            desc = await client.get_workflow_handle(case_id).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise CaseNotFound(f"there is no case {case_id}") from None
            raise slow from None

        return {**visible_case(case_id, desc.typed_search_attributes),
                "execution_status": desc.status.name if desc.status else None,
                "source": "visibility",
                "note": f"the case's worker did not answer within {wait.total_seconds():g} s "
                        "(a backlog, or no worker running): this is what the server's search "
                        "attributes say; the whole status needs the worker"}
    return {**case.model_dump(mode="json"), "source": "worker"}


async def current_stage(client: Client, case_id: str) -> tuple[str | None, bool]:
    """The case's stage from its search attributes, and whether the run is open. Served by the
    server alone (no worker, no query): cheap to poll."""
    handle = client.get_workflow_handle(case_id)
    try:
        desc = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CaseNotFound(f"there is no case {case_id}") from None
        raise ServerUnavailable(f"{case_id} could not be described ({err.message})") from None
    stage = desc.typed_search_attributes.get(CASE_STAGE)
    return stage, desc.status == WorkflowExecutionStatus.RUNNING


async def wait_for_stage(client: Client, case_id: str, stages: set[str],
                         timeout: float = 30.0) -> str:
    """Poll the case's stage (search attribute, not a query) until it is one of `stages`, for
    scripts that send the next event only once the case is ready for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.1
    while True:
        stage, _ = await current_stage(client, case_id)
        if stage in stages:
            return stage
        if loop.time() > deadline:
            raise TimeoutError(f"{case_id} is in stage {stage!r}, not {sorted(stages)}")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)

