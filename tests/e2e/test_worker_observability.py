"""The worker's `/metrics`, `/livez` and `/readyz` on a real dev server (issue 10): the
project's counters appear after a case runs, labelled without personal data; readiness flips
when the Temporal server goes away while liveness holds."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from infra import metric_names
from tests.e2e.test_local_stack import Stack, free_port, om_report, running


@pytest_asyncio.fixture
async def observed(tmp_path: Path) -> AsyncIterator[tuple[Stack, WorkflowEnvironment]]:
    """A dev server and a worker with its metrics and health ports set."""
    async with running(Stack, tmp_path) as s:
        s.vars.update({"FIELD_SERVICE_METRICS_PORT": str(free_port()),
                       "FIELD_SERVICE_HEALTH_PORT": str(free_port()),
                       "FIELD_SERVICE_METRICS_HOST": "127.0.0.1"})
        yield s, s.env


async def _get(url: str) -> httpx.Response | None:
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            return await http.get(url)
    except httpx.TransportError:
        return None


async def _until(url: str, status: int, seconds: float = 30) -> httpx.Response:
    end = time.monotonic() + seconds
    while True:
        r = await _get(url)
        if r is not None and r.status_code == status:
            return r
        if time.monotonic() > end:
            raise AssertionError(f"{url}: {r and r.status_code} {r and r.text}")
        await asyncio.sleep(0.3)



async def test_metrics_and_probes_of_a_worker(
        observed: tuple[Stack, WorkflowEnvironment]) -> None:
    stack, env = observed
    metrics = f"http://127.0.0.1:{stack.vars['FIELD_SERVICE_METRICS_PORT']}/metrics"
    health = f"http://127.0.0.1:{stack.vars['FIELD_SERVICE_HEALTH_PORT']}"
    stack.start_worker()
    await _until(f"{health}/readyz", 200)
    assert (await _until(f"{health}/livez", 200)).text == "ok\n"
    assert (await _get(f"{health}/nothing")).status_code == 404  # type: ignore[union-attr]

    report = om_report("SYS-MET-1")
    code, _, err = await stack.starter("open", "om", "-", stdin=json.dumps(report))
    assert code == 0, err
    code, _, err = await stack.starter("event", "om-SYS-MET-1", "appointment_outcome",
                                       '{"appointment_id": "APT-1", "result": "completed"}')
    assert code == 3, err  # refused: not the stage for it
    code, _, err = await stack.starter("event", "om-SYS-MET-1", "remote_fix_result",
                                       '{"event_id": "m-1", "resolved": true}', "--signal")
    assert code == 0, err
    end = time.monotonic() + 30
    while True:
        text = (await _until(metrics, 200)).text
        if 'outcome="resolved_remotely"' in text or time.monotonic() > end:
            break
        await asyncio.sleep(0.5)

    lines = [line for line in text.splitlines() if line.startswith("fieldservice_")]
    def value(name: str, **labels: str) -> float:
        for line in lines:
            head, _, number = line.rpartition(" ")
            if re.match(rf"{name}(_total)?\{{", head) and all(
                    f'{k}="{v}"' in head for k, v in labels.items()):
                return float(number)
        raise AssertionError(f"no {name} {labels} in:\n" + "\n".join(lines))

    assert value(metric_names.CASES_OPENED, process="om_simplified") == 1
    assert value(metric_names.CASES_CLOSED, process="om_simplified",
                 outcome="resolved_remotely") == 1
    assert value(metric_names.EVENTS_REJECTED, process="om_simplified", reason="stage",
                 via="update") == 1
    assert value(metric_names.SIDE_EFFECTS, kind="remote_fix_request") == 1
    # The SDK's own metrics are on the same endpoint.
    assert "temporal_workflow_completed_total" in text
    # Prometheus's conventions (what `promtool check metrics` checks): a counter's name ends
    # in _total and nothing else's does; durations are seconds, named so; the Temporal
    # namespace is `temporal_namespace` (Kubernetes discovery owns `namespace`).
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    assert types and all(name.endswith("_total") == (kind == "counter")
                         for name, kind in types.items()), types
    assert not [n for n in types if "millisecond" in n or n.endswith("_ms")]
    assert "temporal_workflow_task_schedule_to_start_latency_seconds" in types
    assert 'temporal_namespace="default"' in text
    assert not re.search(r'[{,]namespace="', text)
    # No label names a case, a system or a person.
    joined = "\n".join(lines)
    assert "SYS-MET-1" not in joined and "4155550100" not in joined and "Ana" not in joined

    # The server goes away: not ready (the probe takes it out of service), still alive.
    await env.shutdown()
    r = await _until(f"{health}/readyz", 503)
    assert "the Temporal server does not answer" in r.text
    assert (await _get(f"{health}/livez")).status_code == 200  # type: ignore[union-attr]

    # Through the outage every line the worker writes is JSON, the SDK core's own included
    # (they were coloured plain text: 85 of 247 lines in an outage).
    end = time.monotonic() + 30
    while True:
        raw = [line for line in stack.log.read_text().splitlines() if line.strip()]
        core = [line for line in raw if '"temporalio.core' in line]
        if core or time.monotonic() > end:
            break
        await asyncio.sleep(0.5)
    assert core, "no SDK core line in the worker's log during the outage"
    not_json = [line for line in raw if not line.startswith("{")]
    assert not_json == []
    assert all(json.loads(line)["level"] in ("warning", "error") for line in core)
