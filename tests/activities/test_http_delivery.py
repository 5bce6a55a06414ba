"""Delivery to the real systems: a record is delivered until the endpoint takes it once, and
never again after that; a failed delivery is retried, not lost (on both store back ends)."""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from activities.effects import FieldServiceActivities
from activities.http_delivery import (
    DeliveryFailed,
    DeliverySecretError,
    HttpDelivery,
    parse_delivery_secrets,
)
from activities.store import RecordStore, SqliteRecordStore
from domain.effects import Notification
from domain.homeowner import Homeowner
from tests.http_endpoint import Endpoint


def _text(key: str) -> Notification:
    return Notification(key=key, case_id="om-1", channel="text", template="self_scheduling_link",
                        recipient=Homeowner(name="Ana Ruiz", phone="+14155550100"), params={})


async def test_a_failed_delivery_is_retried_then_never_repeated(endpoint: Endpoint,
                                                                any_store: RecordStore) -> None:
    store = any_store  # on SQLite and on PostgreSQL
    acts = FieldServiceActivities(store, HttpDelivery(endpoint.url, timeout=5))
    with pytest.raises(DeliveryFailed, match="answered 503"):
        await acts.notify_homeowner(_text("om-1/x/visit1/text/1"))
    [record] = store.records("om-1")
    assert record.delivered_at is None  # made, not delivered: the retry must deliver it

    receipt = await acts.notify_homeowner(_text("om-1/x/visit1/text/1"))  # the retry
    assert not receipt.created
    assert store.records("om-1")[0].delivered_at is not None
    await acts.notify_homeowner(_text("om-1/x/visit1/text/1"))  # a later retry: nothing sent

    assert [(path, key, status) for path, key, _, status in endpoint.received] == [
        ("/effects/text", "om-1/x/visit1/text/1", 503),
        ("/effects/text", "om-1/x/visit1/text/1", 201)]
    body = endpoint.received[1][2]
    assert body["record_id"] == record.record_id and body["kind"] == "text"
    assert body["request"]["recipient"]["phone"] == "+14155550100"  # the gateway needs it
    assert "4155550100" not in json.dumps(body["payload"])  # the stored copy stays masked


async def test_an_unreachable_endpoint_fails_the_attempt(tmp_path: Path) -> None:
    store = SqliteRecordStore(tmp_path / "r.db")
    acts = FieldServiceActivities(store, HttpDelivery("http://127.0.0.1:9/none", timeout=2))
    with pytest.raises(DeliveryFailed, match="unreachable"):
        await acts.notify_homeowner(_text("om-1/x/visit1/text/1"))


def _secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def test_every_delivery_is_signed_and_verifies_with_standard_webhooks(
        endpoint: Endpoint, tmp_path: Path) -> None:
    current, next_one = _secret(), _secret()
    store = SqliteRecordStore(tmp_path / "r.db")

    async def send(delivery_secrets: list[str], key: str) -> tuple[dict[str, str], bytes]:
        acts = FieldServiceActivities(store, HttpDelivery(endpoint.url, timeout=5,
                                                          secrets=delivery_secrets))
        with contextlib.suppress(DeliveryFailed):  # the endpoint fails the first post
            await acts.notify_homeowner(_text(key))
        await acts.notify_homeowner(_text(key))
        return endpoint.raw[-1]

    headers, raw = await send([current], "om-1/x/visit1/text/1")
    assert headers["webhook-id"] == "om-1/x/visit1/text/1" == headers["idempotency-key"]
    # A receiver verifies it with the library, as docs/integrations.md shows.
    Webhook(current).verify(raw, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(next_one).verify(raw, headers)
    with pytest.raises(WebhookVerificationError):  # a changed body no longer verifies
        Webhook(current).verify(raw.replace(b"Ana", b"Eve"), headers)

    # Rotation: while both secrets are set every post carries both signatures, so receivers
    # holding either verify it; then the old one is removed.
    headers, raw = await send([next_one, current], "om-1/x/visit1/text/2")
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(current).verify(raw, headers)
    Webhook(next_one).verify(raw, headers)
    headers, raw = await send([next_one], "om-1/x/visit1/text/3")
    Webhook(next_one).verify(raw, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(current).verify(raw, headers)


def test_a_weak_or_malformed_delivery_secret_stops_the_worker() -> None:
    good = _secret()
    assert parse_delivery_secrets(f" {good} , ") == [good]
    assert parse_delivery_secrets(None) == []
    short = "whsec_" + base64.b64encode(b"x" * 8).decode()
    for bad in ("plain-text-secret-0001!", short, "whsec_not*base64"):
        with pytest.raises(DeliverySecretError, match="secret 2 is not whsec_") as err:
            parse_delivery_secrets(f"{good},{bad}")
        assert bad not in str(err.value) and good not in str(err.value)


def test_an_older_store_file_gains_the_delivery_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT "
                     "NULL UNIQUE, record_id TEXT NOT NULL, case_id TEXT NOT NULL, kind TEXT "
                     "NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL)")
        conn.execute("INSERT INTO records (key, record_id, case_id, kind, payload, created_at) "
                     "VALUES ('k', 'TEXT-000001', 'om-1', 'text', '{}', '2026-11-01T00:00:00')")
    store = SqliteRecordStore(path)
    [old] = store.records("om-1")
    assert old.delivered_at == old.created_at  # never delivered again after an upgrade
    store.record_once("k2", "om-1", "text", {})
    assert store.records("om-1")[1].delivered_at is None
