"""The one activity that talks to other cases through Temporal itself (spec 2.3, one R&R
project per system): a claim's or an O&M repair's damage repairs go to the system's open R&R
project as its `damage_repairs_added` Update, so the claim learns at once whether the project
took them (a project past its roofing step refuses them, naming why).

Which project: the one the damage was found in, then any other open project of the system
(visibility: `SystemId` and the workflow type). Visibility is eventually consistent (a project
opened a second ago may not be listed yet) and the time-skipping test server does not serve it;
there, only the source project is asked."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from domain.effects import ProjectRepairsRequest, ProjectRepairsResult
from domain.processes import RR
from starter.client import CaseClosed, CaseNotFound, EventRejected, InvalidEvent, send_event

log = structlog.get_logger("fieldservice.activities")

REPAIRS_EVENT = "damage_repairs_added"


async def open_projects(client: Client, system_id: str,
                        first: str | None = None) -> list[str]:
    """The workflow IDs of the system's open R&R projects, `first` (when given) first."""
    ids = [first] if first else []
    query = (f'WorkflowType = "{RR.workflow_types[0]}" AND SystemId = "{system_id}" '
             'AND ExecutionStatus = "Running"')
    try:
        async for wf in client.list_workflows(query):
            if wf.id not in ids:
                ids.append(wf.id)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        log.warning("visibility is not served here: only the source project is asked",
                    system_id=system_id)
    return ids


async def add_repairs_to_open_project(req: ProjectRepairsRequest) -> ProjectRepairsResult:
    """Add the repairs to the first open project that takes them; a retry re-sends the same
    event ID, which the project acknowledges as a duplicate (added once)."""
    client = activity.client()
    for project_id in await open_projects(client, req.system_id, req.source_project_id):
        payload = {"event_id": req.key, "claim_id": req.case_id,
                   "description": req.description, "actor": "fieldservice"}
        try:
            await send_event(client, project_id, REPAIRS_EVENT, payload)
        except (CaseClosed, CaseNotFound):
            continue
        except InvalidEvent:
            raise
        except EventRejected as refused:
            return ProjectRepairsResult(project_id=project_id, reason=str(refused))
        return ProjectRepairsResult(project_id=project_id, added=True)
    return ProjectRepairsResult()
