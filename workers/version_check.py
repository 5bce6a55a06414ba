"""Whether this worker's deployment version can receive tasks (issue 19), for its readiness.

A versioned worker polls for its own version only: when that version is neither the current
nor the ramping one and no pinned workflow runs on it, no task will ever reach it, however
healthy it looks. Kubernetes must not count such a pod as ready, or a rolling update replaces
the workers that do receive tasks with ones that never will, and every case waits until someone
sets the current version. A new version gets a grace period (the Worker Controller, or the
operator, makes it current after its workers poll); a version past it that is still not
reachable makes `/readyz` answer 503 with what to do."""

from __future__ import annotations

import time
from datetime import timedelta

from temporalio.api.deployment.v1 import WorkerDeploymentVersion
from temporalio.api.enums.v1 import VersionDrainageStatus, WorkerDeploymentVersionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkerDeploymentVersionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

Status = WorkerDeploymentVersionStatus
# How long a described status is reused (probes come every few seconds from every pod).
CACHE_SECONDS = 10.0


def unreachable_reason(status: int, drainage: int, version: str) -> str | None:
    """Why a version with this routing status and drainage can never receive tasks, or None
    when it can: current or ramping (new and auto-upgraded tasks), or draining with pinned
    workflows still on it. Pure, for the tests."""
    if status in (Status.WORKER_DEPLOYMENT_VERSION_STATUS_CURRENT,
                  Status.WORKER_DEPLOYMENT_VERSION_STATUS_RAMPING):
        return None
    if (status == Status.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING
            and drainage != VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED):
        return None
    what = {Status.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE: "never made current",
            Status.WORKER_DEPLOYMENT_VERSION_STATUS_CREATED: "never made current",
            Status.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING: "no longer current, drained",
            Status.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED: "no longer current, drained",
            }.get(status, "not current")  # type: ignore[call-overload]
    return (f"version {version} is {what}: no task can reach its workers (make it current: "
            "the Worker Controller does; by hand, `temporal worker deployment "
            "set-current-version`), see docs/operations.md")


class VersionReachability:
    """The readiness check of a versioned worker's version, after `grace` from its start."""

    def __init__(self, client: Client, deployment_name: str, build_id: str,
                 grace: timedelta) -> None:
        self.client = client
        self.version = WorkerDeploymentVersion(deployment_name=deployment_name,
                                               build_id=build_id)
        self.name = f"{deployment_name}.{build_id}"
        self.grace = grace.total_seconds()
        self.started = time.monotonic()
        self._cached: tuple[float, str | None] | None = None

    async def problem(self) -> str | None:
        """None while the version can receive tasks (or in its grace period, or when the
        server cannot say: its own health check covers that), else the reason."""
        now = time.monotonic()
        if now - self.started < self.grace:
            return None
        if self._cached is not None and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        try:
            answer = await self.client.workflow_service.describe_worker_deployment_version(
                DescribeWorkerDeploymentVersionRequest(namespace=self.client.namespace,
                                                       deployment_version=self.version),
                timeout=timedelta(seconds=2))
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                return None
            reason: str | None = (f"version {self.name} is not registered: its workers have "
                                  "not polled the server")
        else:
            info = answer.worker_deployment_version_info
            reason = unreachable_reason(info.status, info.drainage_info.status, self.name)
        self._cached = (now, reason)
        return reason
