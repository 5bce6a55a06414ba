"""Spec 6.1 end to end on a real dev server, with the worker (`python -m workers`) and the
gateway (`python -m gateway`) as subprocesses and keys set: a case opened through the signed
ingress keeps no personal data in its whole history; the codec endpoint decodes for a token
holder and answers 401 to anyone else; the `temporal` CLI with `--codec-endpoint` reads the
status; an event falls back to a Signal (202) when the worker cannot answer, and is applied once
when it can; and every example of docs/integrations.md works verbatim."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from gateway import signing
from infra.encryption import new_key_setting
from tests.conftest import server_path
from tests.e2e.test_local_stack import ROOT, Stack, free_port, om_report, running
from tests.workflows.test_encrypted_cases import PERSONAL, history_bytes

SECRET = "e2e-crm-secret-" + secrets.token_urlsafe(16)
DIALER_SECRET = "e2e-dialer-secret-" + secrets.token_urlsafe(16)
TOKEN = "e2e-codec-token-" + secrets.token_urlsafe(16)
INTEGRATIONS = {
    "crm": {"secrets": [SECRET], "open": ["*"], "events": ["*"], "ops": ["*"], "read": True},
    "dialer": {"secrets": [DIALER_SECRET], "events": ["call_attempt_result"]},
}


class SecureStack(Stack):
    """The dev server, a worker and a gateway, all with the same key; the test's own client
    has none (it sees what the server stores)."""

    def __init__(self, env: WorkflowEnvironment, tmp: Path) -> None:
        super().__init__(env, tmp)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.gateway_log = tmp / "gateway.log"
        self.vars.update({
            "FIELD_SERVICE_ENCRYPTION_KEYS": new_key_setting("e2e-1"),
            "FIELD_SERVICE_CODEC_TOKENS": TOKEN,
            "FIELD_SERVICE_INTEGRATIONS": json.dumps(INTEGRATIONS),
            "FIELD_SERVICE_GATEWAY_PORT": str(self.port),
        })
        self.gateway: subprocess.Popen[bytes] | None = None
        self.http = httpx.AsyncClient(base_url=self.url, timeout=60)

    async def start_gateway(self) -> None:
        """`python -m gateway`, waited for until it answers."""
        self.gateway = self.spawn("gateway", self.gateway_log)
        for _ in range(100):
            try:
                if (await self.http.get("/openapi.json")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(self.gateway_log.read_text())

    async def restart_gateway(self, **settings: str) -> None:
        """A new gateway process on a new port, with `settings` changed."""
        assert self.gateway is not None
        self.gateway.kill()
        self.gateway.wait()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.AsyncClient(base_url=self.url, timeout=60)
        self.vars.update({"FIELD_SERVICE_GATEWAY_PORT": str(self.port), **settings})
        await self.start_gateway()

    async def signed(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A request signed as the `crm` integration (RFC 9421)."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **signing.sign(
            method, self.url + path, raw, "crm", SECRET.encode(), nonce=secrets.token_hex(8))}
        return await self.http.request(method, path, content=raw, headers=headers)

    async def wait_for(self, case_id: str, stage: str, seconds: float = 40,
                       until: Callable[[dict[str, Any]], bool] = lambda _: True,
                       ) -> dict[str, Any]:
        """The case's status once it is in `stage` and `until` holds (read through the
        gateway)."""
        end = time.monotonic() + seconds
        while True:
            r = await self.signed("GET", f"/v1/cases/{case_id}")
            if r.status_code == 200 and r.json()["stage"] == stage and until(r.json()):
                return dict(r.json())
            if time.monotonic() > end:
                raise AssertionError(f"{case_id} not in {stage}: {r.status_code} {r.text[:300]}")
            await asyncio.sleep(0.3)

    async def cli(self, *args: str) -> str:
        """`temporal <args>` against this server; its standard output."""
        proc = await asyncio.create_subprocess_exec(
            server_path("temporal"), *args, "--address", self.vars["TEMPORAL_ADDRESS"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        return out.decode()


@pytest_asyncio.fixture
async def secure(tmp_path: Path) -> AsyncIterator[SecureStack]:
    """A dev server of this test's own, torn down afterwards with the worker and gateway."""
    async with running(SecureStack, tmp_path) as s:
        s.start_worker()
        await s.start_gateway()
        yield s


def decoded_text(value: Any) -> bytes:
    """Every string of a `temporal ... -o json` document, with each payload's base64 `data`
    (and metadata values) decoded: what someone reading the output could decode."""
    out: list[bytes] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str):
            out.append(node.encode())
            if re.fullmatch(r"[A-Za-z0-9+/=]{4,}", node):
                try:
                    out.append(base64.b64decode(node, validate=True))
                except ValueError:
                    pass

    walk(value)
    return b"\n".join(out)


async def test_an_encrypted_case_through_the_gateway_end_to_end(secure: SecureStack) -> None:
    report = om_report("SYS-ENC-1")
    assert report["homeowner"]["phone"] == "+14155550100"
    r = await secure.signed("POST", "/v1/cases/om", report)
    assert r.status_code == 200, r.text
    case_id = r.json()["case_id"]
    first_run = (await secure.wait_for(case_id, "problem_identified"))["instance"]
    event = {"event_id": "mon-1", "resolved": False}
    r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
    assert r.status_code == 200 and r.json()["duplicate"] is False, r.text
    r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text
    await secure.wait_for(case_id, "self_scheduling_texts")

    # The whole history, as the server stores it: every event, every payload, no personal data.
    events = await history_bytes(secure.client, case_id, first_run)
    assert len(events) > 15
    assert all(not any(p in raw for p in PERSONAL) for raw in events)
    assert any(b"binary/encrypted" in raw for raw in events)

    # The CLI without the codec sees ciphertext, even with every base64 field decoded...
    shown = await secure.cli("workflow", "show", "-w", case_id, "-o", "json")
    text = decoded_text(json.loads(shown))
    assert b"binary/encrypted" in text
    assert not any(p in text for p in PERSONAL)
    # ...and with the codec endpoint and a token, the same history reads in the clear.
    codec = ["--codec-endpoint", f"{secure.url}/codec", "--codec-auth", f"Bearer {TOKEN}"]
    shown = await secure.cli("workflow", "show", "-w", case_id, "-o", "json", *codec)
    assert b"4155550100" in decoded_text(json.loads(shown))
    answer = await secure.cli("workflow", "query", "-w", case_id, "--type", "status",
                              "-o", "json", *codec)
    assert '"stage": "self_scheduling_texts"' in answer or \
        '"stage":"self_scheduling_texts"' in answer, answer[:500]

    # The codec endpoint itself: the case's input decodes for a token holder only.
    history = await secure.client.get_workflow_handle(case_id, run_id=first_run).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payload = started.input.payloads[0]
    request = {"payloads": [{
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
        "data": base64.b64encode(payload.data).decode()}]}
    r = await secure.http.post("/codec/decode", json=request)
    assert r.status_code == 401
    r = await secure.http.post("/codec/decode", json=request,
                               headers={"Authorization": "Bearer not-the-token"})
    assert r.status_code == 401
    for path, headers in (("/codec/decode", {"Authorization": f"Bearer {TOKEN}"}),
                          (f"/codec/t/{TOKEN}/decode", {})):
        r = await secure.http.post(path, json=request, headers=headers)
        assert r.status_code == 200
        data = base64.b64decode(r.json()["payloads"][0]["data"])
        assert json.loads(data)["homeowner"]["phone"] == "+14155550100"

    # Neither process logged personal data or a secret.
    secure.worker.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    assert secure.worker.wait(timeout=30) == 0  # type: ignore[union-attr]
    for log in (secure.log, secure.gateway_log):
        logged = log.read_bytes()
        assert not any(p in logged for p in PERSONAL)
        for secret in (TOKEN, SECRET, DIALER_SECRET, secure.vars[
                "FIELD_SERVICE_ENCRYPTION_KEYS"].split(":", 1)[1]):
            assert secret.encode() not in logged
    assert b'"route": "/codec/t/{token}/decode"' in secure.gateway_log.read_bytes()


async def test_an_event_falls_back_to_a_signal_and_a_read_to_visibility_without_a_worker(
        secure: SecureStack, tmp_path: Path) -> None:
    # A gateway that waits 2 s for an Update (the default is 10 s).
    await secure.restart_gateway(FIELD_SERVICE_GATEWAY_UPDATE_TIMEOUT_SECONDS="2")

    r = await secure.signed("POST", "/v1/cases/om", om_report("SYS-ENC-2"))
    case_id = r.json()["case_id"]
    await secure.wait_for(case_id, "problem_identified")
    # (and waits on the monitoring team's remote fix: what the read below shows)
    await secure.find(f'CaseId = "{case_id}" AND WaitingOn = "monitoring"')
    # The worker stops answering (a backlog has the same effect: bench/ingress_backlog.py
    # measures it); the server still takes Signals.
    assert secure.worker is not None
    secure.worker.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        event = {"event_id": "mon-9", "resolved": False}
        r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
        waited = time.monotonic() - started
        assert r.status_code == 202, r.text
        assert r.json() == {"case_id": case_id, "event": "remote_fix_result",
                            "event_id": "mon-9", "delivered_as": "signal"}
        assert 2 <= waited < 15
        # A read does not need the worker either (issue 20, item 5): the gateway answers from
        # the search attributes, saying so, instead of a 503 after 30 s.
        started = time.monotonic()
        r = await secure.signed("GET", f"/v1/cases/{case_id}")
        assert r.status_code == 200, r.text
        assert time.monotonic() - started < 15
        read = r.json()
        assert read["source"] == "visibility" and "did not answer" in read["note"]
        assert (read["case_id"], read["stage"], read["waiting_on"]) == (
            case_id, "problem_identified", "monitoring")
    finally:
        secure.worker.send_signal(signal.SIGCONT)
    # Applied once the worker is back: the stage moved, the event recorded once, and a retry
    # of the same event is a duplicate. The timed-out Update, answered later, is the same
    # event_id: applied once, not twice.
    # (the stage is entered before its first text is sent)
    status = await secure.wait_for(case_id, "self_scheduling_texts", seconds=60,
                                   until=lambda s: s.get("attempts", {}).get("texts") == 1)
    # (scoped to the integration that sent it)
    assert [e["event_id"] for e in status["events"]].count("crm:mon-9") == 1
    assert status["attempts"]["texts"] == 1
    # It arrived as a Signal (the server holds it while the stalled worker's task is open, so
    # it shows in the history once the worker is back).
    history = await secure.client.get_workflow_handle(case_id).fetch_history()
    assert [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")].count(
        "remote_fix_result") == 1
    r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text


async def test_a_key_rotated_in_the_wrong_order_is_reported_and_the_documented_order_heals(
        secure: SecureStack, tmp_path: Path) -> None:
    """Finding 7: a gateway encrypting with a key the workers do not hold yet. The worker
    names the key (log, metric, readiness); adding the key to the worker as decrypt-only (the
    rotation docs/operations.md describes) lets the case go on, nothing lost."""
    old = secure.vars["FIELD_SERVICE_ENCRYPTION_KEYS"]
    new = new_key_setting("e2e-2")
    health, metrics = free_port(), free_port()
    assert secure.worker is not None
    secure.worker.send_signal(signal.SIGTERM)
    secure.worker.wait(timeout=30)
    watched = {"FIELD_SERVICE_HEALTH_PORT": str(health),
               "FIELD_SERVICE_METRICS_PORT": str(metrics)}
    secure.worker = secure.spawn("workers", tmp_path / "worker-2.log", **watched)

    r = await secure.signed("POST", "/v1/cases/om", om_report("SYS-ENC-3"))
    case_id = r.json()["case_id"]
    await secure.wait_for(case_id, "problem_identified")

    # A gateway rolled out first with the new key in front: the wrong order.
    await secure.restart_gateway(FIELD_SERVICE_GATEWAY_UPDATE_TIMEOUT_SECONDS="2",
                                 FIELD_SERVICE_ENCRYPTION_KEYS=f"{new},{old}")
    event = {"event_id": "mon-7", "resolved": False}
    r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
    assert r.status_code == 202, r.text  # durably delivered, but the worker cannot read it

    async with httpx.AsyncClient(timeout=5) as probe:
        for _ in range(100):
            ready = await probe.get(f"http://127.0.0.1:{health}/readyz")
            if ready.status_code == 503:
                break
            await asyncio.sleep(0.2)
        assert ready.status_code == 503
        assert "e2e-2" in ready.text and "FIELD_SERVICE_ENCRYPTION_KEYS" in ready.text
        exported = (await probe.get(f"http://127.0.0.1:{metrics}/metrics")).text
    assert re.search(r'fieldservice_payloads_unknown_key\w*\{[^}]*key_id="e2e-2"', exported), \
        exported[-2000:]
    assert b"e2e-2" in (tmp_path / "worker-2.log").read_bytes()

    # The documented order: the new key added to the workers after theirs (decrypt-only).
    secure.worker.send_signal(signal.SIGTERM)
    secure.worker.wait(timeout=30)
    secure.worker = secure.spawn("workers", tmp_path / "worker-3.log",
                                 FIELD_SERVICE_ENCRYPTION_KEYS=f"{old},{new}", **watched)
    # (the stage is entered before its first text is sent)
    status = await secure.wait_for(case_id, "self_scheduling_texts", seconds=60,
                                   until=lambda s: s.get("attempts", {}).get("texts") == 1)
    assert [e["event_id"] for e in status["events"]].count("crm:mon-7") == 1
    async with httpx.AsyncClient(timeout=5) as probe:
        assert (await probe.get(f"http://127.0.0.1:{health}/readyz")).status_code == 200


def _doc_examples() -> list[tuple[str, list[str]]]:
    """docs/integrations.md's runnable shell examples: each `bash` block with the HTTP
    statuses of the `text` block after it (none for the set-up blocks)."""
    doc = (ROOT / "docs" / "integrations.md").read_text()
    section = doc.split("## Examples with curl", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)
    examples: list[tuple[str, list[str]]] = []
    for lang, body in blocks:
        if lang == "bash":
            examples.append((body, []))
        elif lang == "text" and examples and not examples[-1][1]:
            examples[-1][1].extend(re.findall(r"^HTTP (\d{3})$", body, flags=re.M))
    return examples


def _python_example() -> tuple[str, str]:
    """docs/integrations.md's Python client and the output it shows."""
    doc = (ROOT / "docs" / "integrations.md").read_text()
    section = doc.split("### In Python", 1)[1].split("\n## ", 1)[0]
    [(code, shown)] = re.findall(r"```python\n(.*?)```\s*```text\n(.*?)```", section,
                                 flags=re.S)
    return code, shown


def _project(secure: SecureStack, tmp_path: Path) -> Path:
    """A folder laid out as ./dev up leaves the project: the examples, and var/ with this
    stack's secrets and integrations (owner-only, as starter/local_secrets.py writes them)."""
    work = tmp_path / "project"
    (work / "var").mkdir(parents=True)
    (work / "examples").symlink_to(ROOT / "examples")
    integrations = work / "var" / "integrations.json"
    integrations.write_text(json.dumps(INTEGRATIONS))
    env_file = work / "var" / "secrets.env"
    env_file.write_text(
        f"FIELD_SERVICE_ENCRYPTION_KEYS={secure.vars['FIELD_SERVICE_ENCRYPTION_KEYS']}\n"
        f"FIELD_SERVICE_CODEC_TOKENS={TOKEN}\n"
        "FIELD_SERVICE_INTEGRATIONS=@var/integrations.json\n")
    for path in (integrations, env_file):
        path.chmod(0o600)
    return work


async def test_every_example_in_the_integrations_doc_works_verbatim(
        secure: SecureStack, tmp_path: Path) -> None:
    examples = _doc_examples()
    assert len(examples) >= 7 and sum(len(codes) for _, codes in examples) >= 14
    work = _project(secure, tmp_path)
    marker = f"--- example {secrets.token_hex(4)} ---"
    script = "set -u\n" + "".join(f"{body}\necho '{marker}'\n" for body, _ in examples)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELD_SERVICE_")}
    env["GATEWAY"] = secure.url
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", script, cwd=work, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    outputs = out.decode().split(marker)
    for (body, codes), output in zip(examples, outputs, strict=False):
        got = re.findall(r"^HTTP (\d{3})$", output, flags=re.M)
        assert got == codes, f"{body}\n---\n{output}\n{err.decode()}"

    # The Python client, as an integrator copies it (requests-http-signature), prints what the
    # document shows.
    code, shown = _python_example()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=work, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert out.decode().split() == shown.split(), (out.decode(), shown)
