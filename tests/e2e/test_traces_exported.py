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

from tests.e2e.test_local_stack import Stack, free_port, running
from tests.workflows.harness import om_input


class Collector(otlp_grpc.TraceServiceServicer):
    """Keeps every span it is sent: (service name, span name, trace id)."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, str, bytes]] = []

    def Export(self, request: otlp.ExportTraceServiceRequest,  # noqa: N802 - the gRPC name
               context: Any) -> otlp.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope in resource_spans.scope_spans:
                self.spans += [(service, s.name, s.trace_id) for s in scope.spans]
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
    assert [svc for svc, _ in started] == ["fieldservice-starter"]
    trace_id = started[0][1]
    in_trace = {(svc, name) for svc, name, trace in sink.spans if trace == trace_id}
    assert ("fieldservice-worker", "RunWorkflow:OmSimplifiedWorkflow") in in_trace
    assert any(svc == "fieldservice-worker" and name.startswith("RunActivity:")
               for svc, name in in_trace), in_trace
