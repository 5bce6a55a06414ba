"""`./dev up` refuses to start when a server or gateway of an earlier run still holds its ports,
instead of starting a second worker against a server that failed to bind."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# Both cases hold the stack's fixed ports, which `./dev up` checks in turn: run them on one
# xdist worker, one after the other, so one test's port never trips the other's.
@pytest.mark.xdist_group("dev-up-ports")
@pytest.mark.parametrize("port", [7233, 8088])  # the server's, the gateway's
def test_dev_up_refuses_when_its_port_is_taken(port: int) -> None:
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", port))
    except OSError:
        pytest.skip(f"port {port} is already in use on this machine")
    holder.listen()
    try:
        done = subprocess.run(["bash", "dev", "up"], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
    finally:
        holder.close()
    assert done.returncode == 1
    assert f"port {port} is in use" in done.stderr
    assert "waiting for the Temporal dev server" not in done.stdout
