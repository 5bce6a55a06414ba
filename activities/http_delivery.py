"""`HttpDelivery`: posts every new record to an HTTP endpoint of the real systems (or of an
integration layer in front of them), `POST {base_url}/{kind}` with a JSON body.

The body carries the record (key, record ID, case, kind, stored payload, time) and the
activity's request, which for notifications includes the homeowner's contact details: the SMS
gateway needs the phone number. Nothing of it is logged. The `Idempotency-Key` header is the
record's key; a delivery repeats only after a failed attempt, and the receiver de-duplicates by
that header. With secrets, every post is signed per the Standard Webhooks specification
(`webhook-id` = the record's key, `webhook-timestamp`, `webhook-signature`: one `v1,...`
signature per secret while one rotates), so the receiving adapters verify it with the
`standardwebhooks` library. Any failure (connection, timeout, non-2xx) raises, and the
activity retries on its retry policy; operators see the last error on the pending activity in
the Web UI. A 4xx that means "never" (a phone number the gateway rejects) raises
`DeliveryRefused`, which the activity turns into a non-retryable failure for the workflow's
failure policy."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from standardwebhooks import Webhook

from activities.store import StoredRecord

log = structlog.get_logger("fieldservice.delivery")


class DeliveryFailed(Exception):
    """The endpoint did not take the record; the activity will retry."""


class DeliveryRefused(Exception):
    """The endpoint refused the record for good (a 4xx other than the "try later" ones): a
    retry cannot succeed, so the activity fails without retrying."""


class DeliverySecretError(ValueError):
    """A delivery secret is not usable; the message names it by position, never its value."""


# Standard Webhooks secrets are `whsec_` + the base64 of 24 to 64 random bytes.
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24


def parse_delivery_secrets(setting: str | None) -> list[str]:
    """`FIELD_SERVICE_DELIVERY_SECRET` as a list (comma-separated while one rotates: every
    secret signs), each checked to be a real Standard Webhooks secret."""
    found = [s.strip() for s in (setting or "").split(",") if s.strip()]
    for n, secret in enumerate(found, start=1):
        try:
            raw = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            raw = b""
        if not secret.startswith(SECRET_PREFIX) or len(raw) < MIN_SECRET_BYTES:
            raise DeliverySecretError(
                f"FIELD_SERVICE_DELIVERY_SECRET: secret {n} is not {SECRET_PREFIX}<base64 of at "
                f"least {MIN_SECRET_BYTES} random bytes> (make one with: python -c \"import "
                f"base64, secrets; print('whsec_' + base64.b64encode(secrets.token_bytes(32))"
                f".decode())\")")
    return found


# 4xx answers that mean "not now" rather than "never".
_RETRYABLE_4XX = {408, 409, 425, 429}


class HttpDelivery:
    """A `Delivery` that posts each record to `{base_url}/{kind}`."""

    def __init__(self, base_url: str, *, timeout: float = 10.0,
                 headers: dict[str, str] | None = None, secrets: Sequence[str] = ()) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = headers or {}
        self.signers = [Webhook(secret) for secret in secrets]

    def signed(self, key: str, body: str) -> dict[str, str]:
        """The Standard Webhooks headers of a post (none without secrets)."""
        if not self.signers:
            return {}
        now = int(time.time())
        at = datetime.fromtimestamp(now, tz=UTC)
        return {"webhook-id": key, "webhook-timestamp": str(now),
                "webhook-signature": " ".join(s.sign(key, at, body) for s in self.signers)}

    async def deliver(self, record: StoredRecord, request: dict[str, Any]) -> None:
        """Post the record; raise `DeliveryFailed` unless the endpoint answers 2xx."""
        text = json.dumps({
            "key": record.key, "record_id": record.record_id, "case_id": record.case_id,
            "kind": record.kind, "created_at": record.created_at, "payload": record.payload,
            "request": request,
        })
        status = await asyncio.to_thread(self._post, f"{self.base_url}/{record.kind}",
                                         text.encode(), record.key,
                                         self.signed(record.key, text))
        log.info("record delivered", case_id=record.case_id, key=record.key, kind=record.kind,
                 status=status)

    def _post(self, url: str, body: bytes, key: str, signed: dict[str, str]) -> int:
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": key, **self.headers,
            **signed})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
                return int(resp.status)
        except urllib.error.HTTPError as err:
            if 400 <= err.code < 500 and err.code not in _RETRYABLE_4XX:
                raise DeliveryRefused(f"{url} refused {key} ({err.code})") from None
            raise DeliveryFailed(f"{url} answered {err.code} for {key}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            reason = getattr(err, "reason", err)
            raise DeliveryFailed(f"{url} unreachable for {key}: {reason}") from None
