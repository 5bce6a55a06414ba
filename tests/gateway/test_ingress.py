"""The gateway (spec 6.1) in process, against the time-skipping server: the codec endpoints and
the signed ingress with every status code, the fallback to a Signal, and forged or stale
requests that reach no workflow."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from structlog.testing import capture_logs
from temporalio.client import Client

from domain.reactivation import Reactivation
from gateway import signing
from gateway.app import GatewaySettings, create_app
from infra.encryption import EncryptionCodec, KeyRing, new_key_setting
from tests.workflows.harness import CaseHarness, reactivation_input

SECRET = b"s3cret-for-tests"
TOKEN = "codec-token-1"
Gateway = httpx.AsyncClient


def signed(body: bytes, *, name: str = "crm", secret: bytes = SECRET,
           at: float | None = None) -> dict[str, str]:
    """The headers an integration sends."""
    t = int(at if at is not None else time.time())
    return {signing.INTEGRATION_HEADER: name,
            signing.SIGNATURE_HEADER: signing.signature(secret, t, body),
            "Content-Type": "application/json"}


async def post(gw: Gateway, path: str, payload: Any, **sign: Any) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await gw.post(path, content=body, headers=signed(body, **sign))


@pytest_asyncio.fixture
async def gw(om: CaseHarness) -> AsyncIterator[Gateway]:
    settings = GatewaySettings(codec_tokens=frozenset({TOKEN}),
                               webhook_secrets={"crm": (SECRET,)}, task_queue=om.task_queue,
                               update_timeout=timedelta(seconds=2))

    async def client() -> Client:
        return om.client

    codec = EncryptionCodec(KeyRing.parse(new_key_setting("gw-1")))
    app = create_app(settings, client, codec)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://gateway") as http:
        yield http


async def _open_reactivation(gw: Gateway, om: CaseHarness, **changes: Any) -> str:
    body = reactivation_input(**changes).model_dump(mode="json")
    answer = await post(gw, "/v1/cases/reactivation", body)
    assert answer.status_code == 200, answer.text
    case_id: str = answer.json()["case_id"]
    await om.driver(case_id, Reactivation).stage("back_office_verification")
    return case_id


async def test_open_send_duplicate_status(gw: Gateway, om: CaseHarness) -> None:
    async with om.worker():
        case_id = await _open_reactivation(gw, om, contract_id="CON-GW1")
        assert case_id == "reactivation-CON-GW1"
        again = await post(gw, "/v1/cases/reactivation",
                           reactivation_input(contract_id="CON-GW1").model_dump(mode="json"))
        assert again.status_code == 200 and again.json()["joined"] is True

        sent = await post(gw, f"/v1/cases/{case_id}/events/payment_verified",
                          {"event_id": "pv-1", "approved": True})
        assert sent.status_code == 200, sent.text
        assert sent.json()["stage"] == "om_reactivation" and not sent.json()["duplicate"]
        dup = await post(gw, f"/v1/cases/{case_id}/events/payment_verified",
                         {"event_id": "pv-1", "approved": False})
        assert dup.status_code == 200 and dup.json()["duplicate"] is True

        empty = b""
        status = await gw.get(f"/v1/cases/{case_id}", headers=signed(empty))
        assert status.status_code == 200 and status.json()["payment_approved"] is True


async def test_refusals_have_their_status_codes(gw: Gateway, om: CaseHarness) -> None:
    async with om.worker():
        case_id = await _open_reactivation(gw, om)
        events = f"/v1/cases/{case_id}/events"
        # 409: does not fit the stage.
        r = await post(gw, f"{events}/reactivation_completed", {"event_id": "rc-early"})
        assert r.status_code == 409 and "does not fit stage" in r.json()["error"]
        # 422: malformed payload, naming the field; missing event_id; not an object.
        r = await post(gw, f"{events}/payment_verified", {"event_id": "x", "approved": "maybe"})
        assert r.status_code == 422 and "approved" in r.json()["error"]
        r = await post(gw, f"{events}/payment_verified", {"approved": True})
        assert r.status_code == 422 and "event_id" in r.json()["error"]
        r = await post(gw, f"{events}/payment_verified", [1, 2])
        assert r.status_code == 422
        r = await post(gw, "/v1/cases/reactivation", {"contract_id": "C-1"})
        assert r.status_code == 422 and "homeowner" in r.json()["error"]
        # 404: no such case, no such process.
        r = await post(gw, "/v1/cases/reactivation-NOPE/events/payment_verified",
                       {"event_id": "n-1", "approved": True})
        assert r.status_code == 404
        r = await post(gw, "/v1/cases/nonsense", {"x": 1})
        assert r.status_code == 404
        r = await gw.get("/v1/cases/om-NOPE", headers=signed(b""))
        assert r.status_code == 404
        # 413: over 256 KiB.
        r = await post(gw, f"{events}/payment_verified",
                       {"event_id": "big", "approved": True, "pad": "x" * 300_000})
        assert r.status_code == 413
        # 410: closed.
        r = await post(gw, f"{events}/payment_verified", {"event_id": "no", "approved": False})
        assert r.status_code == 200 and r.json()["outcome"] == "payment_not_verified"
        r = await post(gw, f"{events}/reactivation_completed", {"event_id": "late"})
        assert r.status_code == 410, r.text


@pytest.mark.parametrize("how", ["missing", "forged", "stale", "unknown"])
async def test_unsigned_requests_get_401_and_reach_no_workflow(gw: Gateway, om: CaseHarness,
                                                               how: str) -> None:
    async with om.worker():
        case_id = await _open_reactivation(gw, om)
        body = json.dumps({"event_id": f"bad-{how}", "approved": True}).encode()
        headers = {
            "missing": {"Content-Type": "application/json"},
            "forged": signed(body, secret=b"guessed"),
            "stale": signed(body, at=time.time() - 600),
            "unknown": signed(body, name="someone"),
        }[how]
        r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified", content=body,
                          headers=headers)
        assert r.status_code == 401, r.text
        opened = await gw.post("/v1/cases/reactivation", content=json.dumps(
            reactivation_input(contract_id="CON-NEVER").model_dump(mode="json")).encode(),
            headers=headers)
        assert opened.status_code == 401
        st = await om.driver(case_id, Reactivation).status()
        assert st.stage == "back_office_verification" and st.events_total == 0
        assert st.rejected_total == 0
        history = await om.client.get_workflow_handle(case_id).fetch_history()
        assert not any(e.HasField("workflow_execution_signaled_event_attributes")
                       or e.HasField("workflow_execution_update_accepted_event_attributes")
                       for e in history.events)


async def test_falls_back_to_a_signal_when_the_case_cannot_answer_in_time(
        gw: Gateway, om: CaseHarness) -> None:
    # No sticky cache: the test server never moves a case off a stopped worker's sticky queue
    # (a real server does after a few seconds).
    async with om.worker(max_cached_workflows=0):
        case_id = await _open_reactivation(gw, om)
    # No worker now: the Update cannot be answered within the gateway's limit.
    r = await post(gw, f"/v1/cases/{case_id}/events/payment_verified",
                   {"event_id": "pv-late", "approved": True})
    assert r.status_code == 202, r.text
    assert r.json() == {"case_id": case_id, "event": "payment_verified", "event_id": "pv-late",
                        "delivered_as": "signal"}
    async with om.worker():
        st = await om.driver(case_id, Reactivation).stage("om_reactivation")
        assert st.payment_approved is True and st.rejected_total == 0
        # A retry of the same event is a duplicate, not a second approval.
        r = await post(gw, f"/v1/cases/{case_id}/events/payment_verified",
                       {"event_id": "pv-late", "approved": True})
        assert r.status_code == 200 and r.json()["duplicate"] is True


async def test_codec_endpoints_need_a_token_and_round_trip(gw: Gateway) -> None:
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="},
                           "data": "eyJwaG9uZSI6ICIrMTQxNTU1NTAxMDAifQ=="}]}
    r = await gw.post("/codec/encode", json=plain)
    assert r.status_code == 401
    r = await gw.post("/codec/decode", json=plain, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    enc = await gw.post("/codec/encode", json=plain, headers=auth)
    assert enc.status_code == 200
    assert enc.json()["payloads"][0]["data"] != plain["payloads"][0]["data"]
    dec = await gw.post("/codec/decode", json=enc.json(), headers=auth)
    assert dec.json() == plain
    # Plain payloads pass through decode (the CLI's plain JSON events).
    assert (await gw.post("/codec/decode", json=plain, headers=auth)).json() == plain


async def test_the_web_ui_endpoint_carries_its_token_in_the_path(gw: Gateway) -> None:
    data = "eyJwaG9uZSI6ICIrMTQxNTU1NTAxMDAifQ=="
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": data}]}
    with capture_logs() as logged:
        enc = await gw.post(f"/codec/t/{TOKEN}/encode", json=plain)
    assert enc.status_code == 200
    # The access log names the route template: never the token, never a payload.
    assert [e["route"] for e in logged if e["event"] == "request"] == [
        "/codec/t/{token}/encode"]
    assert TOKEN not in repr(logged) and data not in repr(logged)
    assert enc.json()["payloads"][0]["metadata"]["encoding"] != "anNvbi9wbGFpbg=="
    dec = await gw.post(f"/codec/t/{TOKEN}/decode", json=enc.json())
    assert dec.status_code == 200 and dec.json() == plain
    # A wrong or blank token in the path is refused, even with a good bearer header: the
    # ciphertext is all that is seen.
    for path in ("/codec/t/wrong/decode", "/codec/t/%20/decode"):
        r = await gw.post(path, json=enc.json(),
                          headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 401, path
    r = await gw.options(f"/codec/t/{TOKEN}/decode", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace"})
    assert r.status_code == 200


async def test_cors_preflight_from_the_web_ui(gw: Gateway) -> None:
    r = await gw.options("/codec/decode", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://localhost:8233"
    r = await gw.options("/codec/decode", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


async def test_the_probe_endpoint_needs_no_signature(gw: Gateway) -> None:
    r = await gw.get("/livez")
    assert r.status_code == 200 and r.text == "ok\n"


async def test_the_openapi_document_describes_every_process_input(gw: Gateway) -> None:
    doc = (await gw.get("/openapi.json")).json()
    for prefix in ("om", "damage", "rr", "reactivation", "followup", "inquiry"):
        assert f"/v1/cases/{prefix}" in doc["paths"]
    assert "ReactivationInput" in doc["components"]["schemas"]
    assert "/v1/cases/{workflow_id}/events/{event}" in doc["paths"]
