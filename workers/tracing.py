"""OpenTelemetry traces (issue 10): one trace follows an integration's request through the
gateway into the case's workflow and its activities.

Tracing is on when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans go by OTLP (gRPC)
to that collector, named by `OTEL_SERVICE_NAME` (else the process's own name), and the SDK's
`TracingInterceptor` on the client (the worker inherits it) carries the context in Temporal's
headers: client call -> RunWorkflow -> StartActivity -> RunActivity. Off, nothing is set up.
Spans name operations (workflow and activity types, routes), never case data."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"


@dataclass
class Tracing:
    """The client interceptors to install, and how to flush the spans at exit."""

    interceptors: list[Interceptor] = field(default_factory=list)
    provider: TracerProvider | None = None

    def shutdown(self) -> None:
        """Export what is buffered (a clean stop loses no span)."""
        if self.provider is not None:
            self.provider.shutdown()


def configure_tracing(service_name: str) -> Tracing:
    """Set up OTLP export and the interceptor when the environment asks for it."""
    if not os.environ.get(ENDPOINT_ENV):
        return Tracing()
    provider = TracerProvider(resource=Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads OTEL_* itself
    trace.set_tracer_provider(provider)
    return Tracing([TracingInterceptor()], provider)
