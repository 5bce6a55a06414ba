"""`HttpDelivery`: posts every new record to an HTTP endpoint of the real systems (or of an
integration layer in front of them), `POST {base_url}/{kind}` with a JSON body.

The body carries the record (key, record ID, case, kind, stored payload, time) and the
activity's request, which for notifications includes the homeowner's contact details: the SMS
gateway needs the phone number. Nothing of it is logged. The `Idempotency-Key` header is the
record's key; a delivery repeats only after a failed attempt, and the receiver de-duplicates by
that header. Any failure (connection, timeout, non-2xx) raises, and the activity retries on its
retry policy; operators see the last error on the pending activity in the Web UI. A 4xx that
means "never" (a phone number the gateway rejects) raises `DeliveryRefused`, which the
activity turns into a non-retryable failure for the workflow's failure policy."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import structlog

from activities.store import StoredRecord

log = structlog.get_logger("fieldservice.delivery")


class DeliveryFailed(Exception):
    """The endpoint did not take the record; the activity will retry."""


class DeliveryRefused(Exception):
    """The endpoint refused the record for good (a 4xx other than the "try later" ones): a
    retry cannot succeed, so the activity fails without retrying."""


# 4xx answers that mean "not now" rather than "never".
_RETRYABLE_4XX = {408, 409, 425, 429}


class HttpDelivery:
    """A `Delivery` that posts each record to `{base_url}/{kind}`."""

    def __init__(self, base_url: str, *, timeout: float = 10.0,
                 headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = headers or {}

    async def deliver(self, record: StoredRecord, request: dict[str, Any]) -> None:
        """Post the record; raise `DeliveryFailed` unless the endpoint answers 2xx."""
        body = json.dumps({
            "key": record.key, "record_id": record.record_id, "case_id": record.case_id,
            "kind": record.kind, "created_at": record.created_at, "payload": record.payload,
            "request": request,
        }).encode()
        status = await asyncio.to_thread(self._post, f"{self.base_url}/{record.kind}", body,
                                         record.key)
        log.info("record delivered", case_id=record.case_id, key=record.key, kind=record.kind,
                 status=status)

    def _post(self, url: str, body: bytes, key: str) -> int:
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": key, **self.headers})
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
