"""`./dev up`'s demo cases (`python -m starter demo`, starter/demo.py) on a real dev server with
a real worker: every case reaches the stage it is meant to rest in on the current code. A
process change that moves a stage (the claim's partner decision, issue 18) broke the first
command a newcomer runs, and no test saw it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from domain.processes import PROCESSES
from starter.demo import demo_plans
from tests.e2e.test_local_stack import ROOT, Stack, running


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    async with running(Stack, tmp_path) as s:
        yield s


async def _demo(stack: Stack) -> str:
    """`python -m starter demo`, as ./dev up runs it: its output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "starter", "demo", cwd=ROOT, env=stack.vars,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


async def test_the_demo_reaches_every_resting_stage_and_runs_again(stack: Stack) -> None:
    from datetime import UTC, datetime

    stack.start_worker()
    first = await _demo(stack)
    plans = demo_plans(datetime.now(UTC))
    assert {p.name for p, _, _ in plans} == set(PROCESSES)
    for process, case, _ in plans:
        code, status, err = await stack.starter("status", process.workflow_id(case))
        assert code == 0, err
        assert status["stage"] is not None
    again = await _demo(stack)  # again: finds its cases, opens nothing
    assert again.count("already there") == len(plans) == first.count(" stage=")


async def test_who_a_case_waits_on_is_a_query_on_the_real_server(stack: Stack) -> None:
    """Spec 2 (issue 20): `WaitingOn` and `StageEnteredAt` are registered and kept on the real
    dev server's visibility store, so "waiting on the back office", "stuck" and "overdue" are
    queries."""
    import json
    from datetime import UTC, datetime, timedelta

    from tests.e2e.test_local_stack import om_report
    from tests.workflows.harness import reactivation_input

    stack.start_worker()
    code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(
        om_report("SYS-WAIT-1")))
    assert code == 0, err
    reactivation = reactivation_input(contract_id="CON-WAIT-1").model_dump(
        mode="json", exclude={"carried_case"})
    code, _, err = await stack.starter("open", "reactivation", "-",
                                       stdin=json.dumps(reactivation))
    assert code == 0, err
    assert await stack.find('WaitingOn = "monitoring" AND CaseId = "om-SYS-WAIT-1"') == [
        "om-SYS-WAIT-1"]
    assert await stack.find('WaitingOn = "back_office"') == ["reactivation-CON-WAIT-1"]
    since = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    entered = await stack.find(f'StageEnteredAt < "{since}" AND ExecutionStatus = "Running"',
                               expect=2)
    assert sorted(entered) == ["om-SYS-WAIT-1", "reactivation-CON-WAIT-1"]
