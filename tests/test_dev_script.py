"""`./dev up` refuses to start when a server of an earlier run still holds its ports, instead
of starting a second worker against a server that failed to bind."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_dev_up_refuses_when_its_port_is_taken() -> None:
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 7233))
    except OSError:
        pytest.skip("port 7233 is already in use on this machine")
    holder.listen()
    try:
        done = subprocess.run(["bash", "dev", "up"], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
    finally:
        holder.close()
    assert done.returncode == 1
    assert "port 7233 is in use" in done.stderr
    assert "waiting for the Temporal dev server" not in done.stdout
