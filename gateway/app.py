"""The gateway's HTTP API (spec 6.1): one application of two routers, the codec server
(`gateway.codec`) and the signed integration ingress (`gateway.ingress`), which share the error
answers (`gateway.errors`) and sit behind one perimeter (`gateway.perimeter`: the body limit,
timeouts, spans, access log, no error escaping). `GatewaySettings` is everything it reads from
its environment; a setting that cannot work (a weak token, a bad integration entry, `*` CORS
with credentials) stops it at start, naming the setting and never a secret."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi_swagger import patch_fastapi
from opentelemetry import trace
from temporalio.converter import PayloadCodec

from domain.processes import PROCESSES
from gateway.codec import (
    TOKENS_ENV,
    CodecAuth,
    CodecCors,
    CodecPayloads,
    OidcSettings,
    OidcVerifier,
    codec_router,
    token_digests,
)
from gateway.errors import problem, register_refusals
from gateway.ingress import ClientProvider, Ingress, public_schema, request_name
from gateway.integrations import Integration, integrations_from_env
from gateway.perimeter import BODY_SECONDS, Perimeter
from gateway.throttle import FailureThrottle

DEFAULT_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")


@dataclass(frozen=True)
class GatewaySettings:
    """What the gateway reads from its environment."""

    codec_tokens: tuple[str, ...] = ()
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    oidc: OidcSettings | None = None
    # The Web UI's origins (the dev server's UI by default), for the codec routes only.
    cors_origins: tuple[str, ...] = DEFAULT_ORIGINS
    cors_credentials: bool = False
    task_queue: str = "field-service"
    # How long an event's Update may take before the event is delivered as a Signal instead.
    update_timeout: timedelta = timedelta(seconds=10)
    # How long a client may take to send a request's headers, and its body.
    header_seconds: float = 10.0
    body_seconds: float = BODY_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Settings from `FIELD_SERVICE_*` variables (spec 6.1)."""
        env = environ if environ is not None else os.environ
        tokens = tuple(t.strip() for t in env.get(TOKENS_ENV, "").split(",") if t.strip())
        origins = tuple(o.strip() for o in env.get(
            "FIELD_SERVICE_CODEC_CORS_ORIGINS", ",".join(DEFAULT_ORIGINS)).split(",")
            if o.strip())
        return cls(codec_tokens=tokens, integrations=integrations_from_env(env),
                   oidc=OidcSettings.from_env(env), cors_origins=origins,
                   cors_credentials=env.get("FIELD_SERVICE_CODEC_CORS_CREDENTIALS",
                                            "false").lower() == "true",
                   task_queue=env.get("FIELD_SERVICE_TASK_QUEUE", "field-service"),
                   update_timeout=timedelta(seconds=float(
                       env.get("FIELD_SERVICE_GATEWAY_UPDATE_TIMEOUT_SECONDS", "10"))),
                   header_seconds=float(env.get("FIELD_SERVICE_GATEWAY_HEADER_TIMEOUT_SECONDS",
                                                "10")),
                   body_seconds=float(env.get("FIELD_SERVICE_GATEWAY_BODY_TIMEOUT_SECONDS",
                                              str(BODY_SECONDS))))


# FastAPI's own OpenTelemetry instrumentation (0.16x) made a second SERVER span per request
# (often its own trace), traced the probes, and put the raw URL path, with the codec's token in
# it, into span attributes. The Perimeter makes the one span of a request, named by its route
# template; FastAPI's is off (older releases have no such option, and take none).
_NO_NATIVE_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {})


def create_app(settings: GatewaySettings, client: ClientProvider,
               codec: PayloadCodec | None, tracer: trace.Tracer | None = None) -> Perimeter:
    """The gateway as an ASGI application; `client` gives the Temporal client (with the
    project's data converter, and the tracing interceptor when traces are on), `codec` the
    payload codec (None: no keys, payloads pass through), `tracer` the one for request spans
    (default: the global provider's; a no-op unless tracing is configured). Its FastAPI
    application is `.app.app` (inside the codec routes' CORS)."""
    app = FastAPI(title="fieldservice gateway", version="2", redirect_slashes=False,
                  docs_url=None, redoc_url=None, swagger_ui_oauth2_redirect_url=None,
                  **_NO_NATIVE_TELEMETRY,
                  description="Codec server for the Temporal Web UI and CLI, and the signed "
                              "ingress of integrations (spec 6.1). Every ingress request is "
                              "signed with RFC 9421 HTTP Message Signatures (HMAC-SHA256, "
                              "keyid = the integration's name; see docs/integrations.md).")
    register_refusals(app)

    async def unhandled(_: Request, __: Exception) -> Response:
        return problem(500, "the gateway failed on this request; it was logged")

    app.add_exception_handler(Exception, unhandled)

    # /docs with Swagger UI's files served by the gateway itself (/swagger/...), not a CDN.
    patch_fastapi(app, docs_url="/docs", redirect_from_root_to_docs=False,
                  title="fieldservice gateway API")

    @app.get("/livez", include_in_schema=False)
    async def livez() -> Response:
        """For the cluster's probes: the process serves requests (it reaches Temporal lazily,
        per request, and answers 503 on those when Temporal is away)."""
        return Response("ok\n", media_type="text/plain")

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        """For the readiness probe: the Temporal server answers within 2 s (the ingress can
        reach cases). While it does not, the pod leaves the Service's endpoints, and its
        liveness holds: restarting it would not bring Temporal back."""
        try:
            temporal = await asyncio.wait_for(client(), timeout=2)
            await temporal.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception as err:  # noqa: BLE001 - any failure means not ready
            return Response(f"the Temporal server does not answer: {type(err).__name__}\n",
                            status_code=503, media_type="text/plain")
        return Response("ok\n", media_type="text/plain")

    throttle = FailureThrottle()
    auth = CodecAuth(token_digests(settings.codec_tokens),
                     OidcVerifier(settings.oidc) if settings.oidc else None, throttle)
    app.include_router(codec_router(auth, codec))
    ingress = Ingress(dict(settings.integrations), client, task_queue=settings.task_queue,
                      update_timeout=settings.update_timeout, throttle=throttle)
    app.include_router(ingress.router())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            for spec in PROCESSES.values():
                public = public_schema(spec)
                for name, definition in public.pop("$defs", {}).items():
                    schemas.setdefault(name, _refs_to_components(definition))
                schemas[request_name(spec)] = _refs_to_components(public)
            schemas["CodecPayloads"] = CodecPayloads.model_json_schema()
            components["securitySchemes"] = {
                "rfc9421": {"type": "apiKey", "in": "header", "name": "Signature",
                            "description": "RFC 9421 HTTP Message Signature (with "
                                           "Signature-Input, and Content-Digest per RFC 9530 "
                                           "when there is a body): HMAC-SHA256, keyid = the "
                                           "integration, created within 300 s, covering "
                                           "@method, @path, @query (with a query) and "
                                           "content-digest (with a body)"},
                "codecToken": {"type": "http", "scheme": "bearer",
                               "description": "a codec token, or the operator's OIDC "
                                              "access token"}}
            for path, item in schema.get("paths", {}).items():
                if path.startswith("/codec/") and "{token}" not in path:
                    for operation in item.values():
                        operation["security"] = [{"codecToken": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    cors = CodecCors(app, settings.cors_origins, settings.cors_credentials)
    return Perimeter(cors, tracer=tracer, body_seconds=settings.body_seconds)


def _refs_to_components(node: Any) -> Any:
    """A JSON schema with `#/$defs/X` references pointed at `#/components/schemas/X`."""
    if isinstance(node, dict):
        return {k: (v.replace("#/$defs/", "#/components/schemas/")
                    if k == "$ref" and isinstance(v, str) else _refs_to_components(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_refs_to_components(v) for v in node]
    return node
