from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.effects import FieldServiceActivities
from domain.om import OmCaseInput
from workers.registry import build_worker


def report() -> OmCaseInput:
    return OmCaseInput.model_validate({
        "system_id": "SYS-1001", "case_reason": "system_failure", "source": "sunrun_monitoring",
        "installer": "sunrun", "installer_accepting_service_work": True,
        "agreement_type": "ppa", "zip": "94103", "market": "CA",
        "homeowner": {"name": "Ana Ruiz", "phone": "+14155550100"},
    })


async def test_smoke(env: WorkflowEnvironment, client: Client, task_queue: str,
                     activities: FieldServiceActivities) -> None:
    async with build_worker(client, task_queue, activities):
        h = await client.start_workflow("OmSimplifiedWorkflow", report(), id="om-SYS-1001",
                                        task_queue=task_queue)
        await env.sleep(timedelta(hours=1))
        st = await h.query("status")
        print(st)
        upd = await h.execute_update("remote_fix_result", {"event_id": "e1", "resolved": True})
        print(upd)
        print(await h.result())
