"""The signing rule of spec 6.1 as functions: RFC 9421 over the method, path, query and the
body's RFC 9530 digest, checked against an independent RFC 9421 implementation (the one
integrators use with `requests`), the clock window, nonces, rotation with two secrets."""

from __future__ import annotations

import time

import requests
from http_message_signatures import algorithms
from requests_http_signature import HTTPSignatureAuth

from gateway.signing import NonceCache, Signed, required_components, sign, verify

URL = "http://localhost:8088/v1/cases/om-SYS-1/events/remote_fix_result"
BODY = b'{"event_id": "mon-1", "resolved": false}'
SECRETS = {"crm": [b"old-secret-0123456789", b"new-secret-0123456789"]}


def _verify(headers: dict[str, str], *, method: str = "POST", url: str = URL,
            body: bytes = BODY, now: float | None = None,
            nonces: NonceCache | None = None) -> Signed | str:
    return verify(method, url, headers, body, time.time() if now is None else now, SECRETS,
                  nonces or NonceCache())


def test_what_a_signature_must_cover() -> None:
    assert required_components(False, False) == ("@method", "@path")
    assert required_components(True, True) == ("@method", "@path", "@query", "content-digest")


def test_a_request_signed_by_requests_http_signature_passes() -> None:
    """An integrator's library, not ours, signs: the gateway accepts it (either secret while
    one rotates), and the body's Content-Digest is RFC 9530 sha-256."""
    for secret in SECRETS["crm"]:
        auth = HTTPSignatureAuth(signature_algorithm=algorithms.HMAC_SHA256, key=secret,
                                 key_id="crm", covered_component_ids=("@method", "@path"))
        request = requests.Request("POST", URL, data=BODY,
                                   headers={"Content-Type": "application/json"}).prepare()
        auth(request)
        headers = {k: str(v) for k, v in request.headers.items()}
        assert headers["Content-Digest"].startswith("sha-256=:")
        assert _verify(headers) == Signed("crm", None)


def test_each_fault_is_refused_and_named() -> None:
    good = sign("POST", URL, BODY, "crm", SECRETS["crm"][1])
    assert _verify({}) == "missing Signature-Input and Signature (RFC 9421)"
    assert "does not match the request" in str(_verify(good, url=URL.replace("SYS-1", "SYS-2")))
    assert "does not match the request" in str(_verify(good, method="PUT"))
    assert "Content-Digest" in str(_verify(good, body=b'{"event_id": "mon-1"}'))
    forged = sign("POST", URL, BODY, "crm", b"guessed-secret-0123456")
    assert "does not match" in str(_verify(forged))
    unknown = sign("POST", URL, BODY, "dialer", SECRETS["crm"][0])
    assert _verify(unknown) == "unknown integration 'dialer'"
    stale = sign("POST", URL, BODY, "crm", SECRETS["crm"][0], created=time.time() - 301)
    assert "stale" in str(_verify(stale))
    ahead = sign("POST", URL, BODY, "crm", SECRETS["crm"][0], created=time.time() + 31)
    assert "stale" in str(_verify(ahead))
    within = sign("POST", URL, BODY, "crm", SECRETS["crm"][0], created=time.time() + 20)
    assert isinstance(_verify(within), Signed)


def test_a_query_must_be_signed_too() -> None:
    url = URL + "?x=1"
    signed = sign("POST", url, BODY, "crm", SECRETS["crm"][0])
    assert '"@query"' in signed["Signature-Input"]
    assert isinstance(_verify(signed, url=url), Signed)
    assert "does not match" in str(_verify(signed, url=URL + "?x=2"))


def test_a_nonce_is_good_once_per_integration() -> None:
    nonces = NonceCache()
    first = sign("POST", URL, BODY, "crm", SECRETS["crm"][0], nonce="n-1")
    assert _verify(first, nonces=nonces) == Signed("crm", "n-1")
    again = sign("POST", URL, BODY, "crm", SECRETS["crm"][0], nonce="n-1")
    assert _verify(again, nonces=nonces) == "the nonce was used before (a replayed request)"


def test_the_nonce_cache_forgets_after_the_window() -> None:
    cache = NonceCache(window=10)
    assert cache.first_use("crm", "n", 0) and not cache.first_use("crm", "n", 5)
    assert cache.first_use("dialer", "n", 5)  # another integration's nonce space
    assert cache.first_use("crm", "n", 20)
