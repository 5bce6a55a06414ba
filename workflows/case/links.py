"""Cases that start other cases (spec 2.3, 3.4, 3.5, 3.8): a claim's R&R project, an R&R
project's damage claim, an inquiry's O&M case, follow-up or reactivation. The case started is
addressed by its own workflow ID, runs as a child that outlives its starter, and an open case
under that ID is joined (with the process's join event) instead of duplicated."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from domain.base import describe_fields
    from domain.processes import ProcessSpec

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow


# A joined follow-up or reactivation is told what the joining request brought (runs recorded
# before that joined silently).
JOINED_REQUESTS = "joined-requests-recorded"


class Links:
    """The cases one case starts or joins."""

    def __init__(self, host: CaseWorkflow[Any]) -> None:
        self.host = host

    async def start_case(self, process: ProcessSpec,
                         inp: BaseModel | Callable[[], BaseModel], *,
                         outlive: bool = True) -> str | None:
        """Start another process's case by its workflow ID, as a child that outlives this case
        when `outlive` (a project runs on after the claim closes), or join the open one.
        Returns the case's workflow ID; None when its input could not be built from this
        case's data (recorded as a failure and given to a person, spec 2.1)."""
        case_id, _ = await self.open_or_join(process, inp, outlive=outlive)
        return case_id

    async def open_or_join(self, process: ProcessSpec,
                           inp: BaseModel | Callable[[], BaseModel], *,
                           outlive: bool = True) -> tuple[str | None, bool]:
        """`start_case`, also saying whether an open case was joined (True) rather than
        started. `inp` may be a function building the input: business data that makes it
        invalid (a key too long once joined with another) is then a failure for a person,
        never a workflow task failing in a loop (spec 2.1)."""
        host = self.host
        if not isinstance(inp, BaseModel):
            try:
                inp = inp()
            except (ValidationError, ValueError) as exc:
                why = describe_fields(exc) if isinstance(exc, ValidationError) else str(exc)
                n = host.case.bump("cases_not_started")
                await host.effects.record_failure(
                    f"start the {process.title}", host.key("start", process.name, n),
                    f"its input could not be built from this case's data: {why}")
                return None, False
        case_id = process.workflow_id(inp)
        host.check_interrupt()
        host.view.flush()
        joined = False
        try:
            await workflow.start_child_workflow(
                process.start_type(inp), inp, id=case_id, static_summary=process.summary(inp),
                parent_close_policy=(ParentClosePolicy.ABANDON if outlive
                                     else ParentClosePolicy.TERMINATE))
        except WorkflowAlreadyStartedError:
            joined = True
            join = process.join_event
            if join is None and process.joined_event is not None and workflow.patched(
                    JOINED_REQUESTS):
                join = process.joined_event
            if join is not None:
                name, payload = join(inp)
                await workflow.get_external_workflow_handle(case_id).signal(name, payload)
        workflow.logger.info("case joined" if joined else "case started",
                             extra={"case_id": host.case.case_id, "process_type": process.name})
        return case_id, joined
