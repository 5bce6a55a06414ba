"""The gateway's perimeter against a real `python -m gateway` process (issue 16, spec 6.1):
a chunked 64 MiB body is refused while it is read, with the process's memory staying well
within its manifest limit (deploy/k8s/common/gateway-deployment.yaml: 384Mi); a client that
sends its headers or its body too slowly is cut off; a forced error logs no secret. No Temporal
server is needed: everything here is decided before a case is reached."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.e2e.test_local_stack import ROOT, free_port

SECRET = "limits-crm-secret-0123456789"
TOKEN = "limits-codec-token-0123456789"
MIB = 1024 * 1024


def _manifest_limit_mib() -> int:
    manifest = ROOT / "deploy" / "k8s" / "common" / "gateway-deployment.yaml"
    doc = yaml.safe_load(manifest.read_text())
    [container] = doc["spec"]["template"]["spec"]["containers"]
    limit = container["resources"]["limits"]["memory"]
    assert limit.endswith("Mi")
    return int(limit[:-2])


class Gateway:
    """`python -m gateway` on a port of its own, with short read deadlines."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / "gateway.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELD_SERVICE_")}
        env.update({
            "FIELD_SERVICE_GATEWAY_PORT": str(self.port),
            "FIELD_SERVICE_INTEGRATIONS": json.dumps({"crm": {
                "secrets": [SECRET], "open": ["*"], "events": ["*"], "read": True}}),
            "FIELD_SERVICE_CODEC_TOKENS": TOKEN,
            "FIELD_SERVICE_GATEWAY_HEADER_TIMEOUT_SECONDS": "1",
            "FIELD_SERVICE_GATEWAY_BODY_TIMEOUT_SECONDS": "1",
            "FIELD_SERVICE_LOG_FORMAT": "console",
            "TEMPORAL_ADDRESS": "127.0.0.1:1",  # nothing there: a signed request gets 503
        })
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(self.log.read_text())

    def memory_kib(self, field: str) -> int:
        """A memory figure of the process from /proc (VmRSS now, VmHWM its peak)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(field)

    def connect(self) -> socket.socket:
        """A raw connection (to send exactly what a hostile client would)."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = Gateway(tmp_path)
    yield g
    g.proc.terminate()
    g.proc.wait(timeout=10)


def _answer(conn: socket.socket) -> bytes:
    """Whatever the server sends until it closes the connection (or 10 s pass)."""
    got = b""
    try:
        while chunk := conn.recv(65536):
            got += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return got


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_a_chunked_64_mib_body_is_refused_while_read_within_the_memory_limit(
        gateway: Gateway) -> None:
    limit = _manifest_limit_mib()
    before = gateway.memory_kib("VmRSS")
    conn = gateway.connect()
    conn.sendall(b"POST /v1/cases/om HTTP/1.1\r\nHost: gateway\r\n"
                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * MIB
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    try:
        for _ in range(64):
            conn.sendall(framed)
            sent += len(chunk)
        conn.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the gateway stopped reading and closed: what this test wants
    answer = _answer(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the body is over 256 KiB" in answer
    # It stopped reading long before the end (what was sent is what the sockets' buffers took).
    assert sent < 32 * MIB, sent
    peak = gateway.memory_kib("VmHWM") // 1024
    grown = (gateway.memory_kib("VmRSS") - before) // 1024
    assert peak < limit, (peak, limit)
    assert grown < 16, grown


def test_headers_sent_too_slowly_are_cut_off(gateway: Gateway) -> None:
    conn = gateway.connect()
    started = time.monotonic()
    conn.sendall(b"POST /v1/cases/om HTTP/1.1\r\nHost: gateway\r\n")
    closed_after = None
    try:
        for _ in range(20):  # a header line every half second: never finished
            time.sleep(0.5)
            conn.sendall(b"X-Slow: 1\r\n")
    except (BrokenPipeError, ConnectionResetError):
        closed_after = time.monotonic() - started
    if closed_after is None:
        assert _answer(conn) == b""
        closed_after = time.monotonic() - started
    conn.close()
    assert closed_after < 5, closed_after


def test_a_body_sent_too_slowly_is_408(gateway: Gateway) -> None:
    conn = gateway.connect()
    body = b'{"event_id": "e-1"}'
    conn.sendall(b"POST /v1/cases/om-SYS-1/events/remote_fix_result HTTP/1.1\r\n"
                 b"Host: gateway\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {len(body) + 100}\r\n\r\n".encode() + body)
    started = time.monotonic()
    answer = _answer(conn)  # the rest never comes
    conn.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 5


def test_former_500_inputs_get_their_4xx_and_log_no_secret(gateway: Gateway) -> None:
    # The inputs that gave 500s (and tracebacks with local variables) before: a huge `created`,
    # a non-ASCII signature, a former-scheme header with a 400-digit t=.
    cases = [
        {"Signature-Input": 'sig1=("@method" "@path");created=' + "9" * 400
                            + ';keyid="crm";alg="hmac-sha256"', "Signature": "sig1=:AAAA:"},
        {"Signature-Input": 'sig1=("@method" "@path");created=1;keyid="crm"',
         "Signature": "sig1=:\u00e9\u00e9:"},
        {"X-FieldService-Integration": "crm", "X-FieldService-Signature": "t=" + "9" * 400},
    ]
    for headers in cases:
        conn = gateway.connect()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode("utf-8")
        conn.sendall(b"GET /v1/cases/om-SYS-1 HTTP/1.1\r\nHost: gateway\r\n" + head
                     + b"Connection: close\r\n\r\n")
        answer = _answer(conn)
        conn.close()
        assert answer.startswith(b"HTTP/1.1 401"), (headers, answer[:300])
    # A signed request while Temporal cannot be reached: 503, not 500.
    from gateway import signing  # noqa: PLC0415

    url = f"http://127.0.0.1:{gateway.port}/v1/cases/om-SYS-1"
    signed = signing.sign("GET", url, b"", "crm", SECRET.encode())
    conn = gateway.connect()
    conn.sendall(b"GET /v1/cases/om-SYS-1 HTTP/1.1\r\n" + f"Host: 127.0.0.1:{gateway.port}\r\n"
                 .encode() + "".join(f"{k}: {v}\r\n" for k, v in signed.items()).encode()
                 + b"Connection: close\r\n\r\n")
    answer = _answer(conn)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:300]
    gateway.proc.terminate()
    gateway.proc.wait(timeout=10)
    logged = gateway.log.read_bytes()
    assert b"request" in logged  # the access log is there...
    assert SECRET.encode() not in logged and TOKEN.encode() not in logged  # ...no secret
