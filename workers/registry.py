"""What a worker runs: every workflow and activity, in one place for the worker, the tests and
the replayer."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.effects import FieldServiceActivities, all_activities
from domain.processes import PROCESSES
from workers.config import SandboxMode, WorkerTuning
from workflows.case import CaseWorkflow
from workflows.damage_claim import DamageClaimWorkflow
from workflows.om_manual import OmManualWorkflow
from workflows.om_simplified import OmSimplifiedWorkflow
from workflows.partner_followup import PartnerFollowUpWorkflow
from workflows.reactivation import ReactivationWorkflow
from workflows.removal_reinstall import RemovalReinstallWorkflow
from workflows.search_attributes import ALL_KEYS, TYPES
from workflows.support_inquiry import SupportInquiryWorkflow

# Workflow type name -> class, for every workflow type of every process in `PROCESSES`.
WORKFLOW_CLASSES: dict[str, type[CaseWorkflow[Any]]] = {
    "OmSimplifiedWorkflow": OmSimplifiedWorkflow,
    "OmManualWorkflow": OmManualWorkflow,
    "DamageClaimWorkflow": DamageClaimWorkflow,
    "RemovalReinstallWorkflow": RemovalReinstallWorkflow,
    "ReactivationWorkflow": ReactivationWorkflow,
    "PartnerFollowUpWorkflow": PartnerFollowUpWorkflow,
    "SupportInquiryWorkflow": SupportInquiryWorkflow,
}


def _registered() -> Sequence[type]:
    listed = [t for spec in PROCESSES.values() for t in spec.workflow_types]
    missing = sorted(set(listed) - set(WORKFLOW_CLASSES))
    extra = sorted(set(WORKFLOW_CLASSES) - set(listed))
    if missing or extra:
        raise RuntimeError(f"workflow registry out of step with PROCESSES: missing {missing}, "
                           f"not in any process {extra}")
    return [WORKFLOW_CLASSES[t] for t in listed]


WORKFLOWS: Sequence[type] = _registered()

_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


# Imported once, for real, not again in every new workflow run's sandbox. phonenumbers loads
# its per-region metadata modules lazily on first use: imported inside the sandbox, that took
# longer than the 2 s deadlock limit on a cold worker.
PASSTHROUGH_MODULES = ("domain", "infra", "activities", "phonenumbers", "holidays", "tzdata")
# The workflow code itself, passed through when a worker runs the sandbox (issue 21):
# re-importing `workflows` into every new run, and applying `@workflow.defn` to the
# re-imported classes again, was 40% of the worker's CPU in a burst of new cases
# (docs/benchmarks.md). Passed through, its calls are not checked by the sandbox (only code the
# sandbox imports is: it hands that code restricted proxies of `datetime`, `time`, `random`,
# ...), so the checking moved: the whole test suite (every path of every process) and every
# replay run it checked (`workflow_runner("checked")`), where a `datetime.now()`,
# `time.sleep()`, the global `random`, `uuid4()` or file I/O in workflow code fails the task,
# and tests/workflows/test_sandbox.py also refuses such calls in the source of `workflows`.
# FIELD_SERVICE_WORKFLOW_SANDBOX=checked runs a production worker checked as well.
WORKFLOW_PACKAGES = ("workflows",)


def sandboxed_runner(*, checked: bool) -> SandboxedWorkflowRunner:
    """The SDK's sandbox as this project configures it: `checked`, the workflow code imported
    into each run's sandbox, which checks each of its calls; else passed through."""
    passed = PASSTHROUGH_MODULES if checked else (*PASSTHROUGH_MODULES, *WORKFLOW_PACKAGES)
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passed))


def workflow_runner(mode: SandboxMode = "off") -> WorkflowRunner:
    """The workflow runner of `mode` (workers/config.py `SandboxMode`). "off" is production's:
    passed through, the workflow code is not checked by the sandbox (see `WORKFLOW_PACKAGES`),
    so "passthrough" checks nothing "off" does not and costs the sandbox's entry and exit on
    every activation (21% of the worker's CPU per case at 300 in flight: docs/benchmarks.md).
    The checking is the suite's, the replays' and the source check's ("checked")."""
    if mode == "off":
        return UnsandboxedWorkflowRunner()
    return sandboxed_runner(checked=mode == "checked")


def build_worker(client: Client, task_queue: str, acts: FieldServiceActivities,
                 *, activity_executor: Executor | None = None,
                 tuning: WorkerTuning | None = None, sandbox: SandboxMode = "off",
                 **kwargs: Any) -> Worker:
    """A worker with every workflow and activity of the project; `tuning`: cache size and
    concurrency (`Settings.worker_options`); `sandbox`: see `workflow_runner`."""
    return Worker(client, task_queue=task_queue, workflows=list(WORKFLOWS),
                  activities=all_activities(acts), activity_executor=activity_executor,
                  workflow_runner=workflow_runner(sandbox),
                  **(tuning or WorkerTuning()), **kwargs)


async def ensure_search_attributes(
    client: Client, keys: Sequence[SearchAttributeKey[Any]] | None = None
) -> list[str]:
    """Register the search attributes the namespace lacks; returns the names it added."""
    keys = list(ALL_KEYS) if keys is None else keys
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace))
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as err:
        # The time-skipping test server cannot list them, but it can add them.
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {k.name: _INDEXED[TYPES[k.name]] for k in keys if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing))
    return sorted(missing)
