"""The gateway (spec 6.1) in process, against the time-skipping server: the signed ingress with
every status code, the fallback to a Signal, the codec endpoints. The attacks of the penetration
test come next (tests/gateway/test_attacks.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from domain.inquiry import InquiryCase
from domain.reactivation import Reactivation
from domain.rr import RrProject
from tests.gateway.helpers import BASE, TOKEN, Signed, gateway_app, public
from tests.workflows.harness import CaseHarness, inquiry_input, reactivation_input, rr_input


@pytest_asyncio.fixture
async def gw(om: CaseHarness) -> AsyncIterator[Signed]:
    app = gateway_app(om.client, task_queue=om.task_queue, update_timeout=timedelta(seconds=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield Signed(http)


async def open_reactivation(gw: Signed, om: CaseHarness, **changes: Any) -> str:
    body = public(reactivation_input(**changes))
    answer = await gw.post("/v1/cases/reactivation", body)
    assert answer.status_code == 200, answer.text
    case_id: str = answer.json()["case_id"]
    await om.driver(case_id, Reactivation).stage("back_office_verification")
    return case_id


async def test_open_send_duplicate_status(gw: Signed, om: CaseHarness) -> None:
    async with om.worker():
        case_id = await open_reactivation(gw, om, contract_id="CON-GW1")
        assert case_id == "reactivation-CON-GW1"
        again = await gw.post("/v1/cases/reactivation",
                              public(reactivation_input(contract_id="CON-GW1")))
        assert again.status_code == 200 and again.json()["joined"] is True

        sent = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                             {"event_id": "pv-1", "approved": True})
        assert sent.status_code == 200, sent.text
        answer = sent.json()
        assert answer["stage"] == "om_reactivation" and not answer["duplicate"]
        assert answer["event_id"] == "pv-1"  # as the integration sent it
        dup = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                            {"event_id": "pv-1", "approved": False})
        assert dup.status_code == 200 and dup.json()["duplicate"] is True

        status = await gw.get(f"/v1/cases/{case_id}")
        assert status.status_code == 200 and status.json()["payment_approved"] is True
        assert status.json()["source"] == "worker"  # the query; "visibility" without one
        # The case records the verified integration, its scoped event ID.
        [accepted] = [e for e in status.json()["events"] if e["name"] == "payment_verified"]
        assert accepted["event_id"] == "crm:pv-1" and accepted["actor"] == "crm"


async def test_refusals_have_their_status_codes(gw: Signed, om: CaseHarness) -> None:
    async with om.worker():
        case_id = await open_reactivation(gw, om)
        events = f"/v1/cases/{case_id}/events"
        # 409: does not fit the stage.
        r = await gw.post(f"{events}/reactivation_completed", {"event_id": "rc-early"})
        assert r.status_code == 409 and "does not fit stage" in r.json()["error"]
        # 422: malformed payload, naming the field; missing event_id; not an object.
        r = await gw.post(f"{events}/payment_verified", {"event_id": "x", "approved": "maybe"})
        assert r.status_code == 422 and "approved" in r.json()["error"]
        r = await gw.post(f"{events}/payment_verified", {"approved": True})
        assert r.status_code == 422 and "event_id" in r.json()["error"]
        r = await gw.post(f"{events}/payment_verified", [1, 2])
        assert r.status_code == 422
        r = await gw.post("/v1/cases/reactivation", {"contract_id": "C-1"})
        assert r.status_code == 422 and "homeowner" in r.json()["error"]
        # 422: a payment date in the future (spec 3.6), refused before any case starts.
        far = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
        r = await gw.post("/v1/cases/reactivation",
                          public(reactivation_input(contract_id="CON-FUTURE", payment_date=far)))
        assert r.status_code == 422 and "payment_date" in r.json()["error"]
        assert "in the future" in r.json()["error"]
        assert (await gw.get("/v1/cases/reactivation-CON-FUTURE")).status_code == 404
        # 404: no such case, no such process.
        r = await gw.post("/v1/cases/reactivation-NOPE/events/payment_verified",
                          {"event_id": "n-1", "approved": True})
        assert r.status_code == 404
        r = await gw.post("/v1/cases/nonsense", {"x": 1})
        assert r.status_code == 404
        r = await gw.get("/v1/cases/om-NOPE")
        assert r.status_code == 404
        # 413: over 256 KiB.
        r = await gw.post(f"{events}/payment_verified",
                          {"event_id": "big", "approved": True, "pad": "x" * 300_000})
        assert r.status_code == 413
        # 410: closed.
        r = await gw.post(f"{events}/payment_verified", {"event_id": "no", "approved": False})
        assert r.status_code == 200 and r.json()["outcome"] == "payment_not_verified"
        r = await gw.post(f"{events}/payment_verified", {"event_id": "late", "approved": True})
        assert r.status_code == 410 and "closed" in r.json()["error"]
        # A retry of an event the case took before it closed is still a duplicate.
        r = await gw.post(f"{events}/payment_verified", {"event_id": "no", "approved": False})
        assert r.status_code == 200 and r.json()["duplicate"] is True


async def test_falls_back_to_a_signal_when_the_case_cannot_answer_in_time(
        gw: Signed, om: CaseHarness) -> None:
    # No sticky cache: the test server never moves a case off a stopped worker's sticky queue
    # (a real server does after a few seconds).
    async with om.worker(max_cached_workflows=0):
        case_id = await open_reactivation(gw, om, contract_id="CON-SLOW")
    # No worker now: the Update cannot be answered, the event goes as a Signal (202).
    r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                      {"event_id": "pv-slow", "approved": True})
    assert r.status_code == 202, r.text
    assert r.json() == {"case_id": case_id, "event": "payment_verified", "event_id": "pv-slow",
                        "delivered_as": "signal"}
    async with om.worker():
        st = await om.driver(case_id, Reactivation).stage("om_reactivation")
        assert st.payment_approved is True and st.rejected_total == 0
        assert [e.event_id for e in st.events if e.name == "payment_verified"] == ["crm:pv-slow"]
        r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                          {"event_id": "pv-slow", "approved": True})
        assert r.status_code == 200 and r.json()["duplicate"] is True


async def test_codec_round_trip_and_tokens(gw: Signed) -> None:
    http = gw.http
    plain = {"payloads": [{"metadata": {"encoding": "anNvbi9wbGFpbg=="},
                           "data": "eyJhIjogMX0="}]}
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    r = await http.post("/codec/encode", json=plain)
    assert r.status_code == 401
    enc = await http.post("/codec/encode", json=plain, headers=bearer)
    assert enc.status_code == 200
    assert enc.json()["payloads"][0]["metadata"]["encoding"] != "anNvbi9wbGFpbg=="
    dec = await http.post(f"/codec/t/{TOKEN}/decode", json=enc.json())
    assert dec.status_code == 200 and dec.json() == plain
    # CORS for the Web UI's origin on the codec routes, none on the ingress.
    pre = await http.options("/codec/decode", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "http://localhost:8233"
    assert "access-control-allow-credentials" not in pre.headers
    ingress = await http.options("/v1/cases/om", headers={
        "Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in ingress.headers
    other = await http.options("/codec/decode", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers


async def test_the_openapi_document_shows_public_requests_and_every_answer(
        gw: Signed) -> None:
    doc = (await gw.http.get("/openapi.json")).json()
    text = str(doc)
    assert "carried_case" not in text and "CarriedCase" not in text
    schemas = doc["components"]["schemas"]
    assert "project_id" not in schemas["DamageClaimRequest"]["properties"]
    assert "OmCase" not in schemas  # the case's state is not part of any request
    event = doc["paths"]["/v1/cases/{workflow_id}/events/{event}"]["post"]
    assert set(event["responses"]) >= {"200", "202", "401", "403", "404", "409", "410", "413",
                                       "422", "429", "503"}
    assert event["security"] == [{"rfc9421": []}]
    assert doc["components"]["securitySchemes"]["rfc9421"]["name"] == "Signature"
    for path in ("/codec/encode", "/codec/decode"):
        codec = doc["paths"][path]["post"]
        assert set(codec["responses"]) >= {"200", "400", "401", "413", "429"}
        assert codec["security"] == [{"codecToken": []}]
    opened = doc["paths"]["/v1/cases/om"]["post"]
    assert set(opened["responses"]) >= {"200", "401", "403", "413", "422", "503"}


async def test_cases_of_one_system_at_the_gateway(gw: Signed, om: CaseHarness) -> None:
    """Spec 2.3 at the ingress: one ID for two cases is 409 naming the conflict; an inquiry
    opened twice answers with the first run's outcome; `project_ended` is the projects' own
    event, which `"*"` does not grant."""
    async with om.worker():
        r = await gw.post("/v1/cases/rr", public(rr_input("A-B", project_no="C")))
        assert r.status_code == 200 and r.json()["case_id"] == "rr-A-B-C"
        await om.driver("rr-A-B-C", RrProject).stage("removal")
        r = await gw.post("/v1/cases/rr", public(rr_input("A", project_no="B-C")))
        assert r.status_code == 409
        assert "system A-B" in r.json()["error"] and "system A" in r.json()["error"]
        r = await gw.post("/v1/cases/rr-A-B-C/events/project_ended",
                          {"event_id": "pe-1", "project_id": "rr-X", "outcome": "completed"})
        assert r.status_code == 403

        body = public(inquiry_input(inquiry="monitoring_access", m3_approved=False))
        first = await gw.post("/v1/cases/inquiry", body)
        assert first.status_code == 200 and first.json()["outcome"] is None
        case = om.driver(first.json()["case_id"], InquiryCase)
        st = await case.until(lambda s: s.outcome is not None and not s.outbox)
        again = await gw.post("/v1/cases/inquiry", body)
        assert again.status_code == 200
        assert again.json()["joined"] is True and again.json()["outcome"] == st.outcome
        assert len(case.records("disposition")) == 1


async def test_the_api_pages_work_offline(gw: Signed) -> None:
    """Finding 9: /docs loaded Swagger UI from a CDN, a blank page offline. Every URL the page
    loads is the gateway's own, and each answers."""
    import re

    page = await gw.http.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    urls += re.findall(r"""url: ['"]([^'"]+)['"]""", page.text)
    assert urls
    for url in urls:
        assert url.startswith(("http://gateway/", "/")), url  # no CDN
        r = await gw.http.get(url)
        assert r.status_code == 200, url
    js = await gw.http.get("/swagger/swagger-ui-bundle.js")
    assert len(js.content) > 100_000 and js.headers["content-type"].startswith(
        ("application/javascript", "text/javascript"))
    assert (await gw.http.get("/redoc")).status_code == 404  # redoc would load from a CDN


def test_the_openapi_document_is_valid_and_declares_what_callers_get() -> None:
    """Finding 9: the signature headers as a security scheme on every ingress route; every
    status a route answers listed (503 when Temporal is unreachable, 409 for an ID conflict);
    the codec routes' refusals listed."""
    from openapi_spec_validator import validate

    doc = gateway_app(None).app.app.openapi()  # type: ignore[attr-defined]
    validate(doc)
    assert set(doc["components"]["securitySchemes"]) == {"rfc9421", "codecToken"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            if path.startswith("/v1/"):
                assert op["security"] == [{"rfc9421": []}], path
                assert {"401", "403", "429", "503"} <= codes, (method, path)
            if path.startswith("/v1/cases/") and method == "post" and "{" not in path:
                assert "409" in codes and "422" in codes, path
            if path.startswith("/codec/"):
                assert {"400", "401", "413", "429"} <= codes, path


async def test_liveness_and_readiness_are_different_questions(gw: Signed) -> None:
    """Finding 6: the gateway's readiness was its liveness. Alive: the process serves. Ready:
    the Temporal server answers too."""
    assert (await gw.http.get("/livez")).status_code == 200
    ready = await gw.http.get("/readyz")
    assert ready.status_code == 200 and ready.text == "ok\n"
    app = gateway_app(None)  # a Temporal that cannot be reached
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        assert (await http.get("/livez")).status_code == 200
        r = await http.get("/readyz")
        assert r.status_code == 503 and "the Temporal server does not answer" in r.text
