"""Traces leave the processes by OTLP (issue 10), on a real dev server: with
OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector (here a stand-in OTLP/gRPC receiver), the
starter's call and the worker's workflow and activity spans arrive there in one trace, under
their service names; without the variable nothing is exported (the other end-to-end tests)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as otlp
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as otlp_grpc

from tests.e2e.test_local_stack import Stack, free_port, running, until_live
from tests.workflows.harness import om_input


class Collector(otlp_grpc.TraceServiceServicer):
    """Keeps every span it is sent: (service name, span name, trace id), and each span's kind
    and attributes in `details`."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, bytes]] = []
        self.details: list[tuple[str, str, int, dict[str, str]]] = []

    def Export(self, request: otlp.ExportTraceServiceRequest,  # noqa: N802 - the gRPC name
               context: Any) -> otlp.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope in resource_spans.scope_spans:
                self.spans += [(service, s.name, s.trace_id) for s in scope.spans]
                self.details += [(service, s.name, s.kind,
                                  {a.key: str(a.value) for a in s.attributes})
                                 for s in scope.spans]
        return otlp.ExportTraceServiceResponse()


@pytest.fixture
def collector() -> Iterator[tuple[Collector, int]]:
    """An OTLP/gRPC trace receiver on a free port."""
    port = free_port()
    sink = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    otlp_grpc.add_TraceServiceServicer_to_server(sink, server)  # type: ignore[no-untyped-call]
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    yield sink, port
    server.stop(None)


@pytest_asyncio.fixture
async def traced(tmp_path: Path, collector: tuple[Collector, int]) -> AsyncIterator[Stack]:
    """A dev server, and processes that export their spans to the collector."""
    async with running(Stack, tmp_path) as s:
        s.vars.update({"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector[1]}",
                       "OTEL_EXPORTER_OTLP_INSECURE": "true",
                       "OTEL_BSP_SCHEDULE_DELAY": "200"})
        yield s


async def test_spans_reach_the_collector_in_one_trace(
        traced: Stack, collector: tuple[Collector, int]) -> None:
    sink, _ = collector
    traced.start_worker()
    code, _, err = await traced.starter("open", "om", "-", stdin=json.dumps(
        om_input("SYS-OTEL-1").model_dump(mode="json")))
    assert code == 0, err
    end = time.monotonic() + 30
    while not any(name.startswith("RunActivity:") for _, name, _ in sink.spans):
        assert time.monotonic() < end, sink.spans
        await asyncio.sleep(0.3)
    assert traced.worker is not None
    traced.worker.send_signal(signal.SIGTERM)  # a clean stop flushes what is buffered
    assert traced.worker.wait(timeout=30) == 0

    started = [(svc, trace) for svc, name, trace in sink.spans
               if name == "SignalWithStartWorkflow:OmSimplifiedWorkflow"]
    # One start, or two when the starter ran before the worker had registered the search
    # attributes (open_case then starts again without them): both the starter's, one trace.
    assert {svc for svc, _ in started} == {"fieldservice-starter"} and 1 <= len(started) <= 2
    runs = {trace for svc, name, trace in sink.spans
            if name == "RunWorkflow:OmSimplifiedWorkflow"}
    [trace_id] = [trace for _, trace in started if trace in runs]
    in_trace = {(svc, name) for svc, name, trace in sink.spans if trace == trace_id}
    assert ("fieldservice-worker", "RunWorkflow:OmSimplifiedWorkflow") in in_trace
    assert any(svc == "fieldservice-worker" and name.startswith("RunActivity:")
               for svc, name in in_trace), in_trace


async def test_the_gateway_makes_one_span_per_request_and_none_carries_a_token(
        tmp_path: Path, collector: tuple[Collector, int]) -> None:
    """Issue 19, finding 3: every gateway request made two SERVER spans (FastAPI's own
    instrumentation beside the gateway's), the probes made traces, and the codec's token (in
    the path of `/codec/t/{token}/...`) reached span attributes. A real `python -m gateway`
    exporting to the collector: one SERVER span per traced request, named by its route
    template, no token anywhere, no span for a probe."""
    import os
    import subprocess
    import sys

    import httpx

    from tests.e2e.test_local_stack import ROOT

    sink, port = collector
    token = "codec-token-" + "s3cr3t" * 6
    gw_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_SERVICE_", "OTEL"))}
    env.update({"FIELD_SERVICE_GATEWAY_PORT": str(gw_port), "FIELD_SERVICE_CODEC_TOKENS": token,
                "FIELD_SERVICE_INTEGRATIONS": json.dumps({"crm": {
                    "secrets": ["x" * 32], "open": ["*"], "events": ["*"], "read": True}}),
                "TEMPORAL_ADDRESS": "127.0.0.1:1", "FIELD_SERVICE_LOG_FORMAT": "json",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_BSP_SCHEDULE_DELAY": "200"})
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw_port}", timeout=5) as http:
            await until_live(http)
            for _ in range(3):
                assert (await http.get("/livez")).status_code == 200
            payloads = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L3BsYWlu"},
                                      "data": "aGk="}]}
            r = await http.post(f"/codec/t/{token}/decode", json=payloads)
            assert r.status_code == 200, r.text
            r = await http.post("/codec/t/wrong-token/decode", json=payloads)
            assert r.status_code in (401, 403)
            r = await http.get("/openapi.json")
            assert r.status_code == 200
        # The spans are exported in batches (every 200 ms here): wait for the three, and a
        # little more for any that should not be there, before stopping the gateway.
        end = time.monotonic() + 20
        while sum(1 for d in sink.details if d[0] == "fieldservice-gateway" and d[2] == 2) < 3:
            assert time.monotonic() < end, sink.details
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    gateway = [d for d in sink.details if d[0] == "fieldservice-gateway"]
    server = [d for d in gateway if d[2] == 2]  # SPAN_KIND_SERVER
    assert sorted(name for _, name, _, _ in server) == [
        "GET /openapi.json", "POST /codec/t/{token}/decode", "POST /codec/t/{token}/decode"]
    assert len(gateway) == len(server)  # nothing else: no second instrumentation
    assert token not in repr(sink.details) and "wrong-token" not in repr(sink.details)
    assert not [d for d in gateway if "livez" in repr(d)]
