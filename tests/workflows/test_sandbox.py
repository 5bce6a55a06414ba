"""Issue 21: production workers run the workflow code without the SDK's sandbox (a new case
no longer imports it again, nor applies `@workflow.defn` to its classes again, and no
activation pays the sandbox's entry), and workflow code still cannot make a non-deterministic
call unnoticed:

- the sandbox checks only code it imports itself: passed through (the only way to run it
  without re-importing it), a module's calls are not checked (shown below with probes passed
  through exactly as `workflows` is: they run), so the sandbox checked nothing "off" does not;
- the suite and every replay run the workflow code checked (`workflow_runner("checked")`, the
  harness's and the replayer's runner): there each probe's call fails the task;
- and the source of `workflows` is refused if it names such a call, on any path, tested or not.

The same case takes the same path under every runner.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.sandbox_probe import bad_workflows
from tests.sandbox_probe.bad_workflows import BAD, DoesItRight
from tests.workflows.harness import CaseHarness, health_stand_in, om_input
from workers.config import SandboxMode, Settings
from workers.registry import WORKFLOW_PACKAGES, sandboxed_runner, workflow_runner

ROOT = Path(__file__).resolve().parents[2]
# Calls that are not deterministic in workflow code (`workflow.now()`, `workflow.sleep()`,
# `workflow.random()`, `workflow.uuid4()` and activities are the ways).
FORBIDDEN_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("time", "sleep"), ("time", "monotonic"), ("time", "perf_counter"),
    ("uuid", "uuid1"), ("uuid", "uuid4"), ("os", "getenv"), ("asyncio", "sleep"),
    ("random", "*"), ("secrets", "*"), ("socket", "*"), ("subprocess", "*"),
    ("*", "read_text"), ("*", "write_text"), ("*", "read_bytes"), ("*", "write_bytes"),
}
FORBIDDEN_NAMES = {"open", "print", "input"}


def _as_passthrough(package: str) -> SandboxedWorkflowRunner:
    """The passthrough runner, with `package` passed through as `workflows` is."""
    runner = sandboxed_runner(checked=False)
    return SandboxedWorkflowRunner(
        restrictions=runner.restrictions.with_passthrough_modules(package))


async def _runs(client: Client, runner: SandboxedWorkflowRunner, bad: type) -> bool:
    """Whether `bad` completes under `runner` (a deterministic workflow beside it must)."""
    queue = f"sandbox-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[bad, DoesItRight],
                      workflow_runner=runner, workflow_failure_exception_types=[Exception]):
        good = await client.execute_workflow(DoesItRight.run, id=f"good-{uuid.uuid4()}",
                                             task_queue=queue)
        assert good.split()[1] == "True"
        try:
            await client.execute_workflow(bad.run, id=f"bad-{uuid.uuid4()}",  # type: ignore[attr-defined]
                                          task_queue=queue)
        except WorkflowFailureError as err:
            assert "restricted" in str(err.cause).lower() or "Cannot access" in str(err.cause)
            return False
        return True


def test_passthrough_passes_the_workflow_code_through_and_the_checked_runner_does_not() -> None:
    passed = sandboxed_runner(checked=False).restrictions.passthrough_modules
    assert set(WORKFLOW_PACKAGES) <= passed
    assert not (set(WORKFLOW_PACKAGES)
                & sandboxed_runner(checked=True).restrictions.passthrough_modules)


@pytest.mark.parametrize("bad", BAD, ids=lambda c: c.__name__)
async def test_the_checked_runner_fails_a_non_deterministic_call_passed_through_code_makes(
        client: Client, bad: type) -> None:
    assert not await _runs(client, sandboxed_runner(checked=True), bad)
    assert await _runs(client, _as_passthrough("tests.sandbox_probe"), bad)


def test_off_is_the_sdk_s_runner_without_a_sandbox_and_production_s_default() -> None:
    assert Settings.model_fields["workflow_sandbox"].default == "off"
    assert isinstance(workflow_runner(), UnsandboxedWorkflowRunner)
    assert isinstance(workflow_runner("off"), UnsandboxedWorkflowRunner)
    passed, checked = workflow_runner("passthrough"), workflow_runner("checked")
    assert isinstance(passed, SandboxedWorkflowRunner)
    assert set(WORKFLOW_PACKAGES) <= passed.restrictions.passthrough_modules
    assert isinstance(checked, SandboxedWorkflowRunner)
    assert not set(WORKFLOW_PACKAGES) & checked.restrictions.passthrough_modules


@pytest.mark.parametrize("mode", ["checked", "passthrough", "off"])
async def test_a_case_takes_the_same_path_under_every_runner(om: CaseHarness,
                                                            mode: SandboxMode) -> None:
    """The O&M happy path (remote fix, texts, booking, reminder, findings, validation, close)
    on a worker of each runner: the same stages and side effects."""
    async with om.worker(health_stand_in(True), workflow_runner=workflow_runner(mode)):
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await case.stage("self_scheduling_texts")
        await case.book("APT-1")
        await case.stage("appointment_scheduled")
        await case.until(lambda s: s.stage == "pending_appt_findings")
        await case.send("appointment_outcome", appointment_id="APT-1", result="completed",
                        asset_update_needed=True)
        await case.fire_next_timer()
        result = await case.result()
    assert result.outcome == "resolved"
    assert [s.stage for s in result.stage_history] == [
        "problem_identified", "ready_for_scheduling", "self_scheduling_texts",
        "appointment_scheduled", "pending_appt_findings", "pending_performance_validation",
        "closed"]
    assert case.keys() == ["remote-fix", "fs-case", "visit1/text/1",
                           "visit1/appointment-reminder/1", "asset-update", "close-records"]


def _forbidden(path: Path) -> list[str]:
    """The non-deterministic calls a module's source names, as `line: call`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
            found.append((node.lineno, f"{func.id}()"))
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else (
                func.value.attr if isinstance(func.value, ast.Attribute) else "")
            if {(owner, func.attr), (owner, "*"), ("*", func.attr)} & FORBIDDEN_CALLS:
                found.append((node.lineno, f"{owner}.{func.attr}()"))
    return [f"{line}: {call}" for line, call in sorted(found)]


def test_the_source_of_the_workflow_code_names_no_non_deterministic_call() -> None:
    sources = [p for package in WORKFLOW_PACKAGES for p in (ROOT / package).rglob("*.py")]
    assert len(sources) > 10
    named = {str(p.relative_to(ROOT)): calls for p in sources if (calls := _forbidden(p))}
    assert named == {}


def test_the_source_check_finds_each_probe_s_call() -> None:
    calls = _forbidden(Path(bad_workflows.__file__))
    assert [c.split(": ", 1)[1] for c in calls] == [
        "datetime.now()", "time.sleep()", "random.random()", "uuid.uuid4()", ".read_text()"]
