"""Signed ingress requests (spec 6.1): `X-FieldService-Integration: <name>` and
`X-FieldService-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
secrets from `FIELD_SERVICE_WEBHOOK_SECRETS` = comma-separated `name:secret`. A name may appear
more than once: each of its secrets is accepted, so a secret rotates without a moment in which
the integration's requests are refused (add the new one, switch the integration, drop the old).
Pure functions, so the rule is unit-tested apart from the HTTP layer, and integrators can read
it as the reference."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SECRETS_ENV = "FIELD_SERVICE_WEBHOOK_SECRETS"
INTEGRATION_HEADER = "X-FieldService-Integration"
SIGNATURE_HEADER = "X-FieldService-Signature"
# A signature older (or newer) than this is stale: a captured request cannot be replayed later.
TOLERANCE_SECONDS = 300


def parse_secrets(setting: str) -> dict[str, tuple[bytes, ...]]:
    """`name:secret[,name:secret...]`, each name with its secrets in the order given;
    ValueError names the bad entry (never a secret)."""
    secrets: dict[str, tuple[bytes, ...]] = {}
    for n, entry in enumerate(e.strip() for e in setting.split(",") if e.strip()):
        name, sep, secret = entry.partition(":")
        if not sep or not name or not secret:
            raise ValueError(f"{SECRETS_ENV} entry {n + 1} is not name:secret")
        secrets[name] = (*secrets.get(name, ()), secret.encode())
    return secrets


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value an integration sends for `body` at `timestamp`."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(integration: str | None, header: str | None, body: bytes, now: float,
           secrets: Mapping[str, tuple[bytes, ...]],
           tolerance: int = TOLERANCE_SECONDS) -> str | None:
    """None when the request is signed by a known integration within the tolerance; else the
    reason (for the 401's body: it names what is wrong, never a secret)."""
    if not integration or not header:
        return f"missing {INTEGRATION_HEADER} or {SIGNATURE_HEADER}"
    known = secrets.get(integration)
    if not known:
        return f"unknown integration {integration[:80]!r}"
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields.get("t", ""))
    except ValueError:
        return "the signature has no timestamp t=<unix seconds>"
    if abs(now - timestamp) > tolerance:
        return f"stale signature (more than {tolerance} s from the gateway's clock)"
    given = fields.get("v1", "")
    # Every secret is compared (no early exit), so timing does not tell which one is current.
    matched = False
    for secret in known:
        expected = signature(secret, timestamp, body).split("v1=", 1)[1]
        matched |= hmac.compare_digest(expected, given)
    return None if matched else "the signature does not match the body"
