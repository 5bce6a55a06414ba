"""Signed ingress requests (spec 6.1): RFC 9421 HTTP Message Signatures with HMAC-SHA256 and a
secret per integration, verified with `http-message-signatures` (a maintained RFC 9421
implementation) and RFC 9530 `Content-Digest`.

A request carries `Signature-Input` and `Signature` (one signature, any label) whose parameters
are `keyid` (the integration's name), `alg="hmac-sha256"` and `created` (unix seconds),
optionally `nonce`; the covered components include `"@method"` and `"@path"`, `"@query"` when
the URL has a query, and `"content-digest"` when there is a body, whose `Content-Digest`
(`sha-256`) must match it. A signature is thus good for one request only: one method, one case,
one event, one body. `created` may be at most 300 s old and 30 s ahead; a `nonce` is refused when
that integration used it within the window. An integration may have several secrets (while one
rotates): each is tried.

`verify` is the one check; `sign` is the integrator's side (used by the project's own clients,
tests and the documented examples)."""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)

SIGNATURE_INPUT = "Signature-Input"
SIGNATURE = "Signature"
CONTENT_DIGEST = "Content-Digest"
# A signature older than this, or newer than SKEW_AHEAD, is refused: a captured request cannot
# be replayed later.
MAX_AGE_SECONDS = 300
SKEW_AHEAD_SECONDS = 30
# Nonces remembered per gateway process (one window's worth is enough: an older signature is
# refused for its age anyway).
MAX_NONCES = 100_000
# Header values longer than this are not parsed (a signature header is a few hundred bytes).
MAX_HEADER = 4096


@dataclass(frozen=True)
class Signed:
    """A request whose signature verified: the integration that sent it."""

    integration: str
    nonce: str | None


class _Message:
    """The request as the library reads it: method, absolute URL, headers."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = dict(headers)


class _OneSecret(HTTPSignatureKeyResolver):
    """Resolves the signing integration's name to one of its secrets."""

    def __init__(self, integration: str, secret: bytes) -> None:
        self.integration = integration
        self.secret = secret

    def resolve_public_key(self, key_id: str) -> bytes | None:
        """The secret, for the integration's own key ID only."""
        return self.secret if key_id == self.integration else None

    def resolve_private_key(self, key_id: str) -> bytes:
        """The secret, to sign as the integration."""
        return self.secret


class NonceCache:
    """Nonces seen per integration within the signature window (in this gateway process)."""

    def __init__(self, window: float = MAX_AGE_SECONDS + SKEW_AHEAD_SECONDS,
                 limit: int = MAX_NONCES) -> None:
        self.window = window
        self.limit = limit
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, integration: str, nonce: str, now: float) -> bool:
        """Record the nonce; False when this integration used it within the window."""
        with self._lock:
            while self._seen:
                key, at = next(iter(self._seen.items()))
                if now - at <= self.window and len(self._seen) < self.limit:
                    break
                del self._seen[key]
            if (integration, nonce) in self._seen:
                return False
            self._seen[(integration, nonce)] = now
            return True


def _signature_params(headers: Mapping[str, str]) -> str:
    return headers.get(SIGNATURE_INPUT.lower(), headers.get(SIGNATURE_INPUT, ""))


def _key_id(headers: Mapping[str, str]) -> str | None:
    """The `keyid` parameter of the (single) signature, read before verifying it (to pick the
    integration's secrets); a malformed header gives None."""
    value = _signature_params(headers)
    marker = 'keyid="'
    start = value.find(marker)
    if start < 0:
        return None
    end = value.find('"', start + len(marker))
    return value[start + len(marker):end] if end > start else None


def required_components(url_has_query: bool, has_body: bool) -> tuple[str, ...]:
    """What a signature must cover for a request of this shape (spec 6.1)."""
    return ("@method", "@path", *(("@query",) if url_has_query else ()),
            *(("content-digest",) if has_body else ()))


def verify(method: str, url: str, headers: Mapping[str, str], body: bytes, now: float,
           secrets: Mapping[str, Sequence[bytes]], nonces: NonceCache) -> Signed | str:
    """The integration that signed this request, or why it is refused (for the 401's body: it
    names what is wrong, never a secret). Never raises: a header no parser can read is a
    refusal too."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if SIGNATURE_INPUT.lower() not in lowered or SIGNATURE.lower() not in lowered:
        return f"missing {SIGNATURE_INPUT} and {SIGNATURE} (RFC 9421)"
    if len(lowered[SIGNATURE_INPUT.lower()]) > MAX_HEADER or len(
            lowered[SIGNATURE.lower()]) > MAX_HEADER:
        return "the signature headers are too long"
    integration = _key_id(lowered)
    if not integration:
        return 'the signature has no keyid="<integration>" parameter'
    known = secrets.get(integration)
    if not known:
        return f"unknown integration {integration[:80]!r}"
    query = "?" in url
    needed = required_components(query, bool(body))
    refusal = "the signature does not match the request"
    for secret in known:  # every secret while one rotates; none is favoured by timing
        verifier = HTTPMessageVerifier(signature_algorithm=algorithms.HMAC_SHA256,
                                       key_resolver=_OneSecret(integration, secret))
        verifier.max_clock_skew = datetime.timedelta(seconds=SKEW_AHEAD_SECONDS)
        try:
            [result] = verifier.verify(
                _Message(method, url, lowered),
                max_age=datetime.timedelta(seconds=MAX_AGE_SECONDS - SKEW_AHEAD_SECONDS),
                require_components=needed, body=body if body else None)
        except InvalidSignature as err:
            refusal = _why(err, needed)
            continue
        except Exception:  # noqa: BLE001 - any header a parser chokes on is a refusal
            return "the signature headers cannot be read (RFC 9421 structured fields)"
        created = result.parameters.get("created")
        if not isinstance(created, int) or now - created > MAX_AGE_SECONDS or \
                created - now > SKEW_AHEAD_SECONDS:
            return f"stale signature (created more than {MAX_AGE_SECONDS} s ago or ahead)"
        if result.parameters.get("alg") != "hmac-sha256":
            return 'the signature must name alg="hmac-sha256"'
        nonce = result.nonce
        if nonce is not None and not nonces.first_use(integration, str(nonce), now):
            return "the nonce was used before (a replayed request)"
        return Signed(integration, str(nonce) if nonce is not None else None)
    return refusal


def _why(err: InvalidSignature, needed: Sequence[str]) -> str:
    """The refusal's reason in the integrator's words (the library's text, classified)."""
    text = str(err)
    if "Required component" in text:
        return f"the signature must cover {', '.join(repr(c) for c in needed)}"
    if "Content-Digest" in text:
        return "the body does not match its signed Content-Digest (RFC 9530, sha-256)"
    if "age" in text or "future" in text or '"created"' in text:
        return (f"stale signature: created must be within {MAX_AGE_SECONDS} s before and "
                f"{SKEW_AHEAD_SECONDS} s after the gateway's clock")
    if "Malformed" in text or "must be" in text:
        return "the signature headers cannot be read (RFC 9421 structured fields)"
    return "the signature does not match the request (method, path, query or body)"


def sign(method: str, url: str, body: bytes, integration: str, secret: bytes, *,
         nonce: str | None = None, created: float | None = None,
         headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers an integration sends (`Signature-Input`, `Signature`, `Content-Digest`
    when there is a body) with its own, for `method url` with `body` (spec 6.1)."""
    message = _Message(method, url, dict(headers or {}))
    covered = required_components("?" in url, bool(body))
    signer = HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256,
                               key_resolver=_OneSecret(integration, secret))
    signer.sign(message, key_id=integration, label="sig1", nonce=nonce,
                created=datetime.datetime.fromtimestamp(
                    created if created is not None else time.time(), tz=datetime.UTC),
                covered_component_ids=[c for c in covered if c != "content-digest"],
                body=body if body else None)
    return message.headers


def fingerprint(value: str) -> str:
    """A short, irreversible name for a secret or token (logs may say which one, never it)."""
    return hashlib.sha256(value.encode()).hexdigest()[:8]

