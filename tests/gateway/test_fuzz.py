"""Property-based fuzzing of the ingress from its own OpenAPI document (schemathesis): whatever an
integration sends, the gateway answers with a status its document lists for that route, never
a 500. Requests are signed (RFC 9421, as the integration `fuzz` with every permission) by a
wrapper in front of the app, so the fuzzed bodies get past the signature check and reach
validation and Temporal (the time-skipping server, no worker)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from gateway import signing
from gateway.app import GatewaySettings, create_app
from gateway.integrations import Integration
from infra.wire import DATA_CONVERTER
from tests.conftest import server_path

SECRET = b"fuzz-secret-0123456789"


class _Server:
    """A time-skipping server on a thread of its own (schemathesis drives the app
    synchronously, each request on a fresh event loop)."""

    def __init__(self) -> None:
        self.target = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        self._ready.wait(60)

    async def _run(self) -> None:
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=server_path("temporal-test-server"))
        self.target = env.client.service_client.config.target_host
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await env.shutdown()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


def _signing(app: Any) -> Any:
    """ASGI wrapper: signs every request as the integration `fuzz` would (method, path, query,
    the body's digest)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        url = f"http://gateway{raw_path}" + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"]
                   if k.lower() not in (b"signature", b"signature-input", b"content-digest")]
        try:
            signed = signing.sign(scope["method"], url, body, "fuzz", SECRET)
        except Exception:  # noqa: BLE001 - a URL no signer takes goes unsigned (401)
            signed = {}
        headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app({**scope, "headers": headers}, replay, send)

    return wrapped


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.stop()


def _app(target: str) -> Any:
    async def client() -> Client:
        return await Client.connect(target, data_converter=DATA_CONVERTER)

    everything = Integration(secrets=[SECRET.decode()], open=["*"], events=["*"], ops=["*"],
                             read=True)
    return _signing(create_app(GatewaySettings(integrations={"fuzz": everything},
                                               codec_tokens=("fuzz-codec-token-0123456789",),
                                               task_queue="fuzz-no-worker"),
                               client, None))


def documented_codes(operation: Any) -> set[str]:
    """The status codes an operation's OpenAPI entry lists."""
    return {str(code) for code in operation.definition.raw.get("responses", {})}


def test_no_request_gets_a_500(server: _Server) -> None:
    app = _app(server.target)
    # Not vacuous: a signed request reaches Temporal (404 from the server, not a 503 or 401).
    async def probe() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as http:
            return (await http.get("/v1/cases/om-NOT-THERE")).status_code

    assert asyncio.run(probe()) == 404
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 9  # codec x2, open x6, event, status

    for operation in operations:
        fuzz(operation)


def fuzz(operation: Any) -> None:
    """Send generated requests to one operation: never a 500, every answer one it documents."""
    documented = documented_codes(operation)

    @given(operation.as_strategy())
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    def check(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500 or response.status_code == 503, (
            case.method, case.formatted_path, response.status_code, response.text[:300])
        assert str(response.status_code) in documented, (
            case.method, case.formatted_path, response.status_code, sorted(documented))

    check()
