"""The gateway's own metrics (issue 19), by Prometheus's conventions (counters `_total`,
durations in seconds), served on `FIELD_SERVICE_GATEWAY_METRICS_PORT` (not the public port: an
Ingress in front of the gateway never exposes them). Labels are closed vocabularies: route
templates (never a path, which may carry a token), methods, status codes, process names,
codec operations; never a case, an integration's secret or a person."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

REGISTRY = CollectorRegistry()

REQUESTS = Counter("fieldservice_gateway_requests", "Requests answered, by route template, "
                   "method and status code", ["route", "method", "status"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("fieldservice_gateway_request_duration_seconds",
                            "Time to answer a request, by route template", ["route"],
                            registry=REGISTRY)
SIGNATURE_FAILURES = Counter("fieldservice_gateway_signature_failures",
                             "Ingress requests refused 401: missing, malformed, expired, "
                             "replayed or wrong RFC 9421 signatures", registry=REGISTRY)
SIGNAL_FALLBACKS = Counter("fieldservice_gateway_signal_fallbacks",
                           "Events delivered as a Signal (202) because the case could not "
                           "answer the Update in time, by process", ["process"],
                           registry=REGISTRY)
CODEC_CALLS = Counter("fieldservice_gateway_codec_calls", "Codec requests, by operation "
                      "(encode, decode) and outcome (ok, refused, failed)",
                      ["operation", "outcome"], registry=REGISTRY)


def serve_metrics(host: str, port: int) -> None:
    """`/metrics` of the gateway's registry on `host:port` (a background thread)."""
    start_http_server(port, addr=host, registry=REGISTRY)


def codec_outcome(status: int) -> str:
    """The outcome class of a codec answer."""
    return "ok" if status < 400 else "refused" if status < 500 else "failed"
