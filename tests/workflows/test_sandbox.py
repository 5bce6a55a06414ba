"""Issue 21: production workers pass the workflow code through the sandbox (a new case no
longer imports it again, nor applies `@workflow.defn` to its classes again), and workflow code
still cannot make a non-deterministic call unnoticed:

- passed through, the sandbox does not check a module's calls (shown below with probes passed
  through exactly as `workflows` is: they run);
- so the suite and every replay run the workflow code checked (`workflow_runner(checked=True)`,
  the harness's and the replayer's runner): there each probe's call fails the task;
- and the source of `workflows` is refused if it names such a call, on any path, tested or not.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.sandbox_probe import bad_workflows
from tests.sandbox_probe.bad_workflows import BAD, DoesItRight
from workers.registry import WORKFLOW_PACKAGES, workflow_runner

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


def _as_production(package: str) -> SandboxedWorkflowRunner:
    """The production runner, with `package` passed through as `workflows` is."""
    runner = workflow_runner()
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


def test_production_passes_the_workflow_code_through_and_the_checked_runner_does_not() -> None:
    assert set(WORKFLOW_PACKAGES) <= workflow_runner().restrictions.passthrough_modules
    assert not (set(WORKFLOW_PACKAGES)
                & workflow_runner(checked=True).restrictions.passthrough_modules)


@pytest.mark.parametrize("bad", BAD, ids=lambda c: c.__name__)
async def test_the_checked_runner_fails_a_non_deterministic_call_passed_through_code_makes(
        client: Client, bad: type) -> None:
    assert not await _runs(client, workflow_runner(checked=True), bad)
    assert await _runs(client, _as_production("tests.sandbox_probe"), bad)


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
