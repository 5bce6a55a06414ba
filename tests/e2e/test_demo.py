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
    assert {p.name for p, *_ in plans} == set(PROCESSES)
    for process, case, *_ in plans:
        code, status, err = await stack.starter("status", process.workflow_id(case))
        assert code == 0, err
        assert status["stage"] is not None
    await _every_view_shows_a_demo_case(stack)
    again = await _demo(stack)  # again: finds its cases, opens nothing
    assert again.count("already there") == len(plans) == first.count(" stage=")


async def _every_view_shows_a_demo_case(stack: Stack) -> None:
    """Issue 20, item 6: each view of docs/operators.md lists the demo case meant for it."""

    async def listed(*flags: str) -> set[str]:
        code, rows, err = await stack.starter("list", *flags, "--json")
        assert code == 0, err
        return {r["case_id"] for r in rows}

    assert await listed("--overdue") == {"om-DEMO-009"}  # its worker stopped; deadline past
    assert {"om-DEMO-008", "om-DEMO-009"} <= await listed("--escalated")
    assert {"om-DEMO-004", "damage-DEMO-104-C1"} <= await listed("--hazardous")
    assert {"om-DEMO-008", "om-DEMO-009"} <= await listed("--waiting-on", "case_manager")
    assert await listed("--system", "DEMO-105") == {"damage-DEMO-105-C1", "rr-DEMO-105-C1"}
    code, status, err = await stack.starter("status", "om-DEMO-009")
    assert code == 0, err
    assert status["source"] == "visibility" and status["waiting_on"] == "case_manager"


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


async def test_the_worklist_filters_and_orders_on_the_real_server(stack: Stack) -> None:
    """`python -m starter list` (issue 20): each filter narrows the list as the docs say, the
    overdue and stuck queries are accepted by the visibility store, rows come soonest deadline
    first with the homeowner's local time, and a count line ends the table."""
    import json

    from tests.e2e.test_local_stack import om_report
    from tests.workflows.harness import ANY_TIME_POLICY, claim_input, reactivation_input

    stack.start_worker()
    opened = [("om", om_report("SYS-WL-1")),
              ("reactivation", reactivation_input(contract_id="CON-WL-1").model_dump(
                  mode="json", exclude={"carried_case"})),
              ("damage", claim_input("SYS-WL-2", policy=ANY_TIME_POLICY,
                                     hazard={"burning_smell": True}).model_dump(
                  mode="json", exclude={"carried_case"}))]
    for process, body in opened:
        code, _, err = await stack.starter("open", process, "-", stdin=json.dumps(body))
        assert code == 0, err
    code, _, err = await stack.starter("ops", "reactivation-CON-WL-1", "escalate", "VIP")
    assert code == 0, err
    await stack.find('CaseId = "damage-SYS-WL-2-CLM-1" AND WaitingOn = "homeowner"',
                     seconds=30)

    async def listed(*flags: str) -> list[dict[str, object]]:
        code, rows, err = await stack.starter("list", *flags, "--json")
        assert code == 0, err
        return list(rows)

    everything = await listed()
    ids = [r["case_id"] for r in everything]
    assert {"om-SYS-WL-1", "reactivation-CON-WL-1", "damage-SYS-WL-2-CLM-1",
            "om-SYS-WL-2"} <= set(ids)
    deadlines = [r["next_deadline"] for r in everything if r["next_deadline"]]
    assert deadlines == sorted(deadlines, key=str)
    assert all(r["next_deadline"] for r in everything[:len(deadlines)])  # none last
    om = next(r for r in everything if r["case_id"] == "om-SYS-WL-1")
    assert om["waiting_on"] == "monitoring" and "PST" in str(om["next_deadline_homeowner"])
    assert [r["case_id"] for r in await listed("--waiting-on", "back_office")] == [
        "reactivation-CON-WL-1"]
    assert [r["case_id"] for r in await listed("--escalated")] == ["reactivation-CON-WL-1"]
    hazardous = {r["case_id"] for r in await listed("--hazardous")}
    assert hazardous == {"damage-SYS-WL-2-CLM-1", "om-SYS-WL-2"}  # the claim and its owner
    assert [r["case_id"] for r in await listed("--process", "reactivation")] == [
        "reactivation-CON-WL-1"]
    assert {r["case_id"] for r in await listed("--system", "SYS-WL-2")} == {
        "damage-SYS-WL-2-CLM-1", "om-SYS-WL-2"}
    assert await listed("--stuck") == []
    assert isinstance(await listed("--overdue"), list)  # the query is accepted
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "starter", "list", "--escalated", cwd=ROOT, env=stack.vars,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, _ = await proc.communicate()
    lines = out.decode().splitlines()
    assert lines[-1].startswith("1 case: ") and "Escalated = true" in lines[-1]
    assert "reactivation-CON-WL-1" in lines[1] and "escalated" in lines[1]


async def test_a_status_read_without_a_worker_answers_from_the_server(stack: Stack) -> None:
    """Issue 20, item 5: the status is a query, so it needs a worker; with none running (or a
    backlog) `starter status` used to fail after 30 s. Now it answers within seconds from the
    search attributes, saying so."""
    import json
    import signal
    import time

    from tests.e2e.test_local_stack import om_report

    stack.start_worker()
    code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(
        om_report("SYS-NOWORKER-1")))
    assert code == 0, err
    await stack.find('CaseId = "om-SYS-NOWORKER-1" AND WaitingOn = "monitoring"')
    code, status, err = await stack.starter("status", "om-SYS-NOWORKER-1")
    assert code == 0, err
    assert status["source"] == "worker" and status["stage"] == "problem_identified"
    assert stack.worker is not None
    stack.worker.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(stack.worker.wait, 30) == 0
    started = time.monotonic()
    code, status, err = await stack.starter("status", "om-SYS-NOWORKER-1")
    assert code == 0, err
    assert time.monotonic() - started < 15
    assert status["source"] == "visibility" and "did not answer" in status["note"]
    assert (status["stage"], status["waiting_on"], status["execution_status"]) == (
        "problem_identified", "monitoring", "RUNNING")
    assert status["next_deadline"] and status["stage_entered_at"]
