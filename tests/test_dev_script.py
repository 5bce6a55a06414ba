"""`./dev up` refuses to start when a server or gateway of an earlier run still holds its ports,
instead of starting a second worker against a server that failed to bind."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The dev server's and the gateway's fixed ports.
PORTS = (7233, 8088)


def test_dev_up_refuses_when_its_port_is_taken() -> None:
    # One test for both ports, one after the other: two tests holding the stack's ports at once
    # (on two xdist workers) would trip each other. `xdist_group` cannot keep them together:
    # pytest 9.2 silently ignores it (pytest-dev/pytest-xdist#1386).
    for port in PORTS:
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            holder.bind(("127.0.0.1", port))
        except OSError:
            pytest.skip(f"port {port} is already in use on this machine")
        holder.listen()
        try:
            done = subprocess.run(["bash", "dev", "up"], cwd=ROOT, capture_output=True,
                                  text=True, timeout=120, check=False)
        finally:
            holder.close()
        assert done.returncode == 1, port
        assert f"port {port} is in use" in done.stderr
        assert "waiting for the Temporal dev server" not in done.stdout
        # The holder is named (this test's own process), never a pkill of every server.
        import os

        assert f"by pid {os.getpid()}" in done.stderr and f"kill -TERM {os.getpid()}" in (
            done.stderr)
        assert "pkill" not in done.stderr


def test_the_dev_server_registers_every_search_attribute_the_cases_keep() -> None:
    """`./dev up` starts the dev server with the project's search attributes (a list of its
    own, in bash): the same as `workflows/search_attributes.py`'s."""
    import re
    from pathlib import Path

    from workflows.search_attributes import TYPES

    script = (Path(__file__).resolve().parents[1] / "dev").read_text()
    listed = re.search(r"SEARCH_ATTRIBUTES=\(([^)]*)\)", script)
    assert listed is not None
    assert dict(item.split("=") for item in listed.group(1).split()) == TYPES
