"""A case whose resolution is an R&R project (spec 2.3, 3.3, 3.4): a claim, or a manual O&M
case. Its repairs go to the system's open project when there is one (one R&R project per
system at a time), else it starts its own; then it waits in `project_in_progress` for the
project's ending, which the project reports (`project_ended`): completed, the case closes
`repaired`; cancelled, it goes back to liability with the case manager told."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.effects import FieldServiceActivities
    from domain.effects import ProjectRepairsRequest
    from domain.events import Event
    from domain.processes import RR
    from domain.rr import ProjectEnded, RemovalReinstallInput
    from workflows.case.admission import EventSpec
    from workflows.case.endings import Close, Ending

if TYPE_CHECKING:
    from workflows.case.base import CaseWorkflow

PROJECT = "project_in_progress"
# Cases recorded before spec 2.3 closed `project_created` once they had started the project;
# new runs wait for it.
PARENT_WAITS = "parent-waits-for-project"


def _this_project(case: Any, event: ProjectEnded) -> str | None:
    if event.project_id != case.project_id:
        return (f"project {event.project_id!r} is not this case's project "
                f"({case.project_id or 'none'})")
    return None


# The event a parent takes, in any stage (it is queued until the case waits for it: a project
# cancelled while its parent still acts is not lost).
PROJECT_ENDED = EventSpec(ProjectEnded, check=_this_project)


class ProjectParent:
    """The R&R part of a case that resolves through a project."""

    def __init__(self, host: CaseWorkflow[Any], *, liability_stage: str, key_prefix: str,
                 after_repair: Callable[[], Awaitable[Ending | None]] | None = None,
                 side_events: Sequence[type[Event]] = (),
                 on_side_event: Callable[[Event], Awaitable[None]] | None = None) -> None:
        """`after_repair`: what a completed project leads to (default: close `repaired`);
        `side_events`: events the case takes while the project runs (a claim's settlement
        answer), handed to `on_side_event`."""
        self.host = host
        self.liability_stage = liability_stage
        self.prefix = key_prefix
        self.after_repair = after_repair
        self.side_events = tuple(side_events)
        self.on_side_event = on_side_event

    async def to_project(self, new_project: Callable[[], RemovalReinstallInput], *,
                         description: str, source_project_id: str | None = None) -> None:
        """The repairs to the system's open project (the one the damage was found in first),
        else a project of the case's own; then `project_in_progress`. An open project that
        cannot take them any more (past its roofing step) goes to the case manager, and the
        case back to liability: a second project would wait for a removal that cannot come."""
        host, c = self.host, self.host.case
        n = c.bump("project_requests")
        result = await host.effects.run(
            FieldServiceActivities.add_repairs_to_open_project,
            ProjectRepairsRequest(key=host.key(self.prefix, "repairs-to-project", n),
                                  case_id=c.case_id, system_id=c.system_id,
                                  description=description, source_project_id=source_project_id),
            what="add the repairs to the open R&R project",
            summary="add the damage repairs to the system's open R&R project, if any")
        if result is not None and result.added:
            c.project_id, c.project_repairs_added = result.project_id, True
        elif result is not None and result.project_id is None and (
                started := await host.links.start_case(RR, new_project)) is not None:
            c.project_id, c.project_repairs_added = started, False
        else:
            why = (f"the system's R&R project {result.project_id} cannot take the repairs "
                   f"({result.reason})" if result is not None and result.project_id
                   else "the repairs could not be given to an R&R project")
            await host.effects.assign_case_manager(
                host.key(self.prefix, "project-refused", n),
                f"{why}: decide again (a new R&R once that project has ended)",
                summary="assign the repairs no R&R project could take")
            host.enter_stage(self.liability_stage)
            return
        host.enter_stage(PROJECT)

    async def wait(self) -> Ending | None:
        """`project_in_progress`: until the project reports its ending."""
        host, c = self.host, self.host.case
        what = f"R&R project {c.project_id}"
        if self.side_events:
            got = await host.wait_for(ProjectEnded, *self.side_events, waiting_for=what,
                                      waiting_on="o_and_m")
        else:
            got = await host.wait_for(ProjectEnded, waiting_for=what, waiting_on="o_and_m")
        if not isinstance(got, ProjectEnded):
            assert self.on_side_event is not None
            await self.on_side_event(got)
            return None
        ended = got
        if ended.outcome == "completed":
            return await self.after_repair() if self.after_repair else Close("repaired")
        n = c.bump("projects_cancelled")
        await host.effects.assign_case_manager(
            host.key(self.prefix, "project-cancelled", n),
            f"the R&R project {c.project_id} was cancelled: determine liability again",
            summary="assign the liability after the cancelled R&R project")
        c.project_id = None
        host.enter_stage(self.liability_stage)
        return None
