"""Worker Deployment Versioning on a real dev server (issue 10): two worker versions of one
deployment; after the rollout a new case lands on the current version, and a case opened on the
old version moves to the new one at its next task (auto-upgrade, the default for cases that run
for months; the replay tests guard the old histories it carries)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from temporalio.api.enums.v1 import VersioningBehavior
from temporalio.testing import WorkflowEnvironment

from tests.conftest import server_path
from tests.e2e.test_local_stack import Stack, om_report, running

DEPLOYMENT = "fieldservice-e2e"


class VersionedStack(Stack):
    """The dev server and versioned workers, one process per build ID."""

    def __init__(self, env: WorkflowEnvironment, tmp: Path) -> None:
        super().__init__(env, tmp)
        self.vars["FIELD_SERVICE_DEPLOYMENT_NAME"] = DEPLOYMENT

    def start_version(self, build_id: str) -> None:
        """`python -m workers` as the image of `build_id` runs it."""
        self.spawn("workers", self.log.parent / f"{build_id}.log",
                   FIELD_SERVICE_BUILD_ID=build_id)

    async def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`temporal <args>` against this server."""
        return await asyncio.to_thread(
            subprocess.run, [server_path("temporal"), *args, "--address",
                             self.vars["TEMPORAL_ADDRESS"]],
            capture_output=True, text=True, check=False)

    async def make_current(self, build_id: str, seconds: float = 30) -> None:
        """The rollout step of docs/operations.md, once the version's workers poll."""
        end = time.monotonic() + seconds
        while True:
            done = await self.cli("worker", "deployment", "set-current-version",
                                  "--deployment-name", DEPLOYMENT, "--build-id", build_id,
                                  "--yes")
            if done.returncode == 0:
                return
            if time.monotonic() > end:
                raise AssertionError(done.stderr)
            await asyncio.sleep(0.5)

    async def version_of(self, case_id: str) -> tuple[str, int]:
        """The build ID a case's last task ran on, and its versioning behaviour."""
        desc = await self.client.get_workflow_handle(case_id).describe()
        info = desc.raw_description.workflow_execution_info.versioning_info
        return info.deployment_version.build_id, info.behavior


@pytest_asyncio.fixture
async def versioned(tmp_path: Path) -> AsyncIterator[VersionedStack]:
    """A dev server of this test's own, torn down with every worker."""
    async with running(VersionedStack, tmp_path) as s:
        yield s


async def _stage(stack: Stack, case_id: str, stage: str) -> None:
    end = time.monotonic() + 30
    while True:
        code, status, err = await stack.starter("status", case_id)
        if code == 0 and status["stage"] == stage:
            return
        assert time.monotonic() < end, f"{case_id}: {status} {err}"
        await asyncio.sleep(0.3)


async def _open(stack: Stack, system_id: str) -> None:
    code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(
        om_report(system_id)))
    assert code == 0, err
    await _stage(stack, f"om-{system_id}", "problem_identified")


async def test_a_new_case_lands_on_the_current_version(versioned: VersionedStack) -> None:
    stack = versioned
    stack.start_version("v1")
    await stack.make_current("v1")
    await _open(stack, "SYS-V-1")
    assert await stack.version_of("om-SYS-V-1") == (
        "v1", VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE)

    # The rollout: v2's workers start beside v1's, then v2 becomes current.
    stack.start_version("v2")
    await stack.make_current("v2")
    await _open(stack, "SYS-V-2")
    assert (await stack.version_of("om-SYS-V-2"))[0] == "v2"

    # The case opened on v1 moves to v2 at its next task, and goes on there.
    code, _, err = await stack.starter("event", "om-SYS-V-1", "remote_fix_result",
                                       '{"event_id": "m-1", "resolved": false}')
    assert code == 0, err
    await _stage(stack, "om-SYS-V-1", "self_scheduling_texts")
    assert (await stack.version_of("om-SYS-V-1"))[0] == "v2"
    described = await stack.cli("worker", "deployment", "describe", "--name", DEPLOYMENT,
                                "-o", "json")
    assert described.returncode == 0, described.stderr
    assert '"v2"' in described.stdout and '"v1"' in described.stdout  # both versions known


async def _readyz(port: int) -> tuple[int, str]:
    """`GET /readyz` of a worker: status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    raw = (await reader.read()).decode()
    writer.close()
    head, _, body = raw.partition("\r\n\r\n")
    return int(head.split()[1]), body.strip()


async def _until_ready(port: int, want: int, seconds: float = 30) -> str:
    end = time.monotonic() + seconds
    while True:
        try:
            code, body = await _readyz(port)
        except OSError:
            code, body = 0, "not listening"
        if code == want:
            return body
        assert time.monotonic() < end, f"readyz {code}: {body}"
        await asyncio.sleep(0.3)


async def test_a_rollout_as_the_worker_controller_drives_it_stalls_no_case(
        versioned: VersionedStack) -> None:
    """Issue 19, finding 1: two versions, the new one made current through the API (as the
    Worker Controller does), the old one drained (SIGTERM): every case opened on v1 moves on
    with its next event, none waits. Meanwhile a version that is not current says so on
    `/readyz` once its grace period is over, so a rolling update cannot replace the workers
    that receive tasks with ones that never will."""
    from temporalio.api.workflowservice.v1 import SetWorkerDeploymentCurrentVersionRequest

    from tests.e2e.test_local_stack import free_port

    stack = versioned
    v1_health, v2_health = free_port(), free_port()
    v1 = stack.spawn("workers", stack.log.parent / "v1.log", FIELD_SERVICE_BUILD_ID="v1",
                     FIELD_SERVICE_HEALTH_PORT=str(v1_health),
                     FIELD_SERVICE_VERSION_GRACE_SECONDS="1")
    await stack.make_current("v1")
    await _until_ready(v1_health, 200)
    for n in (1, 2, 3):
        await _open(stack, f"SYS-R-{n}")

    # v2 starts beside v1 (the controller's new versioned Deployment); until it is made
    # current it can receive nothing, and its readiness says so after its grace period.
    stack.spawn("workers", stack.log.parent / "v2.log", FIELD_SERVICE_BUILD_ID="v2",
                FIELD_SERVICE_HEALTH_PORT=str(v2_health),
                FIELD_SERVICE_VERSION_GRACE_SECONDS="1")
    body = await _until_ready(v2_health, 503)
    assert "fieldservice-e2e.v2 is never made current" in body or "not registered" in body
    body = await _until_ready(v2_health, 503, seconds=30) if "not registered" in body else body

    # The controller's promotion: SetWorkerDeploymentCurrentVersion once v2's workers poll.
    end = time.monotonic() + 30
    while True:
        try:
            await stack.client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(
                    namespace=stack.client.namespace, deployment_name=DEPLOYMENT,
                    build_id="v2", identity="worker-controller (test)"))
            break
        except Exception:
            assert time.monotonic() < end
            await asyncio.sleep(0.5)
    await asyncio.sleep(11)  # the reachability answer is cached for 10 s
    await _until_ready(v2_health, 200)

    # v1 is drained: SIGTERM, as the controller scales its Deployment down.
    v1.terminate()
    assert await asyncio.to_thread(v1.wait, 30) == 0

    # Every case opened on v1 moves on at its next event, on v2, none waiting.
    started = time.monotonic()
    for n in (1, 2, 3):
        code, _, err = await stack.starter("event", f"om-SYS-R-{n}", "remote_fix_result",
                                           f'{{"event_id": "r-{n}", "resolved": false}}')
        assert code == 0, err
        await _stage(stack, f"om-SYS-R-{n}", "self_scheduling_texts")
        assert (await stack.version_of(f"om-SYS-R-{n}"))[0] == "v2"
    assert time.monotonic() - started < 30
