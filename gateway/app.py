"""The gateway's HTTP API (spec 6.1), one FastAPI application:

- `POST /codec/encode`, `POST /codec/decode`: the Temporal codec server protocol for the Web UI
  (`--ui-codec-endpoint`) and the CLI (`--codec-endpoint`), behind `Authorization: Bearer
  <token>` (`FIELD_SERVICE_CODEC_TOKENS`), with CORS for the UI's origin;
  `POST /codec/t/{token}/encode|decode`: the same with the token in the endpoint URL, for the
  Web UI, which cannot add an `Authorization` header of its own (it can only forward a
  single-sign-on access token) but takes any endpoint URL an operator pastes.
- `POST /v1/cases/{process}`, `POST /v1/cases/{workflow_id}/events/{event}`,
  `GET /v1/cases/{workflow_id}`: the signed ingress (`gateway.signing`), answering with the
  status codes of 6.1.

Access logs name the method, the route, the status, the integration and the time taken: never a
body, a header value or a case's data."""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from opentelemetry import propagate, trace
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from domain.base import describe_fields
from domain.case import CaseSummary
from domain.processes import PROCESSES, ProcessSpec, process_of
from gateway import signing
from starter.client import (
    CaseClosed,
    CaseNotFound,
    EventRejected,
    InvalidEvent,
    ServerUnavailable,
    case_status,
    deliver_event,
    open_case,
)

log = structlog.get_logger("fieldservice.gateway")

TOKENS_ENV = "FIELD_SERVICE_CODEC_TOKENS"
MAX_BODY = 256 * 1024
ClientProvider = Callable[[], Awaitable[Client]]


@dataclass(frozen=True)
class GatewaySettings:
    """What the gateway reads from its environment."""

    codec_tokens: frozenset[str] = frozenset()
    webhook_secrets: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)
    # The Web UI's origin (the dev server's UI by default).
    cors_origins: tuple[str, ...] = ("http://localhost:8233", "http://127.0.0.1:8233")
    task_queue: str = "field-service"
    # How long an event's Update may take before the event is delivered as a Signal instead.
    update_timeout: timedelta = timedelta(seconds=10)
    signature_tolerance: int = signing.TOLERANCE_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewaySettings:
        """Settings from `FIELD_SERVICE_*` variables (spec 6.1)."""
        env = environ if environ is not None else os.environ
        tokens = frozenset(t.strip() for t in env.get(TOKENS_ENV, "").split(",") if t.strip())
        origins = tuple(o.strip() for o in env.get(
            "FIELD_SERVICE_CODEC_CORS_ORIGINS",
            "http://localhost:8233,http://127.0.0.1:8233").split(",") if o.strip())
        return cls(codec_tokens=tokens,
                   webhook_secrets=signing.parse_secrets(env.get(signing.SECRETS_ENV, "")),
                   cors_origins=origins,
                   task_queue=env.get("FIELD_SERVICE_TASK_QUEUE", "field-service"),
                   update_timeout=timedelta(seconds=float(
                       env.get("FIELD_SERVICE_GATEWAY_UPDATE_TIMEOUT_SECONDS", "10"))))


class Opened(BaseModel):
    """The answer to opening a case: its ID (the workflow ID) and whether it was already
    open."""

    case_id: str
    workflow_type: str
    summary: str
    joined: bool | None


class DeliveredAsSignal(BaseModel):
    """202: the case could not answer in time; the event was delivered durably as a Signal
    and is applied when the case gets to it (a rejection then lands in its
    `status.rejected_events`)."""

    case_id: str
    event: str
    event_id: str
    delivered_as: str = "signal"


class Problem(BaseModel):
    """An error answer: what went wrong, in one sentence naming the fields."""

    error: str


def _problem(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


# How each refusal of the starter's client is answered (spec 6.1).
REFUSALS: dict[type[Exception], int] = {
    InvalidEvent: 422, CaseNotFound: 404, CaseClosed: 410, EventRejected: 409,
    ServerUnavailable: 503,
}


def _answer_with(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def answer(_: Request, exc: Exception) -> Response:
        return _problem(status, str(exc))
    return answer


def _owned(workflow_id: str) -> None:
    """Refuse (404) an ID no process owns before asking Temporal about it."""
    try:
        process_of(workflow_id)
    except ValueError as err:
        raise CaseNotFound(str(err)) from None


def create_app(settings: GatewaySettings, client: ClientProvider,
               codec: PayloadCodec | None, tracer: trace.Tracer | None = None) -> FastAPI:
    """The gateway application; `client` gives the Temporal client (with the project's data
    converter, and the tracing interceptor when traces are on), `codec` the payload codec
    (None: no keys, payloads pass through), `tracer` the one for request spans (default: the
    global provider's; a no-op unless tracing is configured)."""
    spans = tracer or trace.get_tracer("fieldservice.gateway")
    app = FastAPI(title="fieldservice gateway", version="1",
                  description="Codec server for the Temporal Web UI and CLI, and the signed "
                              "ingress of integrations (spec 6.1).")
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                       allow_methods=["POST", "OPTIONS"], allow_credentials=True,
                       allow_headers=["Authorization", "Content-Type", "X-Namespace"])

    @app.middleware("http")
    async def limit_and_log(request: Request,
                            call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.monotonic()
        # The caller's trace (a W3C `traceparent` header) continues here and, through the
        # client's tracing interceptor, into the case's workflow and activities.
        with spans.start_as_current_span(
                f"{request.method} gateway", context=propagate.extract(request.headers),
                kind=trace.SpanKind.SERVER) as span:
            length = request.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > MAX_BODY:
                response: Response = _problem(413, f"the body is over {MAX_BODY // 1024} KiB")
            else:
                response = await call_next(request)
            route = getattr(request.scope.get("route"), "path", "unmatched")
            span.update_name(f"{request.method} {route}")
            span.set_attributes({"http.request.method": request.method, "http.route": route,
                                 "http.response.status_code": response.status_code})
        log.info("request", method=request.method, route=route, status=response.status_code,
                 integration=request.headers.get(signing.INTEGRATION_HEADER, "-")[:80],
                 ms=round((time.monotonic() - started) * 1000, 1))
        return response

    # The starter client's refusals, one status each, for every route (a subclass's own
    # status wins: Starlette looks handlers up along the exception's MRO).
    for refusal, code in REFUSALS.items():
        app.add_exception_handler(refusal, _answer_with(code))

    @app.get("/livez", include_in_schema=False)
    async def livez() -> Response:
        """For the cluster's probes: the process serves requests (it reaches Temporal lazily,
        per request, and answers 503 on those when Temporal is away)."""
        return Response("ok\n", media_type="text/plain")

    # ---- codec server ----------------------------------------------------------------------

    def _token_ok(token: str) -> bool:
        # Constant-time against every configured token, so timing says nothing about them.
        found = False
        for known in settings.codec_tokens:
            found |= hmac.compare_digest(token.encode(), known.encode())
        return bool(token) and found

    async def _codec(request: Request, encode: bool, path_token: str | None = None) -> Response:
        if path_token is not None:
            token = path_token
        else:
            auth = request.headers.get("authorization", "")
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not _token_ok(token):
            return _problem(401, "a valid codec token is required (Authorization: Bearer ... "
                                 "or the endpoint /codec/t/<token>)")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problem(413, f"the body is over {MAX_BODY // 1024} KiB")
        try:
            payloads = json_format.Parse(body or b"{}", Payloads())
        except json_format.ParseError as err:
            return _problem(400, f"not a codec request ({str(err)[:200]})")
        items = list(payloads.payloads)
        if codec is not None:
            try:
                items = await (codec.encode(items) if encode else codec.decode(items))
            except ValueError as err:
                return _problem(400, str(err))
        out = json_format.MessageToDict(Payloads(payloads=items))
        return JSONResponse(content={"payloads": out.get("payloads", [])})

    @app.post("/codec/encode", tags=["codec"], summary="Encrypt payloads (codec server)")
    async def codec_encode(request: Request) -> Response:
        """Temporal codec server protocol: `{"payloads": [...]}` in, encrypted out."""
        return await _codec(request, encode=True)

    @app.post("/codec/decode", tags=["codec"], summary="Decrypt payloads (codec server)")
    async def codec_decode(request: Request) -> Response:
        """Temporal codec server protocol: `{"payloads": [...]}` in, decrypted out."""
        return await _codec(request, encode=False)

    # The access log names the route template (`/codec/t/{token}/decode`), never the token.
    @app.post("/codec/t/{token}/encode", tags=["codec"],
              summary="Encrypt payloads, token in the endpoint URL (for the Web UI)")
    async def codec_encode_with_token(token: str, request: Request) -> Response:
        """As `/codec/encode`, authorised by the token in the path."""
        return await _codec(request, encode=True, path_token=token)

    @app.post("/codec/t/{token}/decode", tags=["codec"],
              summary="Decrypt payloads, token in the endpoint URL (for the Web UI)")
    async def codec_decode_with_token(token: str, request: Request) -> Response:
        """As `/codec/decode`, authorised by the token in the path."""
        return await _codec(request, encode=False, path_token=token)

    # ---- ingress ----------------------------------------------------------------------------

    async def _signed(request: Request) -> tuple[bytes, Response | None]:
        body = await request.body()
        if len(body) > MAX_BODY:
            return body, _problem(413, f"the body is over {MAX_BODY // 1024} KiB")
        why = signing.verify(request.headers.get(signing.INTEGRATION_HEADER),
                             request.headers.get(signing.SIGNATURE_HEADER), body, time.time(),
                             settings.webhook_secrets, settings.signature_tolerance)
        return body, (_problem(401, why) if why else None)

    async def _signed_object(request: Request) -> dict[str, Any] | Response:
        """The signed request's body as one JSON object, or the refusal (401, 413, 422)."""
        body, refused = await _signed(request)
        if refused is not None:
            return refused
        try:
            data = json.loads(body)
        except ValueError:
            return _problem(422, "the body is not JSON")
        if not isinstance(data, dict):
            return _problem(422, "the body must be one JSON object")
        return data

    async def _open(process: ProcessSpec, request: Request) -> Response:
        data = await _signed_object(request)
        if isinstance(data, Response):
            return data
        try:
            inp = process.input_model.model_validate(data)
        except ValidationError as exc:
            return _problem(422, f"{process.input_model.__name__}: {describe_fields(exc)}")
        opened = await open_case(await client(), process, inp, settings.task_queue)
        return JSONResponse(content=Opened(case_id=opened.case_id,
                                           workflow_type=opened.workflow_type,
                                           summary=opened.summary,
                                           joined=opened.joined).model_dump())

    for spec in PROCESSES.values():
        _add_open_route(app, spec, _open)

    @app.post("/v1/cases/{process}", tags=["ingress"], include_in_schema=False)
    async def open_unknown(process: str, request: Request) -> Response:
        body, refused = await _signed(request)
        if refused is not None:
            return refused
        return _problem(404, f"no process {process[:80]!r} (known: "
                             f"{', '.join(sorted(PROCESSES))})")

    @app.post("/v1/cases/{workflow_id}/events/{event}", tags=["ingress"],
              responses={200: {"model": CaseSummary}, 202: {"model": DeliveredAsSignal},
                         **{c: {"model": Problem} for c in (401, 404, 409, 410, 413, 422)}},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/json": {"schema": {
                      "type": "object", "required": ["event_id"],
                      "properties": {"event_id": {"type": "string", "minLength": 1}},
                      "additionalProperties": True}}}}})
    async def send(workflow_id: str, event: str, request: Request) -> Response:
        """Send an event (the payload with its `event_id`): 200 applied or duplicate, 202
        delivered as a Signal, 404 / 409 / 410 / 422 refused for good."""
        data = await _signed_object(request)
        if isinstance(data, Response):
            return data
        event_id = data.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            return _problem(422, f"{event[:80]}: event_id: a non-empty string is required")
        _owned(workflow_id)
        delivery = await deliver_event(await client(), workflow_id, event, data,
                                       update_timeout=settings.update_timeout)
        if delivery.answer is None:
            return JSONResponse(status_code=202, content=DeliveredAsSignal(
                case_id=workflow_id, event=event, event_id=event_id).model_dump())
        return JSONResponse(content=delivery.answer.model_dump(mode="json"))

    @app.get("/v1/cases/{workflow_id}", tags=["ingress"],
             responses={c: {"model": Problem} for c in (401, 404, 503)})
    async def status(workflow_id: str, request: Request) -> Response:
        """The case's `status` (signed like every ingress request; the body signed is empty)."""
        _, refused = await _signed(request)
        if refused is not None:
            return refused
        _owned(workflow_id)
        case = await case_status(await client(), workflow_id)
        return JSONResponse(content=case.model_dump(mode="json"))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for spec in PROCESSES.values():
                _merge_schema(components, spec.input_model)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _add_open_route(app: FastAPI, spec: ProcessSpec,
                    handler: Callable[[ProcessSpec, Request], Awaitable[Response]]) -> None:
    """`POST /v1/cases/{prefix}` for one process, documented with its input model."""
    name = spec.input_model.__name__

    async def open_process(request: Request) -> Response:
        return await handler(spec, request)

    app.post(f"/v1/cases/{spec.prefix}", tags=["ingress"], name=f"open_{spec.prefix}",
             summary=f"Open or join a {spec.title}",
             description=f"Opens the case for the `{name}` body, or joins the open one "
                         f"(answers its `case_id`, the workflow ID).",
             responses={200: {"model": Opened},
                        **{c: {"model": Problem} for c in (401, 413, 422)}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}},
             )(open_process)


def _merge_schema(components: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for def_name, definition in schema.pop("$defs", {}).items():
        components.setdefault(def_name, definition)
    components[model.__name__] = schema
