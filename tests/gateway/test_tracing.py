"""One trace follows an integration's request (issue 10): the gateway continues the caller's
W3C trace, and the SDK's tracing interceptor carries it into the case's workflow and its
activities. Spans name operations, never case data."""

from __future__ import annotations

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from domain.reactivation import Reactivation
from tests.gateway.helpers import Signed, gateway_app, public
from tests.workflows.harness import CaseHarness, reactivation_input

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_one_trace_from_the_request_into_the_workflow_and_its_activities(
        om: CaseHarness) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    config = om.client.config()
    config["interceptors"] = [TracingInterceptor(tracer)]
    om.client = Client(**config)  # the worker built from it inherits the interceptor

    app = gateway_app(om.client, task_queue=om.task_queue, codec=False, tracer=tracer)
    body = public(reactivation_input(contract_id="CON-TRACE"))
    async with om.worker():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as http:
            r = await Signed(http).post("/v1/cases/reactivation", body, extra_headers={
                "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
        assert r.status_code == 200, r.text
        await om.driver("reactivation-CON-TRACE", Reactivation).stage(
            "back_office_verification")
    provider.force_flush()

    spans = exporter.get_finished_spans()
    in_trace = [s for s in spans if f"{s.context.trace_id:032x}" == TRACE_ID]
    names = {s.name for s in in_trace}
    assert "POST /v1/cases/reactivation" in names
    assert "StartWorkflow:ReactivationWorkflow" in names
    assert "RunWorkflow:ReactivationWorkflow" in names
    assert any(n.startswith("StartActivity:") for n in names), names
    assert any(n.startswith("RunActivity:create_crm_record") for n in names), names
    # The gateway's span is the child of the caller's, and the workflow's of the gateway's.
    gateway_span = next(s for s in in_trace if s.name == "POST /v1/cases/reactivation")
    assert gateway_span.parent is not None and f"{gateway_span.parent.span_id:016x}" == (
        "00f067aa0ba902b7")
    assert gateway_span.attributes is not None
    assert gateway_span.attributes["http.response.status_code"] == 200
    # No span names or attributes carry the homeowner.
    text = repr([(s.name, dict(s.attributes or {})) for s in spans])
    assert "4155550100" not in text and "Ana" not in text
