"""What every request goes through before and after the routes (spec 6.1), as the outermost
ASGI layer:

- the body limit, enforced while the body is read (a `Content-Length` over it, or a chunked
  body that grows past it, is 413 at once: nothing more is read), and a deadline for the whole
  body (a client that sends it too slowly is cut off with 408);
- the caller's trace continued (`traceparent`), its `baggage` dropped (it would be copied into
  the case's Temporal headers, unencrypted);
- one span and one access-log line per request, named by the route template (never a path that
  carries a token), with the status, the integration, the time taken;
- no error escapes: anything unexpected is answered 500 `{"error": ...}` and logged once with
  its traceback (never its local variables)."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import nullcontext
from typing import Any

import structlog
from opentelemetry import propagate, trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import MAX_BODY, BodyTooLarge, BodyTooSlow
from gateway.metrics import REQUEST_SECONDS, REQUESTS

log = structlog.get_logger("fieldservice.gateway")

BODY_SECONDS = 30.0
# Routes that are not traced (the cluster's probes).
UNTRACED = ("/livez", "/readyz")


class Perimeter:
    """The gateway's outermost layer (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, tracer: trace.Tracer | None = None,
                 max_body: int = MAX_BODY, body_seconds: float = BODY_SECONDS) -> None:
        self.app = app
        self.spans = tracer or trace.get_tracer("fieldservice.gateway")
        self.max_body = max_body
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"baggage"]
        scope = {**scope, "headers": headers}
        sent: dict[str, Any] = {"status": 0}

        async def tracked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            await send(message)

        length = next((v for k, v in headers if k.lower() == b"content-length"), None)
        traced = scope.get("path") not in UNTRACED
        context = propagate.extract({k.decode("latin-1"): v.decode("latin-1")
                                     for k, v in headers if k.lower() in (b"traceparent",
                                                                          b"tracestate")})
        span = self.spans.start_span(f"{scope['method']} gateway", context=context,
                                     kind=trace.SpanKind.SERVER) if traced else None
        try:
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await _answer(tracked_send, 413, f"the body is over {self.max_body // 1024} KiB")
            else:
                # The span is current while the routes run: the SDK's tracing interceptor
                # continues it into the case's workflow.
                with trace.use_span(span, end_on_exit=False) if span else nullcontext():
                    await self.app(scope, self._limited(receive), tracked_send)
        except Exception as exc:  # noqa: BLE001 - the one place an error is answered last
            if not sent["status"]:
                code = 413 if isinstance(exc, BodyTooLarge) else 408 if isinstance(
                    exc, BodyTooSlow) else 500
                message = (f"the body is over {self.max_body // 1024} KiB" if code == 413
                           else "the body was not sent in time" if code == 408
                           else "the gateway failed on this request; it was logged")
                await _answer(tracked_send, code, message)
            if not isinstance(exc, BodyTooLarge | BodyTooSlow):
                log.error("unhandled error", route=_route(scope), exc_info=True)
        finally:
            route = _route(scope)
            if span is not None:
                span.update_name(f"{scope['method']} {route}")
                span.set_attributes({"http.request.method": scope["method"],
                                     "http.route": route,
                                     "http.response.status_code": sent["status"]})
                span.end()
            seconds = time.monotonic() - started
            REQUESTS.labels(route=route, method=scope["method"], status=str(sent["status"])).inc()
            REQUEST_SECONDS.labels(route=route).observe(seconds)
            state = scope.get("state") or {}
            log.info("request", method=scope["method"], route=route, status=sent["status"],
                     integration=str(state.get("integration", "-"))[:80],
                     ms=round((time.monotonic() - started) * 1000, 1))

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, counting the body against the limit and the deadline."""
        seen = 0
        deadline = time.monotonic() + self.body_seconds

        async def limited() -> Message:
            nonlocal seen
            left = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(left, 0.001))
            except TimeoutError:
                raise BodyTooSlow("the body was not sent in time") from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge()
            return message

        return limited


# Fixed paths served without a route template in the scope (the API document and its pages):
# named as they are; any other path without a template is "unmatched" (it may carry a secret).
STATIC_PATHS = frozenset({"/openapi.json", "/docs", "/swagger/swagger-ui-bundle.js",
                          "/swagger/swagger-ui.css", "/swagger/favicon-32x32.png"})


def _route(scope: Scope) -> str:
    template = getattr(scope.get("route"), "path", None)
    if template is not None:
        return str(template)
    return scope["path"] if scope.get("path") in STATIC_PATHS else "unmatched"


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
