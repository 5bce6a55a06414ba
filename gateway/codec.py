"""The codec server (spec 6.1): the Temporal codec protocol (`POST /codec/encode`,
`POST /codec/decode`) for the Web UI and the CLI, behind a bearer token: a static token of
`FIELD_SERVICE_CODEC_TOKENS` (the local stack, tools), or the operator's OIDC access token that
a shared Web UI passes on, checked against the issuer's keys (single sign-on). The Web UI of the
local stack cannot add a header, so `POST /codec/t/{token}/encode|decode` take a static token
in the endpoint URL.

Static tokens are kept as SHA-256 digests and compared in constant time; a token shorter than
`MIN_TOKEN` is refused at start; a client that keeps failing is answered 429 for a while. CORS
covers these routes only, for the Web UI's origins, never `*` with credentials."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
import structlog
from fastapi import APIRouter, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec

from gateway.errors import problem, responses
from gateway.metrics import CODEC_CALLS, codec_outcome
from gateway.throttle import FailureThrottle

log = structlog.get_logger("fieldservice.gateway")

TOKENS_ENV = "FIELD_SERVICE_CODEC_TOKENS"
OIDC_ISSUER_ENV = "FIELD_SERVICE_CODEC_OIDC_ISSUER"
OIDC_AUDIENCE_ENV = "FIELD_SERVICE_CODEC_OIDC_AUDIENCE"
OIDC_JWKS_ENV = "FIELD_SERVICE_CODEC_OIDC_JWKS_URL"
OIDC_CLAIM_ENV = "FIELD_SERVICE_CODEC_OIDC_REQUIRED_CLAIM"
# About 128 bits of a URL-safe random token (secrets.token_urlsafe(16) is 22 characters).
MIN_TOKEN = 22
# The JWT signature algorithms an issuer may use (asymmetric only: a shared-secret token
# would let anyone with the secret mint operators).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]


class CodecSettingError(ValueError):
    """A codec setting is not usable; the message names it (never a token)."""


class CodecPayloads(BaseModel):
    """The codec protocol's body: Temporal payloads as JSON (`metadata` and `data` base64)."""

    payloads: list[dict[str, Any]]


@dataclass(frozen=True)
class OidcSettings:
    """Where the operators' access tokens come from and what they must say."""

    issuer: str
    audience: str
    jwks_url: str
    # `name=value`: the token's claim `name` must equal, or (a list) contain, `value`.
    required_claim: tuple[str, str] | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings | None:
        """`FIELD_SERVICE_CODEC_OIDC_ISSUER`, `_AUDIENCE`, `_JWKS_URL`, `_REQUIRED_CLAIM`;
        None when single sign-on is not configured."""
        issuer = env.get(OIDC_ISSUER_ENV, "").strip()
        if not issuer:
            return None
        audience = env.get(OIDC_AUDIENCE_ENV, "").strip()
        jwks = env.get(OIDC_JWKS_ENV, "").strip()
        if not audience or not jwks:
            raise CodecSettingError(f"{OIDC_ISSUER_ENV} needs {OIDC_AUDIENCE_ENV} and "
                                    f"{OIDC_JWKS_ENV} too")
        claim = env.get(OIDC_CLAIM_ENV, "").strip()
        required = None
        if claim:
            name, sep, value = claim.partition("=")
            if not sep or not name or not value:
                raise CodecSettingError(f"{OIDC_CLAIM_ENV} is name=value")
            required = (name.strip(), value.strip())
        return cls(issuer, audience, jwks, required)


class OidcVerifier:
    """Checks an access token: signed by a key of the issuer's JWKS, for our audience, from
    the issuer, not expired, with the required claim."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._keys = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300,
                                     timeout=5)

    def check(self, token: str) -> str | None:
        """None when the token is good; else why not (never the token)."""
        s = self.settings
        try:
            key = self._keys.get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=s.audience,
                                issuer=s.issuer, options={"require": ["exp", "iss", "aud"]})
        except jwt.PyJWKClientConnectionError:
            return "the identity provider's keys could not be fetched"
        except jwt.PyJWTError as err:
            return f"the access token was refused ({type(err).__name__})"
        if s.required_claim is not None:
            name, value = s.required_claim
            have = claims.get(name)
            if not (have == value or (isinstance(have, list) and value in have)):
                return f"the access token lacks {name}={value}"
        return None


def token_digests(tokens: Iterable[str]) -> tuple[bytes, ...]:
    """The static tokens as SHA-256 digests; a weak token is refused (named by position)."""
    digests = []
    for n, token in enumerate(tokens, start=1):
        if len(token) < MIN_TOKEN:
            raise CodecSettingError(f"{TOKENS_ENV}: token {n} is shorter than {MIN_TOKEN} "
                                    "characters (use: python -c 'import secrets; "
                                    "print(secrets.token_urlsafe(32))')")
        digests.append(hashlib.sha256(token.encode()).digest())
    return tuple(digests)


class CodecAuth:
    """Whether a codec request may go on."""

    def __init__(self, digests: tuple[bytes, ...], oidc: OidcVerifier | None,
                 throttle: FailureThrottle) -> None:
        self.digests = digests
        self.oidc = oidc
        self.throttle = throttle

    def _static_ok(self, token: str) -> bool:
        given = hashlib.sha256(token.encode()).digest()
        found = False
        for known in self.digests:  # every digest, so timing says nothing about them
            found |= hmac.compare_digest(given, known)
        return bool(token) and found

    async def refusal(self, request: Request, path_token: str | None) -> Response | None:
        """None when the request carries a valid token; else the answer (401, 429)."""
        client = request.client.host if request.client else "-"
        wait = self.throttle.retry_after(client)
        if wait is not None:
            return problem(429, "too many failed attempts; retry later",
                           {"Retry-After": str(wait)})
        if path_token is not None:
            token, bearer = path_token, False
        else:
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
            bearer = True
        if self._static_ok(token):
            return None
        why = "a valid codec token is required (Authorization: Bearer ...)"
        if bearer and self.oidc is not None and token.count(".") == 2:
            why_not = await asyncio.to_thread(self.oidc.check, token)
            if why_not is None:
                return None
            why = why_not
        self.throttle.failed(client)
        log.info("codec request refused", reason=why.split(" (")[0][:80])
        return problem(401, why)


class CodecCors:
    """CORS for the codec routes only (the Web UI's origins); the ingress takes none."""

    def __init__(self, app: ASGIApp, origins: Iterable[str], credentials: bool) -> None:
        origins = list(origins)
        if "*" in origins and credentials:
            raise CodecSettingError("CORS: '*' cannot be used with credentials")
        self.app = app
        self.cors = CORSMiddleware(app, allow_origins=origins, allow_methods=["POST"],
                                   allow_credentials=credentials,
                                   allow_headers=["Authorization", "Content-Type",
                                                  "X-Namespace"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Apply CORS to `/codec/...` requests."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/codec/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def codec_router(auth: CodecAuth, codec: PayloadCodec | None) -> APIRouter:
    """The codec routes."""
    router = APIRouter(tags=["codec"])
    documented: dict[str, Any] = {
        "responses": {200: {"model": CodecPayloads}, **responses(400, 401, 413, 429)},
        "openapi_extra": {"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/CodecPayloads"}}}}},
    }

    async def run(request: Request, encode: bool, path_token: str | None = None) -> Response:
        answer = await answer_codec(request, encode, path_token)
        CODEC_CALLS.labels(operation="encode" if encode else "decode",
                           outcome=codec_outcome(answer.status_code)).inc()
        return answer

    async def answer_codec(request: Request, encode: bool,
                           path_token: str | None) -> Response:
        refused = await auth.refusal(request, path_token)
        if refused is not None:
            return refused
        body = await request.body()
        try:
            payloads = json_format.Parse((body or b"{}").decode("utf-8"), Payloads())
        except (json_format.ParseError, UnicodeDecodeError, ValueError, RecursionError) as err:
            return problem(400, f"not a codec request ({type(err).__name__})")
        items = list(payloads.payloads)
        if codec is not None:
            try:
                items = await (codec.encode(items) if encode else codec.decode(items))
            except ValueError as err:
                return problem(400, str(err)[:300])
        out = json_format.MessageToDict(Payloads(payloads=items))
        return JSONResponse(content={"payloads": out.get("payloads", [])})

    def route(path: str, encode: bool, summary: str,
              with_token: bool) -> Callable[..., Awaitable[Response]]:
        if with_token:
            async def handler_t(token: str, request: Request) -> Response:
                return await run(request, encode, path_token=token)
            handler: Callable[..., Awaitable[Response]] = handler_t
        else:
            async def handler_b(request: Request) -> Response:
                return await run(request, encode)
            handler = handler_b
        handler.__doc__ = summary
        router.post(path, summary=summary, name=path.replace("/", "_").strip("_"),
                    **documented)(handler)
        return handler

    route("/codec/encode", True, "Encrypt payloads (codec server; Authorization: Bearer)",
          False)
    route("/codec/decode", False, "Decrypt payloads (codec server; Authorization: Bearer)",
          False)
    # The access log and spans name the route template (`/codec/t/{token}/decode`), never
    # the token.
    route("/codec/t/{token}/encode", True,
          "Encrypt payloads, a static token in the endpoint URL (the Web UI)", True)
    route("/codec/t/{token}/decode", False,
          "Decrypt payloads, a static token in the endpoint URL (the Web UI)", True)
    return router

