"""Codec single sign-on (issue 16, spec 6.1): the codec takes the operator's OIDC access token
that a shared Temporal Web UI passes on (`TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true`), checked
against the issuer's JWKS. The issuer here is a local one: its RSA keys are made by the test
and its JWKS is served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from gateway.codec import CodecSettingError, OidcSettings
from tests.gateway.helpers import gateway_app

ISSUER = "https://login.example.test/"
AUDIENCE = "temporal-ui"


class LocalIssuer:
    """An identity provider of the test's own: a signing key, its JWKS on 127.0.0.1."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
        self.fetched = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                issuer.fetched += 1
                body = jwks.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.jwks_url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, *, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        """An access token with sensible claims, changed by `claims` (None removes one)."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "operator-1", "iat": now,
                "exp": now + 300, "groups": ["field-ops", "temporal-operators"], **claims}
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[LocalIssuer]:
    i = LocalIssuer()
    yield i
    i.server.shutdown()


def settings(issuer: LocalIssuer) -> OidcSettings:
    return OidcSettings.from_env({
        "FIELD_SERVICE_CODEC_OIDC_ISSUER": ISSUER,
        "FIELD_SERVICE_CODEC_OIDC_AUDIENCE": AUDIENCE,
        "FIELD_SERVICE_CODEC_OIDC_JWKS_URL": issuer.jwks_url,
        "FIELD_SERVICE_CODEC_OIDC_REQUIRED_CLAIM": "groups=temporal-operators",
    }) or pytest.fail("configured")


PLAIN = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
         "data": base64.b64encode(b'{"name": "Ana"}').decode()}


async def call(issuer: LocalIssuer, token: str, route: str = "/codec/encode",
               payloads: list[dict[str, Any]] | None = None,
               app: Any = None) -> httpx.Response:
    app = app or gateway_app(None, oidc=settings(issuer))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway") as http:
        return await http.post(route, json={"payloads": payloads or [PLAIN]},
                               headers={"Authorization": f"Bearer {token}",
                                        "Origin": "https://temporal.example.com"})


async def test_an_operators_access_token_opens_the_codec(issuer: LocalIssuer) -> None:
    app = gateway_app(None, oidc=settings(issuer))
    encoded = await call(issuer, issuer.token(), app=app)
    assert encoded.status_code == 200, encoded.text
    payload = encoded.json()["payloads"][0]
    assert b"Ana" not in base64.b64decode(payload["data"])
    decoded = await call(issuer, issuer.token(), "/codec/decode", [payload], app=app)
    assert decoded.status_code == 200
    assert decoded.json()["payloads"][0]["data"] == PLAIN["data"]
    assert issuer.fetched >= 1  # the key came from the issuer's JWKS


@pytest.mark.parametrize(("claims", "why"), [
    pytest.param({"aud": "another-app"}, "InvalidAudienceError", id="another-audience"),
    pytest.param({"iss": "https://evil.example.test/"}, "InvalidIssuerError", id="another-issuer"),
    pytest.param({"exp": int(time.time()) - 120}, "ExpiredSignatureError", id="expired"),
    pytest.param({"exp": None}, "MissingRequiredClaimError", id="no-expiry"),
    pytest.param({"groups": ["field-ops"]}, "lacks groups=temporal-operators",
                 id="not-an-operator"),
    pytest.param({"groups": None}, "lacks groups=temporal-operators", id="no-groups"),
])
async def test_a_token_that_is_not_for_the_codec_is_refused(
        issuer: LocalIssuer, claims: dict[str, Any], why: str) -> None:
    r = await call(issuer, issuer.token(**claims))
    assert r.status_code == 401
    assert why in r.json()["error"]


async def test_a_token_signed_by_another_key_is_refused(issuer: LocalIssuer) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = await call(issuer, issuer.token(key=forger))
    assert r.status_code == 401
    assert "InvalidSignatureError" in r.json()["error"]


async def test_an_unsigned_or_shared_secret_token_is_refused(issuer: LocalIssuer) -> None:
    # HS256 with the public key as the "secret" is the classic confusion attack.
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60,
              "groups": ["temporal-operators"]}
    forged = _hs256({"alg": "none", "kid": "k1"}, claims, b"").rsplit(".", 1)[0] + "."
    assert (await call(issuer, forged)).status_code == 401
    hmac_forged = _hs256({"alg": "HS256", "kid": "k1", "typ": "JWT"}, claims, public_pem)
    assert (await call(issuer, hmac_forged)).status_code == 401


async def test_an_unreachable_issuer_is_a_clear_401(issuer: LocalIssuer) -> None:
    app = gateway_app(None, oidc=OidcSettings(ISSUER, AUDIENCE,
                                              "http://127.0.0.1:9/jwks.json"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway") as http:
        r = await http.post("/codec/encode", json={"payloads": [PLAIN]},
                            headers={"Authorization": f"Bearer {issuer.token()}"})
    assert r.status_code == 401
    assert "could not be fetched" in r.json()["error"]


def _hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """A JWT signed with HMAC by hand (the libraries rightly refuse a public key as secret)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def test_half_a_configuration_stops_the_gateway() -> None:
    with pytest.raises(CodecSettingError, match="FIELD_SERVICE_CODEC_OIDC_AUDIENCE"):
        OidcSettings.from_env({"FIELD_SERVICE_CODEC_OIDC_ISSUER": ISSUER})
    with pytest.raises(CodecSettingError, match="name=value"):
        OidcSettings.from_env({"FIELD_SERVICE_CODEC_OIDC_ISSUER": ISSUER,
                               "FIELD_SERVICE_CODEC_OIDC_AUDIENCE": AUDIENCE,
                               "FIELD_SERVICE_CODEC_OIDC_JWKS_URL": "http://x/",
                               "FIELD_SERVICE_CODEC_OIDC_REQUIRED_CLAIM": "groups"})
