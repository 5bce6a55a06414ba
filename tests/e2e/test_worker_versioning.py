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
