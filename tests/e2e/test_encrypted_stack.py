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
import time
from collections.abc import AsyncIterator
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

SECRET = "e2e-webhook-secret"
TOKEN = "e2e-codec-token"


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
            "FIELD_SERVICE_WEBHOOK_SECRETS": f"crm:{SECRET}",
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

    async def signed(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """A request signed as the `crm` integration."""
        raw = b"" if body is None else json.dumps(body).encode()
        headers = {signing.INTEGRATION_HEADER: "crm",
                   signing.SIGNATURE_HEADER: signing.signature(SECRET.encode(),
                                                               int(time.time()), raw),
                   "Content-Type": "application/json"}
        return await self.http.request(method, path, content=raw, headers=headers)

    async def wait_for(self, case_id: str, stage: str, seconds: float = 40) -> dict[str, Any]:
        """The case's status once it is in `stage` (read through the gateway)."""
        end = time.monotonic() + seconds
        while True:
            r = await self.signed("GET", f"/v1/cases/{case_id}")
            if r.status_code == 200 and r.json()["stage"] == stage:
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
        assert TOKEN.encode() not in logged and SECRET.encode() not in logged
    assert b'"route": "/codec/t/{token}/decode"' in secure.gateway_log.read_bytes()


async def test_an_event_falls_back_to_a_signal_when_the_worker_cannot_answer(
        secure: SecureStack, tmp_path: Path) -> None:
    # A gateway that waits 2 s for an Update (the default is 10 s).
    assert secure.gateway is not None
    secure.gateway.kill()
    secure.gateway.wait()
    secure.port = free_port()
    secure.url = f"http://127.0.0.1:{secure.port}"
    secure.http = httpx.AsyncClient(base_url=secure.url, timeout=60)
    secure.vars.update({"FIELD_SERVICE_GATEWAY_PORT": str(secure.port),
                        "FIELD_SERVICE_GATEWAY_UPDATE_TIMEOUT_SECONDS": "2"})
    await secure.start_gateway()

    r = await secure.signed("POST", "/v1/cases/om", om_report("SYS-ENC-2"))
    case_id = r.json()["case_id"]
    await secure.wait_for(case_id, "problem_identified")
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
    finally:
        secure.worker.send_signal(signal.SIGCONT)
    # Applied once the worker is back: the stage moved, the event recorded once, and a retry
    # of the same event is a duplicate. The timed-out Update, answered later, is the same
    # event_id: applied once, not twice.
    status = await secure.wait_for(case_id, "self_scheduling_texts", seconds=60)
    assert [e["event_id"] for e in status["events"]].count("mon-9") == 1
    assert status["attempts"]["texts"] == 1
    # It arrived as a Signal (the server holds it while the stalled worker's task is open, so
    # it shows in the history once the worker is back).
    history = await secure.client.get_workflow_handle(case_id).fetch_history()
    assert [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")].count(
        "remote_fix_result") == 1
    r = await secure.signed("POST", f"/v1/cases/{case_id}/events/remote_fix_result", event)
    assert r.status_code == 200 and r.json()["duplicate"] is True, r.text


def _doc_examples() -> list[tuple[str, list[str]]]:
    """docs/integrations.md's runnable examples: each `bash` block with the HTTP statuses of
    the `text` block after it (none for the set-up blocks)."""
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


async def test_every_example_in_the_integrations_doc_works_verbatim(
        secure: SecureStack, tmp_path: Path) -> None:
    examples = _doc_examples()
    assert len(examples) >= 7 and sum(len(codes) for _, codes in examples) >= 10
    # The folder the examples run in: the project's examples and a var/secrets.env of this
    # stack (as ./dev up writes it).
    work = tmp_path / "project"
    (work / "var").mkdir(parents=True)
    (work / "examples").symlink_to(ROOT / "examples")
    (work / "var" / "secrets.env").write_text(
        "\n".join(f"{k}={secure.vars[k]}" for k in (
            "FIELD_SERVICE_ENCRYPTION_KEYS", "FIELD_SERVICE_CODEC_TOKENS",
            "FIELD_SERVICE_WEBHOOK_SECRETS")) + "\n")
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
