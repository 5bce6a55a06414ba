"""The penetration test's findings (issue 16), each as an attack that must now fail: internal
state from an integration, a captured request replayed elsewhere, secrets in the log, an
integration beyond its permissions, the inputs that gave 500s, an unbounded body, a key rotated
in the wrong order, a retry after close with no worker, and the lower findings."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.api.common.v1 import Payload

from domain.damage import DamageClaim
from domain.processes import REACTIVATION
from domain.reactivation import Reactivation
from gateway.codec import CodecSettingError, token_digests
from gateway.integrations import IntegrationSettingError, parse_integrations
from gateway.perimeter import Perimeter
from gateway.throttle import FailureThrottle
from infra.encryption import EncryptionCodec, KeyRing, UnknownKeys, new_key_setting
from tests.gateway.helpers import (
    BASE,
    CRM_SECRET,
    DIALER_SECRET,
    TOKEN,
    Signed,
    gateway_app,
    nonce,
    public,
    replay,
)
from tests.workflows.harness import CaseHarness, claim_input, om_input, reactivation_input
from workers.logging_setup import configure_logging


@pytest_asyncio.fixture
async def gw(om: CaseHarness) -> AsyncIterator[Signed]:
    app = gateway_app(om.client, task_queue=om.task_queue, update_timeout=timedelta(seconds=2))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield Signed(http)


async def _reactivation(gw: Signed, om: CaseHarness, contract: str) -> str:
    r = await gw.post("/v1/cases/reactivation", public(reactivation_input(contract_id=contract)))
    assert r.status_code == 200, r.text
    case_id: str = r.json()["case_id"]
    await om.driver(case_id, Reactivation).stage("back_office_verification")
    return case_id


# ---- 1. internal state from integrations --------------------------------------------------


async def test_a_body_with_internal_state_is_refused(gw: Signed, om: CaseHarness) -> None:
    forged = public(reactivation_input(contract_id="CON-FORGED"))
    forged["carried_case"] = {"case_id": "reactivation-CON-FORGED", "stage": "om_reactivation",
                              "payment_approved": True, "seen_event_ids": ["crm:bo-1"]}
    r = await gw.post("/v1/cases/reactivation", forged)
    assert r.status_code == 422 and "carried_case" in r.json()["error"]
    claim = public(claim_input())
    claim["project_id"] = "rr-SYS-1-P1"  # would skip the intake tree
    r = await gw.post("/v1/cases/damage", claim)
    assert r.status_code == 422 and "project_id" in r.json()["error"]
    async with om.worker():
        assert (await gw.get("/v1/cases/reactivation-CON-FORGED")).status_code == 404


# ---- 2. a signature is good for one request only ---------------------------------------------


async def test_a_captured_request_replayed_elsewhere_is_refused(gw: Signed,
                                                               om: CaseHarness) -> None:
    async with om.worker():
        one = await _reactivation(gw, om, "CON-R1")
        two = await _reactivation(gw, om, "CON-R2")
        sent = await gw.post(f"/v1/cases/{one}/events/payment_verified",
                             {"event_id": "bo-1", "approved": False})
        assert sent.status_code == 200
        path, body, headers = replay(sent)
        # To another case: refused, and nothing reached it.
        r = await gw.http.post(path.replace(one, two), content=body, headers=headers)
        assert r.status_code == 401
        # To another event or route of the same case: refused.
        r = await gw.http.post(path.replace("payment_verified", "cancel_case"), content=body,
                               headers=headers)
        assert r.status_code == 401
        # With another body: refused (the Content-Digest is signed and checked).
        other = json.dumps({"event_id": "bo-1", "approved": True}).encode()
        r = await gw.http.post(path, content=other, headers=headers)
        assert r.status_code == 401 and "Content-Digest" in r.json()["error"]
        # The same request again: harmless, a duplicate.
        r = await gw.http.post(path, content=body, headers=headers)
        assert r.status_code == 200 and r.json()["duplicate"] is True
        st = await om.driver(two, Reactivation).status()
        assert st.stage == "back_office_verification" and st.payment_approved is None
        # A GET signature reused for another case: refused.
        read = await gw.get(f"/v1/cases/{one}")
        get_path, _, get_headers = replay(read)
        assert (await gw.http.get(get_path.replace(one, two),
                                  headers=get_headers)).status_code == 401


async def test_signatures_that_must_be_refused(gw: Signed) -> None:
    body = json.dumps({"event_id": "e-1", "resolved": False}).encode()
    path = "/v1/cases/om-SYS-1/events/remote_fix_result"
    # A nonce used once is refused the second time.
    n = nonce()
    headers = gw.headers("POST", path, body, nonce=n)
    first = await gw.http.post(path, content=body, headers=headers)
    assert first.status_code != 401
    again = await gw.http.post(path, content=body, headers=gw.headers("POST", path, body,
                                                                        nonce=n))
    assert again.status_code == 401 and "nonce" in again.json()["error"]
    # Too old, too far ahead.
    old = gw.headers("POST", path, body, created=time.time() - 301)
    assert (await gw.http.post(path, content=body, headers=old)).status_code == 401
    ahead = gw.headers("POST", path, body, created=time.time() + 60)
    assert (await gw.http.post(path, content=body, headers=ahead)).status_code == 401
    # A signature that does not cover the path (the old scheme's flaw) is refused.
    from gateway import signing
    loose = signing.sign("POST", BASE + path, body, "crm", CRM_SECRET.encode())
    loose["Signature-Input"] = loose["Signature-Input"].replace('"@path" ', "")
    assert (await gw.http.post(path, content=body, headers=loose)).status_code == 401
    # The former X-FieldService-* scheme is not accepted; an unknown integration neither.
    legacy = {"X-FieldService-Integration": "crm", "X-FieldService-Signature": "t=1,v1=00"}
    r = await gw.http.post(path, content=body, headers=legacy)
    assert r.status_code == 401 and "RFC 9421" in r.json()["error"]
    stranger = Signed(gw.http, "crm", secret="another-secret-of-length-20")
    stranger.integration = "stranger"
    assert (await stranger.post(path, {"event_id": "x"})).status_code == 401


# ---- 4. permissions per integration --------------------------------------------------------


async def test_an_integration_does_only_what_it_may(gw: Signed, om: CaseHarness) -> None:
    dialer = gw.as_("dialer")
    async with om.worker():
        case_id = await _reactivation(gw, om, "CON-PERM")
        events = f"/v1/cases/{case_id}/events"
        r = await dialer.post(f"{events}/payment_verified", {"event_id": "d-1",
                                                            "approved": True})
        assert r.status_code == 403 and "dialer" in r.json()["error"]
        r = await dialer.post(f"{events}/add_note", {"event_id": "d-2", "text": "hi"})
        assert r.status_code == 403
        assert (await dialer.get(f"/v1/cases/{case_id}")).status_code == 403
        r = await dialer.post("/v1/cases/om", public(om_input()))
        assert r.status_code == 403
        # What it may send is taken, as the dialer, with its own event IDs.
        st = await om.driver(case_id, Reactivation).status()
        assert st.payment_approved is None and st.ops == []
        # The recorded actor is the verified integration; what the body said is a note.
        r = await gw.post(f"{events}/add_note", {"event_id": "n-1", "text": "called back",
                                                 "actor": "the CEO"})
        assert r.status_code == 200
        st = await om.driver(case_id, Reactivation).status()
        assert (st.ops[-1].actor, st.ops[-1].actor_note) == ("crm", "the CEO")


async def test_event_ids_are_scoped_per_integration(gw: Signed, om: CaseHarness) -> None:
    async with om.worker():
        case = await om.open(om_input())
        await case.stage("problem_identified")
        await case.send("remote_fix_result", resolved=False)
        await case.until(lambda s: s.stage == "outbound_calls" or s.attempts.get("texts", 0) >= 3,
                         max_timers=10)
        await case.until(lambda s: s.attempts.get("calls", 0) >= 1, max_timers=10)
        path = f"/v1/cases/{case.case_id}/events/call_attempt_result"
        # The dialer's "e-1" and the CRM's "e-1" are two events, not a duplicate.
        r = await gw.as_("dialer").post(path, {"event_id": "e-1", "reached": False})
        assert r.status_code == 200 and not r.json()["duplicate"]
        r = await gw.post(path, {"event_id": "e-1", "reached": True, "scheduled": False})
        assert r.status_code == 200 and not r.json()["duplicate"], r.text
        st = await case.status()
        assert {e.event_id for e in st.events if e.name == "call_attempt_result"} == {
            "dialer:e-1", "crm:e-1"}


# ---- 5. no 500s ----------------------------------------------------------------------------


async def test_the_inputs_that_gave_500s(gw: Signed) -> None:
    path = "/v1/cases/om-SYS-1/events/remote_fix_result"
    body = json.dumps({"event_id": "e-1", "resolved": False}).encode()
    headers = gw.headers("POST", path, body)
    # A huge `created` and a non-ASCII byte in the signature, both unauthenticated: 401.
    huge = dict(headers)
    huge["Signature-Input"] = huge["Signature-Input"].replace("created=", "created=" + "9" * 400)
    assert (await gw.http.post(path, content=body, headers=huge)).status_code == 401
    raw = [(k.encode(), v.encode()) for k, v in headers.items() if k.lower() != "signature"]
    raw.append((b"signature", b"sig1=:\xff\xfe:"))
    r = await gw.http.post(path, content=body, headers=raw)
    assert r.status_code == 401
    # Deeply nested JSON and a lone surrogate, signed: 422.
    # (deeper than the parser goes, and deep enough to break what handles it afterwards)
    for depth in (5000, 900):
        nested = b'{"event_id": "e-2", "x": ' + b"[" * depth + b"]" * depth + b"}"
        r = await gw.post(path, nested)
        assert r.status_code == 422 and "nested" in r.json()["error"], (depth, r.text)
    r = await gw.post(path, b'{"event_id": "e-3", "resolved": false, "actor": "\\ud800"}')
    assert r.status_code == 422 and "surrogate" in r.json()["error"]
    # Bad UTF-8 to the codec: 400.
    r = await gw.http.post("/codec/decode", content=b"\xff\xfe{",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400
    # A trailing slash: 404, never a redirect whose Location carries the token.
    r = await gw.http.post(f"/codec/t/{TOKEN}/decode/", json={"payloads": []})
    assert r.status_code == 404 and "location" not in r.headers


async def test_temporal_unreachable_is_503() -> None:
    app = gateway_app(None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        gw = Signed(http)
        r = await gw.post("/v1/cases/om", public(om_input()))
        assert r.status_code == 503 and "retry" in r.json()["error"]
        r = await gw.get("/v1/cases/om-SYS-1")
        assert r.status_code == 503


async def test_an_unexpected_error_is_a_logged_500_without_secrets_or_personal_data(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Finding 3: every format; the traceback is logged (visible in production), never its
    local variables (the request's headers, the settings, a homeowner's details)."""
    class Broken:
        """A Temporal client that fails in a way nobody planned for."""

        def __getattr__(self, name: str) -> Any:
            raise KeyError("internal state broke")

    for fmt in ("console", "json"):
        configure_logging(fmt)
        # The attacker's own HTTP client logs its URLs (with the token it tries): not ours.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        app = gateway_app(Broken())  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=BASE) as http:
            gw = Signed(http)
            r = await gw.post("/v1/cases/om", public(om_input()))
            assert r.status_code == 500 and r.json() == {
                "error": "the gateway failed on this request; it was logged"}
            # And the attacks of the finding: a huge `t`-like value, bad tokens.
            await http.post("/codec/decode", json={"payloads": []},
                            headers={"Authorization": "Bearer wrong-token-wrong-token"})
            await http.post(f"/codec/t/{TOKEN}x/decode", json={"payloads": []})
        err = capsys.readouterr().err
        assert "unhandled error" in err and "Traceback" in err and "KeyError" in err
        for secret in (CRM_SECRET, DIALER_SECRET, TOKEN, "Ana Ruiz", "4155550100",
                       "1 Main St", "wrong-token-wrong-token"):
            assert secret not in err, (fmt, secret)
    logging.getLogger().handlers.clear()


# ---- 6. the body limit while reading, slow clients ------------------------------------------


async def test_a_chunked_body_over_the_limit_is_cut_off_while_it_is_read() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(64 * 1024):  # 64 MiB in 1 KiB chunks, no Content-Length
            pulled += 1
            yield b" " * 1024

    app = gateway_app(None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        r = await http.post("/v1/cases/om", content=chunks(),
                            headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert pulled < 1024, f"{pulled} KiB read before the refusal"


async def test_a_body_sent_too_slowly_is_cut_off() -> None:
    async def received() -> dict[str, Any]:
        await asyncio.sleep(5)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    app = gateway_app(None, body_seconds=0.2)
    scope = {"type": "http", "method": "POST", "path": "/v1/cases/om", "raw_path": b"/v1/cases/om",
             "query_string": b"", "headers": [(b"content-type", b"application/json")],
             "scheme": "http", "server": ("gateway", 80), "client": ("127.0.0.1", 5000),
             "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"}}
    await asyncio.wait_for(app(scope, received, send), timeout=3)
    assert sent[0]["status"] == 408


async def test_baggage_never_reaches_the_case() -> None:
    seen: list[list[tuple[bytes, bytes]]] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["headers"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [
        (b"baggage", b"homeowner=Ana"), (b"traceparent", b"00-" + b"1" * 32 + b"-" + b"2" * 16
                                         + b"-01")]}
    await Perimeter(inner)(scope, receive, send)
    assert [k for k, _ in seen[0]] == [b"traceparent"]


# ---- 7. a key rotated in the wrong order ------------------------------------------------


async def test_a_payload_under_a_key_nobody_holds_is_reported() -> None:
    writer = EncryptionCodec(KeyRing.parse(new_key_setting("k-new")))
    [payload] = await writer.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"{}")])
    counted: list[str] = []
    report = UnknownKeys(counter=counted.append)
    reader = EncryptionCodec(KeyRing.parse(new_key_setting("k-old")), report)
    for _ in range(3):
        with pytest.raises(ValueError, match="k-new"):
            await reader.decode([payload])
    assert report.seen == {"k-new": 3} and counted == ["k-new"] * 3
    # Made-up key IDs cannot grow the metric's labels without bound.
    for n in range(100):
        report(f"made-up-{n}")
    assert len(report.seen) == UnknownKeys.MAX_KEY_IDS + 1 and report.seen["other"] == 81


async def test_a_worker_holding_too_few_keys_is_not_ready() -> None:
    from workers.__main__ import health_checks

    class Fine:
        is_running = True
        is_shutdown = False

    class Server:
        class service_client:  # noqa: N801 - the client's attribute
            @staticmethod
            async def check_health(timeout: timedelta) -> None:
                return None

    unknown = UnknownKeys()
    _, ready = health_checks(Server(), Fine(), asyncio.Event(), unknown)  # type: ignore[arg-type]
    assert await ready() is None
    unknown("k-new")
    detail = await ready()
    assert detail is not None and "k-new" in detail and "FIELD_SERVICE_ENCRYPTION_KEYS" in detail


# ---- 8. a retry after close, with no worker -----------------------------------------------


async def test_a_retry_after_close_is_a_duplicate_even_with_no_worker(
        gw: Signed, om: CaseHarness) -> None:
    async with om.worker(max_cached_workflows=0):
        case_id = await _reactivation(gw, om, "CON-CLOSED")
        r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                          {"event_id": "bo-9", "approved": False})
        assert r.json()["outcome"] == "payment_not_verified"
        await om.driver(case_id, Reactivation).result()
    # No worker: the closed case's result (kept by the server) answers.
    r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                      {"event_id": "bo-9", "approved": False})
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    r = await gw.post(f"/v1/cases/{case_id}/events/payment_verified",
                      {"event_id": "bo-10", "approved": True})
    assert r.status_code == 410


async def test_a_retry_to_a_terminated_case_with_no_worker_is_503(
        gw: Signed, om: CaseHarness) -> None:
    async with om.worker(max_cached_workflows=0):
        r = await gw.post("/v1/cases/damage", public(claim_input()))
        case_id = r.json()["case_id"]
        await om.driver(case_id, DamageClaim).stage("investigation")
    await om.client.get_workflow_handle(case_id).terminate("operator")
    r = await gw.post(f"/v1/cases/{case_id}/events/field_assessment",
                      {"event_id": "fa-1", "follow_up_required": False, "at_fault": "company"})
    # Nothing can say whether the case had taken this event: retry later, not "closed".
    assert r.status_code == 503 and "retry" in r.json()["error"]


# ---- 9. the lower findings --------------------------------------------------------------


async def test_guessing_codec_tokens_is_slowed_down(gw: Signed) -> None:
    for _ in range(10):
        r = await gw.http.post("/codec/decode", json={"payloads": []},
                               headers={"Authorization": "Bearer guess-guess-guess-guess"})
        assert r.status_code == 401
    r = await gw.http.post("/codec/decode", json={"payloads": []},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_the_throttle_forgets_after_its_window() -> None:
    throttle = FailureThrottle(failures=2, window=60)
    throttle.failed("a", now=0)
    throttle.failed("a", now=1)
    assert throttle.retry_after("a", now=2) is not None and throttle.retry_after("b", 2) is None
    assert throttle.retry_after("a", now=62) is None


def test_weak_tokens_secrets_and_open_cors_are_refused_at_start() -> None:
    with pytest.raises(CodecSettingError, match="token 2 is shorter"):
        token_digests([TOKEN, "short"])
    with pytest.raises(IntegrationSettingError, match="'crm': secrets"):
        parse_integrations('{"crm": {"secrets": ["too-short"]}}')
    with pytest.raises(IntegrationSettingError, match="'crm': colour"):
        parse_integrations('{"crm": {"secrets": ["' + "x" * 20 + '"], "colour": "red"}}')
    with pytest.raises(IntegrationSettingError, match="not JSON"):
        parse_integrations("crm:secret")
    with pytest.raises(CodecSettingError, match="credentials"):
        gateway_app(None, cors_origins=("*",), cors_credentials=True)


def test_integrations_from_a_file(tmp_path: Any) -> None:
    path = tmp_path / "integrations.json"
    path.write_text(json.dumps({"crm": {"secrets": ["y" * 20], "read": True}}))
    found = parse_integrations(f"@{path}")
    assert found["crm"].read and not found["crm"].may_open("om")


def test_tokens_are_kept_as_digests() -> None:
    digests = token_digests([TOKEN])
    assert TOKEN.encode() not in b"".join(digests) and len(digests[0]) == 32


async def test_the_cases_client_for_a_closed_case_reads_its_result_not_a_query(
        om: CaseHarness) -> None:
    """The part of finding 8 in the project's client: with no worker, a closed case's result
    (server-side) is read, where the status query would time out."""
    from starter.client import closed_case

    async with om.worker():
        case = await om.open_process(REACTIVATION, reactivation_input(contract_id="CON-RES"),
                                     Reactivation)
        await case.stage("back_office_verification")
        await case.send("payment_verified", approved=False)
        await case.result()
    found = await asyncio.wait_for(closed_case(om.client, case.case_id), timeout=10)
    assert found is not None and found.outcome == "payment_not_verified"

