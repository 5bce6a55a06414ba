"""The gateway as the tests talk to it: integrations with their permissions, a client that signs
like an integration (RFC 9421, `gateway.signing.sign`), the application on the test's
time-skipping server."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

import httpx
from opentelemetry import trace
from pydantic import BaseModel
from temporalio.client import Client

from domain.processes import PROCESSES
from gateway import signing
from gateway.app import GatewaySettings, create_app
from gateway.integrations import Integration
from gateway.perimeter import Perimeter
from infra.encryption import EncryptionCodec, KeyRing, new_key_setting

CRM_SECRET = "crm-secret-for-the-tests-0001"
DIALER_SECRET = "dialer-secret-for-the-tests-01"
TOKEN = "codec-token-for-the-tests-00001"
BASE = "http://gateway"

INTEGRATIONS = {
    "crm": Integration(secrets=[CRM_SECRET], open=["*"], events=["*"], ops=["*"], read=True),
    # A dialer may report call results, nothing else.
    "dialer": Integration(secrets=[DIALER_SECRET], events=["call_attempt_result"]),
}
SECRETS = {"crm": CRM_SECRET, "dialer": DIALER_SECRET}


def gateway_app(client: Client | None, *, task_queue: str = "field-service",
                codec: bool = True, tracer: trace.Tracer | None = None,
                **changes: Any) -> Perimeter:
    """The gateway on `client` (None: a Temporal that cannot be reached)."""
    settings = GatewaySettings(codec_tokens=(TOKEN,), integrations=INTEGRATIONS,
                               task_queue=task_queue, **changes)

    async def provider() -> Client:
        if client is None:
            raise RuntimeError("Failed client connect: connection refused")
        return client

    return create_app(settings, provider, EncryptionCodec(KeyRing.parse(
        new_key_setting("gw-1"))) if codec else None, tracer)


class Signed:
    """An integration's HTTP client: signs every request before sending it."""

    def __init__(self, http: httpx.AsyncClient, integration: str = "crm",
                 secret: str | None = None) -> None:
        self.http = http
        self.integration = integration
        self.secret = secret or SECRETS[integration]

    def headers(self, method: str, path: str, body: bytes, *,
                nonce: str | None = None, created: float | None = None) -> dict[str, str]:
        """The signature headers for one request."""
        return {"Content-Type": "application/json", **signing.sign(
            method, BASE + path, body, self.integration, self.secret.encode(), nonce=nonce,
            created=created)}

    async def post(self, path: str, payload: Any, *,
                   extra_headers: Mapping[str, str] | None = None,
                   **options: Any) -> httpx.Response:
        """A signed POST of `payload` as JSON (`extra_headers` sent unsigned beside it)."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {**self.headers("POST", path, body, **options), **(extra_headers or {})}
        return await self.http.post(path, content=body, headers=headers)

    async def get(self, path: str, **options: Any) -> httpx.Response:
        """A signed GET."""
        return await self.http.get(path, headers=self.headers("GET", path, b"", **options))

    def as_(self, integration: str) -> Signed:
        """The same client, signing as another integration."""
        return Signed(self.http, integration)


def replay(response: httpx.Response) -> tuple[str, bytes, Mapping[str, str]]:
    """A sent request as captured on the wire: its path, body and headers."""
    request = response.request
    return request.url.path, request.content, dict(request.headers)


def public(inp: BaseModel) -> dict[str, Any]:
    """A process input as an integration sends it: its public request (no internal fields)."""
    internal = next(p.internal_fields for p in PROCESSES.values()
                    if isinstance(inp, p.input_model))
    return inp.model_dump(mode="json", exclude=set(internal))


def nonce() -> str:
    """A fresh nonce."""
    return secrets.token_urlsafe(12)
