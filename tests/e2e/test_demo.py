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
