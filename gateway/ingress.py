"""The integration ingress (spec 6.1): open or join a case, send it an event or an ops
command, read its status; every request signed (RFC 9421, `gateway.signing`), every action
allowed per integration (`gateway.integrations`), every body a public request (never the case's
internal state).

- `POST /v1/cases/{process}`: the process's public request (its input without the fields only
  the project sets, such as `carried_case`: a body carrying one is 422).
- `POST /v1/cases/{workflow_id}/events/{event}`: the payload with its `event_id`, which the
  gateway scopes to the integration (`crm:e-1`), so one integration's ID never swallows
  another's event; the recorded `actor` is the verified integration (what the body called
  itself is kept as `actor_note`).
- `GET /v1/cases/{workflow_id}`: the status."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from temporalio.client import Client
from temporalio.service import RPCError

from domain.base import describe_fields
from domain.case import CaseSummary
from domain.events import OPS_COMMANDS
from domain.processes import PROCESSES, ProcessSpec, process_of
from gateway import signing
from gateway.errors import Forbidden, problem, responses
from gateway.integrations import Integration
from gateway.metrics import SIGNAL_FALLBACKS, SIGNATURE_FAILURES
from gateway.throttle import FailureThrottle
from starter.client import (
    CaseNotFound,
    ServerUnavailable,
    deliver_event,
    open_case,
    status_or_visibility,
)

ClientProvider = Callable[[], Awaitable[Client]]
# Deeper JSON than this is refused: no event needs it, and encoding it could exhaust the stack.
MAX_DEPTH = 32
SIGNED: list[dict[str, list[str]]] = [{"rfc9421": []}]


class Opened(BaseModel):
    """The answer to opening a case: its ID (the workflow ID) and whether it was already
    open."""

    case_id: str
    workflow_type: str
    summary: str
    joined: bool | None
    # An inquiry that has already run (spec 2.3): its outcome; nothing ran or was sent again.
    outcome: str | None = None


class DeliveredAsSignal(BaseModel):
    """202: the case could not answer in time; the event was delivered durably as a Signal
    and is applied when the case gets to it (a rejection then lands in its
    `status.rejected_events`)."""

    case_id: str
    event: str
    event_id: str
    delivered_as: str = "signal"


@dataclass(frozen=True)
class Caller:
    """A verified request: who sent it, what it may do, and its body."""

    name: str
    integration: Integration
    body: bytes


def public_schema(process: ProcessSpec) -> dict[str, Any]:
    """The JSON schema of a process's public request: its input model without the fields
    only the project sets, and without the definitions only those used."""
    schema = process.input_model.model_json_schema(ref_template="#/$defs/{model}")
    for name in process.internal_fields:
        schema.get("properties", {}).pop(name, None)
        if name in schema.get("required", []):
            schema["required"].remove(name)
    defs = schema.pop("$defs", {})
    keep: dict[str, Any] = {}
    todo = [schema]
    while todo:
        node = todo.pop()
        for ref in _refs(node):
            name = ref.rsplit("/", 1)[-1]
            if name not in keep and name in defs:
                keep[name] = defs[name]
                todo.append(defs[name])
    if keep:
        schema["$defs"] = keep
    schema["title"] = request_name(process)
    return schema


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs(item))
    return found


def request_name(process: ProcessSpec) -> str:
    """The public request's name in the OpenAPI document (`OmCaseRequest`, ...)."""
    return process.input_model.__name__.removesuffix("Input") + "Request"


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def json_object(body: bytes) -> dict[str, Any] | Response:
    """The body as one JSON object, or the 422 saying why not."""
    try:
        data = json.loads(body)
    except RecursionError:
        return problem(422, f"the body is nested more than {MAX_DEPTH} levels deep")
    except ValueError:
        return problem(422, "the body is not JSON (UTF-8)")
    if not isinstance(data, dict):
        return problem(422, "the body must be one JSON object")
    if _depth(data) > MAX_DEPTH:
        return problem(422, f"the body is nested more than {MAX_DEPTH} levels deep")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return problem(422, "the body has a string that is not valid Unicode (a lone "
                            "surrogate escape)")
    return data


def _owned(workflow_id: str) -> None:
    """Refuse (404) an ID no process owns before asking Temporal about it."""
    try:
        process_of(workflow_id)
    except ValueError as err:
        raise CaseNotFound(str(err)) from None


class Ingress:
    """The ingress routes and what they share: the signature check, the permissions, the
    client."""

    def __init__(self, integrations: dict[str, Integration], client: ClientProvider, *,
                 task_queue: str, update_timeout: timedelta, throttle: FailureThrottle,
                 nonces: signing.NonceCache | None = None) -> None:
        self.integrations = integrations
        self.secrets = {name: i.secret_bytes for name, i in integrations.items()}
        self.client = client
        self.task_queue = task_queue
        self.update_timeout = update_timeout
        self.throttle = throttle
        self.nonces = nonces or signing.NonceCache()

    async def temporal(self) -> Client:
        """The Temporal client; 503 when the server cannot be reached."""
        try:
            return await self.client()
        except Exception:  # noqa: BLE001 - any failure to connect means "retry later"
            raise ServerUnavailable("the Temporal server could not be reached; retry later") \
                from None

    async def caller(self, request: Request) -> Caller | Response:
        """The verified caller of a request, or the answer refusing it (401, 429)."""
        client = request.client.host if request.client else "-"
        wait = self.throttle.retry_after(client)
        if wait is not None:
            return problem(429, "too many requests with a bad signature; retry later",
                           {"Retry-After": str(wait)})
        body = await request.body()
        scope = request.scope
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        url = (f"{request.url.scheme}://{request.url.netloc or 'gateway'}"
               f"{raw_path.decode('latin-1')}" + (f"?{query.decode('latin-1')}" if query
                                                  else ""))
        verdict = signing.verify(request.method, url, request.headers, body, time.time(),
                                 self.secrets, self.nonces)
        if isinstance(verdict, str):
            self.throttle.failed(client)
            SIGNATURE_FAILURES.inc()
            return problem(401, verdict)
        request.state.integration = verdict.integration
        return Caller(verdict.integration, self.integrations[verdict.integration], body)

    # ---- the three actions -----------------------------------------------------------------

    async def open(self, process: ProcessSpec, request: Request) -> Response:
        """Open or join a case of `process` from its public request."""
        caller = await self.caller(request)
        if isinstance(caller, Response):
            return caller
        if not caller.integration.may_open(process.prefix):
            raise Forbidden(f"integration {caller.name!r} may not open {process.prefix} cases")
        data = json_object(caller.body)
        if isinstance(data, Response):
            return data
        # Null is what a client that serialises every field sends: nothing is set.
        internal = process.internal_fields_in(data)
        if internal:
            return problem(422, f"{request_name(process)}: {', '.join(internal)}: set by the "
                                "project only, not accepted from integrations")
        try:
            inp = process.input_model.model_validate(data)
        except ValidationError as exc:
            return problem(422, f"{request_name(process)}: {describe_fields(exc)}")
        try:
            opened = await open_case(await self.temporal(), process, inp, self.task_queue)
        except RPCError as err:
            raise ServerUnavailable(f"the case could not be opened now ({err.message[:120]})"
                                    ) from None
        return JSONResponse(content=Opened(case_id=opened.case_id,
                                           workflow_type=opened.workflow_type,
                                           summary=opened.summary,
                                           joined=opened.joined,
                                           outcome=opened.outcome).model_dump())

    async def send(self, workflow_id: str, event: str, request: Request) -> Response:
        """Send an event or an ops command as the verified integration."""
        caller = await self.caller(request)
        if isinstance(caller, Response):
            return caller
        ops = event in OPS_COMMANDS
        allowed = caller.integration.may_run(event) if ops else caller.integration.may_send(
            event)
        if not allowed:
            raise Forbidden(f"integration {caller.name!r} may not send {event[:80]!r}")
        data = json_object(caller.body)
        if isinstance(data, Response):
            return data
        event_id = data.get("event_id")
        room = 200 - len(caller.name) - 1
        if not isinstance(event_id, str) or not event_id or len(event_id) > room:
            return problem(422, f"{event[:80]}: event_id: a non-empty string of at most "
                                f"{room} characters is required")
        _owned(workflow_id)
        said = data.get("actor")
        data["actor"] = caller.name
        if isinstance(said, str) and said and said != caller.name:
            data["actor_note"] = said[:200]
        data["event_id"] = f"{caller.name}:{event_id}"
        delivery = await deliver_event(await self.temporal(), workflow_id, event, data,
                                       update_timeout=self.update_timeout)
        if delivery.answer is None:
            SIGNAL_FALLBACKS.labels(process=process_of(workflow_id).name).inc()
            return JSONResponse(status_code=202, content=DeliveredAsSignal(
                case_id=workflow_id, event=event, event_id=event_id).model_dump())
        answer = delivery.answer.model_dump(mode="json")
        answer["event_id"] = event_id  # as the integration sent it
        return JSONResponse(content=answer)

    async def status(self, workflow_id: str, request: Request) -> Response:
        """A case's status, for an integration allowed to read."""
        caller = await self.caller(request)
        if isinstance(caller, Response):
            return caller
        if not caller.integration.read:
            raise Forbidden(f"integration {caller.name!r} may not read cases")
        _owned(workflow_id)
        # The status query, or what the server alone knows when the worker is too slow.
        return JSONResponse(content=await status_or_visibility(await self.temporal(),
                                                               workflow_id))

    # ---- the routes --------------------------------------------------------------------------

    def router(self) -> APIRouter:
        """The ingress routes, documented with the public requests and every answer."""
        router = APIRouter(tags=["ingress"])
        for spec in PROCESSES.values():
            self._open_route(router, spec)

        @router.post("/v1/cases/{process}", include_in_schema=False)
        async def open_unknown(process: str, request: Request) -> Response:
            caller = await self.caller(request)
            if isinstance(caller, Response):
                return caller
            return problem(404, f"no process {process[:80]!r} (known: "
                                f"{', '.join(sorted(PROCESSES))})")

        @router.post("/v1/cases/{workflow_id}/events/{event}", openapi_extra={
            "security": SIGNED, "requestBody": {"required": True, "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["event_id"],
                    "properties": {"event_id": {"type": "string", "minLength": 1,
                                                "maxLength": 119}},
                    "additionalProperties": True}}}}},
            responses={200: {"model": CaseSummary}, 202: {"model": DeliveredAsSignal},
                       **responses(401, 403, 404, 409, 410, 413, 422, 429, 503)})
        async def send(workflow_id: str, event: str, request: Request) -> Response:
            """Send an event or an ops command (the payload with its `event_id`): 200 applied
            (or a duplicate), 202 delivered as a Signal, 4xx refused, 503 retry later."""
            return await self.send(workflow_id, event, request)

        @router.get("/v1/cases/{workflow_id}", openapi_extra={"security": SIGNED},
                    responses=responses(401, 403, 404, 429, 503))
        async def status(workflow_id: str, request: Request) -> Response:
            """The case's status (signed like every ingress request; no body)."""
            return await self.status(workflow_id, request)

        return router

    def _open_route(self, router: APIRouter, spec: ProcessSpec) -> None:
        name = request_name(spec)

        async def open_process(request: Request) -> Response:
            return await self.open(spec, request)

        router.post(f"/v1/cases/{spec.prefix}", name=f"open_{spec.prefix}",
                    summary=f"Open or join a {spec.title}",
                    description=f"Opens the case for the `{name}` body, or joins the open one "
                                f"(answers its `case_id`, the workflow ID). 409: the ID is "
                                f"an open case of other business keys (spec 2.3).",
                    responses={200: {"model": Opened},
                               **responses(401, 403, 409, 413, 422, 429, 503)},
                    openapi_extra={"security": SIGNED, "requestBody": {
                        "required": True, "content": {"application/json": {
                            "schema": {"$ref": f"#/components/schemas/{name}"}}}}},
                    )(open_process)
